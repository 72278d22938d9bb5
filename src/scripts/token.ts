import { parseArgs } from 'node:util';
import { signToken } from '../auth/tokens.js';
import { loadProcessConfig } from '../config.js';

/** `npm run token -- alice [--role organizer] [--expires 12h]` prints a signed token for GraphiQL. */
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { role: { type: 'string', default: 'customer' }, expires: { type: 'string', default: '12h' } },
});
const sub = positionals[0];
if (!sub || (values.role !== 'customer' && values.role !== 'organizer')) {
  console.error('usage: npm run token -- <customer-id> [--role customer|organizer] [--expires 12h]');
  process.exit(2);
}
const config = loadProcessConfig();
try {
  console.log(await signToken(config.jwtSecret, { sub, role: values.role }, values.expires));
} catch (error) {
  if (!(error instanceof RangeError)) throw error;
  console.error(error.message);
  process.exit(2);
}

import { loadProcessConfig } from '../config.js';
import { migrateUrl } from '../db/migrate.js';

/** `npm run db:migrate` applies pending migrations to DATABASE_URL (PGlite migrates itself at start). */
const config = loadProcessConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL is not set: the embedded PGlite database migrates itself at `npm start`.');
  process.exit(1);
}
await migrateUrl(config.databaseUrl);
console.log('migrations applied');

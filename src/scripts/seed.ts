import { seedDemoEvent } from '../catalog/demo.js';
import { loadProcessConfig } from '../config.js';
import { createDatabase } from '../db/client.js';
import { migrateUrl } from '../db/migrate.js';

/** `npm run db:seed` creates the demo event in DATABASE_URL; running it again adds nothing. */
const config = loadProcessConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL is not set: the embedded database is seeded at `npm start`.');
  process.exit(1);
}
await migrateUrl(config.databaseUrl);
const database = await createDatabase({ url: config.databaseUrl, poolSize: 1 });
try {
  const { eventId, ticketsCreated } = await seedDemoEvent(database.db);
  console.log(`demo event ${eventId}: ${ticketsCreated} tickets created`);
} finally {
  await database.close();
}

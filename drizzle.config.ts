import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from src/db/schema.ts; `npm run db:migrate` applies it through
// src/db/migrate.ts, which holds an advisory lock so parallel starts are safe.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  casing: 'snake_case',
});

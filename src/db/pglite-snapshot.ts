import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS_FOLDER, projectPath } from './project-root.js';

/** Where migrated, empty PGlite data directories are kept between starts. */
export const SNAPSHOT_DIR = projectPath('node_modules', '.cache', 'flux-order');

/** A name that changes whenever the migrations or the PGlite version do. */
async function snapshotFile(): Promise<string> {
  const hash = createHash('sha256');
  // The installed PGlite's own package.json: a data directory is only good for the version that wrote it.
  hash.update(await readFile(projectPath('node_modules', '@electric-sql', 'pglite', 'package.json')));
  const files = (await readdir(MIGRATIONS_FOLDER, { recursive: true })).filter((f) => /\.(sql|json)$/.test(f)).sort();
  for (const file of files) hash.update(file).update(await readFile(join(MIGRATIONS_FOLDER, file)));
  return join(SNAPSHOT_DIR, `pglite-${hash.digest('hex').slice(0, 16)}.tar.gz`);
}

/**
 * Starts an in-memory PGlite. Creating a cluster (initdb) takes seconds; loading a dump of one that
 * is already migrated takes under one, so the embedded start uses the snapshot when there is one.
 */
export async function startMemoryPglite(): Promise<{ client: PGlite; fromSnapshot: boolean }> {
  const file = await snapshotFile();
  const dump = await readFile(file).catch(() => undefined);
  if (dump) {
    try {
      return { client: await PGlite.create({ loadDataDir: new Blob([dump]) }), fromSnapshot: true };
    } catch {
      // A damaged snapshot: start fresh, and a new one replaces it.
    }
  }
  const client = new PGlite();
  await client.waitReady;
  return { client, fromSnapshot: false };
}

/** Saves a migrated, still empty cluster for the next start (write-then-rename, so racers are safe). */
export async function saveSnapshot(client: PGlite): Promise<void> {
  const file = await snapshotFile();
  const dump = await client.dumpDataDir('gzip');
  await mkdir(SNAPSHOT_DIR, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, Buffer.from(await dump.arrayBuffer()));
  await rename(temporary, file);
}

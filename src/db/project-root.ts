import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above this module with a package.json. Found rather than
 * written as `../..`, so the path is right from `src/` (tsx, tests) and from the `dist/main.js` bundle.
 */
export function projectPath(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return join(dir, ...parts);
}

/** The committed drizzle-kit migrations. */
export const MIGRATIONS_FOLDER = projectPath('drizzle');

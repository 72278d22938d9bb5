import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes.js';

const run = promisify(execFile);

/** The API as production runs it (`node dist/main.js`); `npm run build` writes it. */
export const API_SCRIPT = 'dist/main.js';
/** The floor server, bundled with the build script's own esbuild flags into a gitignored scratch folder. */
export const FLOOR_SCRIPT = 'loadtest/.build/floor-server.js';

/** What every bundle depends on besides its entry: the code it bundles and the build's definition. */
const SHARED_INPUTS = ['src', 'patches', 'package.json', 'package-lock.json'];

async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  // A folder's own time changes when a file in it is added, removed or renamed.
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestChange(join(path, entry)));
  return newest;
}

async function isStale(script: string, inputs: readonly string[]): Promise<boolean> {
  const built = await stat(join(REPO_ROOT, script)).catch(() => null);
  if (!built) return true;
  const changes = await Promise.all(inputs.map((input) => newestChange(join(REPO_ROOT, input))));
  return Math.max(...changes) > built.mtimeMs;
}

/**
 * The esbuild arguments of package.json's `build:server` script (the API's bundle), as argv: what follows `esbuild` up to the
 * next `&&`, split on spaces outside double quotes, quotes removed.
 */
export function esbuildArguments(buildScript: string): string[] {
  const command = buildScript
    .split('&&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('esbuild '));
  if (!command)
    throw new Error('package.json: the build:server script no longer runs esbuild; update loadtest/compile.ts');
  return [...command.slice('esbuild '.length).matchAll(/(?:[^\s"]+|"[^"]*")+/g)].map((match) =>
    match[0].replace(/"/g, ''),
  );
}

/** The floor's esbuild arguments: the API build's own, pointed at floor-server.ts and the scratch folder. */
export function floorArguments(buildScript: string): string[] {
  const args = esbuildArguments(buildScript);
  const entry = args.indexOf('src/main.ts');
  // The build writes a scratch file and renames it onto dist/main.js, so a server starting meanwhile never reads half a file.
  const outfile = args.findIndex((arg) => arg.startsWith('--outfile=dist/'));
  if (entry < 0 || outfile < 0)
    throw new Error('package.json: the build no longer bundles src/main.ts into dist/; update loadtest/compile.ts');
  args[entry] = 'loadtest/floor-server.ts';
  args[outfile] = `--outfile=${FLOOR_SCRIPT}`;
  return args;
}

/**
 * Compiles the servers a run starts, so every contender runs compiled code as production does: the
 * API with `npm run build`, the floor (when it runs) with the same esbuild flags. Each is built only
 * when it is missing or older than its sources. Returns the scripts it built.
 */
export async function compileServers(withFloor: boolean): Promise<string[]> {
  const built: string[] = [];
  const warn = ({ stderr }: { stderr: string }) => {
    if (stderr.trim()) console.error(stderr.trim());
  };
  if (await isStale(API_SCRIPT, SHARED_INPUTS)) {
    warn(await run('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT }));
    built.push(API_SCRIPT);
  }
  if (withFloor && (await isStale(FLOOR_SCRIPT, [...SHARED_INPUTS, 'loadtest/floor-server.ts']))) {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: { 'build:server': string };
    };
    const esbuild = join(REPO_ROOT, 'node_modules', '.bin', 'esbuild');
    warn(await run(esbuild, floorArguments(pkg.scripts['build:server']), { cwd: REPO_ROOT }));
    built.push(FLOOR_SCRIPT);
  }
  return built;
}

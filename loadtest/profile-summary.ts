import { readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * `tsx loadtest/profile-summary.ts <file.cpuprofile> [top]`: where a `--cpu-prof` profile spent its
 * time, by function (self time) and by package, so a missed target can be explained with evidence.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The package (or `src/…` folder, or `node:` internal) a profiled URL belongs to. */
export function packageOf(url: string): string {
  if (!url) return '(native/idle/gc)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1).replace(/\/[^/]+$/, '/') : url;
}

/** The source maps of the bundles a profile ran (dist/main.js, the floor's), by script URL. */
async function sourceMaps(profile: Profile): Promise<Map<string, SourceMap>> {
  const maps = new Map<string, SourceMap>();
  const bundles = new Set(profile.nodes.map((n) => n.callFrame.url).filter((url) => url.startsWith('file:')));
  for (const url of bundles) {
    try {
      maps.set(url, new SourceMap(JSON.parse(await readFile(`${fileURLToPath(url)}.map`, 'utf8'))));
    } catch {
      // not a bundle, or built without --sourcemap: the frame keeps its own URL
    }
  }
  return maps;
}

/**
 * The servers run esbuild bundles, so every frame's URL is the bundle's: name it by the file it was
 * bundled from (a package, or `src/…`) through the bundle's source map, where there is one.
 */
function originalFrame(frame: ProfileNode['callFrame'], maps: Map<string, SourceMap>): ProfileNode['callFrame'] {
  const entry = maps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !('originalSource' in entry)) return frame;
  return { ...frame, url: entry.originalSource, lineNumber: entry.originalLine };
}

async function main(file: string, top: number): Promise<void> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const maps = await sourceMaps(profile);
  const byId = new Map(profile.nodes.map((n) => [n.id, { ...n, callFrame: originalFrame(n.callFrame, maps) }]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const pkg = packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...map].sort(([, a], [, b]) => b - a).slice(0, top)) console.log(`${pct(us)}  ${name}`);
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s profiled`);
  print('self time by package', byPackage);
  print('self time by function', byFunction);
}

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx loadtest/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
await main(file, Number(top ?? 25));

/**
 * Builds the seat-map page into dist/web: one JavaScript and one CSS file, named by their content hash
 * (so the server can let browsers cache them for good), and index.html pointing at them. Run by
 * `npm run build`; esbuild bundles Preact and the graphql-ws client in, so the page loads nothing from
 * anywhere but its own server. The new build is written beside the old one and swapped in at the end.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'web');
const next = `${out}.next`;

rmSync(next, { recursive: true, force: true });
mkdirSync(next, { recursive: true });
const result = await build({
  entryPoints: { app: join(here, 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome115', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  outdir: join(next, 'assets'),
  metafile: true,
  logLevel: 'warning',
});

const entry = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint);
if (!entry?.[1].cssBundle) throw new Error('web build: no script or no stylesheet came out');
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%SCRIPT%', `/app/assets/${basename(entry[0])}`)
  .replace('%STYLE%', `/app/assets/${basename(entry[1].cssBundle)}`);
writeFileSync(join(next, 'index.html'), html);
rmSync(out, { recursive: true, force: true });
renameSync(next, out);

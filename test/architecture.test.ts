import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const ARCHITECTURE = readFileSync(new URL('../ARCHITECTURE.md', import.meta.url), 'utf8');

/** ARCHITECTURE.md's table: which top-level parts of src/ each part may import. */
const ALLOWED: Record<string, string[]> = {
  'config.ts': [],
  'errors.ts': [],
  'logger.ts': [],
  db: ['db'],
  auth: ['auth'],
  infra: ['infra', 'db', 'catalog', 'config.ts', 'logger.ts'],
  ops: ['ops'],
  catalog: ['catalog', 'db', 'errors.ts'],
  sales: ['sales', 'auth', 'catalog', 'db', 'infra', 'errors.ts', 'config.ts'],
  contenders: ['contenders', 'sales', 'db', 'config.ts'],
  events: ['events', 'catalog', 'db', 'infra'],
  transport: ['transport'],
  site: ['site', 'auth'],
  graphql: [
    ...['graphql', 'auth', 'catalog', 'config.ts', 'db', 'errors.ts', 'events', 'infra', 'logger.ts', 'sales'],
    'transport',
  ],
};
/** Wiring: may import anything. */
const WIRING = ['app.ts', 'main.ts', 'scripts'];
const DOMAIN = ['db', 'infra', 'auth', 'catalog', 'sales', 'contenders', 'events', 'config.ts', 'errors.ts'];
const GRAPHQL_PACKAGES = /^(graphql|graphql-yoga|graphql-ws|@pothos\/.*)$/;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.tsx?$/.test(entry.name)) yield path;
  }
}

const topOf = (file: string) => relative(SRC, file).split('/')[0] as string;

const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] as string);

describe('the layering in ARCHITECTURE.md', () => {
  const files = [...sourceFiles(SRC)];
  const parts = readdirSync(SRC, { withFileTypes: true });

  it('covers every folder and top-level file of src/, and ARCHITECTURE.md names each folder', () => {
    const unlisted = parts.map((p) => p.name).filter((name) => !(name in ALLOWED) && !WIRING.includes(name));
    expect(unlisted).toEqual([]);
    const undocumented = parts
      .filter((p) => p.isDirectory())
      .map((p) => p.name)
      .filter((name) => !ARCHITECTURE.includes(`| \`${name}/\``));
    expect(undocumented).toEqual([]);
  });

  it.each(Object.keys(ALLOWED))('src/%s imports only what the table allows', (part) => {
    const checked = files.filter((f) => topOf(f) === part);
    expect(checked.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const file of checked) {
      for (const specifier of imports(file)) {
        if (specifier.startsWith('.')) {
          const target = topOf(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
          if (!ALLOWED[part]?.includes(target)) violations.push(`${relative(SRC, file)} → ${specifier}`);
        } else if (DOMAIN.includes(part) && GRAPHQL_PACKAGES.test(specifier)) {
          violations.push(`${relative(SRC, file)} → ${specifier} (domain code must not know GraphQL)`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('reads the imports it checks, relative and package ones alike', () => {
    const all = files.flatMap(imports);
    expect(all.filter((s) => s.startsWith('.')).length).toBeGreaterThan(files.length);
    expect(all).toContain('drizzle-orm');
  });

  it('web/ (the browser page) reaches the server only through the API: no import of src/, and none from it', () => {
    const webFiles = [...sourceFiles(fileURLToPath(new URL('../web/src', import.meta.url)))];
    expect(webFiles.length).toBeGreaterThan(0);
    const intoSrc = webFiles.flatMap(imports).filter((specifier) => specifier.includes('/src/'));
    expect(intoSrc).toEqual([]);
    const intoWeb = files.flatMap(imports).filter((specifier) => specifier.includes('/web/'));
    expect(intoWeb).toEqual([]);
  });
});

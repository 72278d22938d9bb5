import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** ARCHITECTURE.md's table: which top-level parts of src/ each domain folder may import. */
const ALLOWED: Record<string, string[]> = {
  'config.ts': [],
  'errors.ts': [],
  db: ['db'],
  locks: ['locks'],
  auth: ['auth'],
  catalog: ['catalog', 'db', 'errors.ts'],
  sales: ['sales', 'auth', 'catalog', 'db', 'locks', 'errors.ts', 'config.ts'],
  events: ['events', 'catalog', 'db'],
  graphql: [
    ...['graphql', 'auth', 'catalog', 'config.ts', 'context.ts', 'db', 'errors.ts', 'events', 'locks', 'logger.ts'],
    'sales',
  ],
};
const DOMAIN = ['db', 'locks', 'auth', 'catalog', 'sales', 'events', 'config.ts', 'errors.ts'];
const GRAPHQL_PACKAGES = /^(graphql|graphql-yoga|graphql-ws|@pothos\/.*)$/;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

const topOf = (file: string) => relative(SRC, file).split('/')[0] as string;

const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] as string);

describe('the layering in ARCHITECTURE.md', () => {
  const files = [...sourceFiles(SRC)];

  it.each(Object.keys(ALLOWED))('src/%s imports only what the table allows', (part) => {
    const violations: string[] = [];
    for (const file of files.filter((f) => topOf(f) === part)) {
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

  it('finds the files it checks', () => {
    expect(files.filter((f) => topOf(f) === 'sales').length).toBeGreaterThan(2);
    expect(imports(join(SRC, 'sales/purchase.ts'))).toContain('./storage.js');
  });
});

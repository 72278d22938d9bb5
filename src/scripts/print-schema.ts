import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type GraphQLSchema, isAbstractType, printSchema } from 'graphql';
import { schema } from '../graphql/schema.js';

/**
 * Every interface and union with the object types that can stand for it, as Apollo Client's
 * `possibleTypes` (and urql's Graphcache) take it: without it, `... on Error { message }` is dropped.
 */
function possibleTypes(of: GraphQLSchema): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const type of Object.values(of.getTypeMap())) {
    if (!isAbstractType(type) || type.name.startsWith('__')) continue;
    result[type.name] = of
      .getPossibleTypes(type)
      .map((member) => member.name)
      .sort();
  }
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * `npm run schema:print` writes schema/schema.graphql and schema/possible-types.json; `-- --check`
 * fails if either is stale.
 */
const files = [
  { target: fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url)), text: `${printSchema(schema)}\n` },
  {
    target: fileURLToPath(new URL('../../schema/possible-types.json', import.meta.url)),
    text: `${JSON.stringify(possibleTypes(schema), null, 2)}\n`,
  },
];

if (process.argv.includes('--check')) {
  for (const { target, text } of files) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== text) {
      console.error(`${target} is stale: run \`npm run schema:print\` and commit it.`);
      process.exit(1);
    }
  }
  console.log('schema/schema.graphql and schema/possible-types.json are up to date.');
} else {
  for (const { target, text } of files) {
    await writeFile(target, text);
    console.log(`wrote ${target}`);
  }
}

import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);

describe('the README', () => {
  it('has GraphQL examples to paste', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it.each(blocks.map((block) => [block.split('\n')[0], block]))('%s … is valid against the schema', (_title, block) => {
    expect(validate(schema, parse(block as string)).map((error) => error.message)).toEqual([]);
  });
});

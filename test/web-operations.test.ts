import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as operations from '../web/src/operations.js';

const schema = buildSchema(readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'));
const documents: Array<[string, string]> = Object.entries(operations as Record<string, unknown>).flatMap(
  ([name, value]) =>
    typeof value === 'string' && /^\s*(query|mutation|subscription)\s/.test(value) ? [[name, value]] : [],
);

describe("the seat-map page's operations", () => {
  it('are all checked here', () => {
    expect(documents.map(([name]) => name).sort()).toEqual(
      ['CHECKOUT', 'EVENTS', 'HOLD', 'HOLD_STATE', 'LIVE', 'ME', 'RELEASE', 'SEAT_PAGE'].sort(),
    );
  });

  it.each(documents)('%s is valid against schema/schema.graphql', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});

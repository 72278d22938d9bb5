import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { responseSize } from '../src/graphql/query-cost.js';
import { schema } from '../src/graphql/schema.js';
import { BOMB, fragmentBomb, SEAT_PAGE } from './helpers/query-bombs.js';

const DEFAULT_MAX_COST = loadConfig({}).maxQueryCost;

describe('the estimated size of a response', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  // Any value of the right type: only Int and Boolean variables can change a cost.
  const variables = { ticketId: 'x', ticketIds: ['x'], holdId: 'x', eventId: 'x' };

  it.each(blocks.map((block) => [block.split('\n')[0], block]))('%s … is well within the limit', (_title, block) => {
    expect(responseSize(schema, parse(block as string), variables)).toBeLessThan(DEFAULT_MAX_COST / 10);
  });

  it('counts a seat-map page at its size, and the bomb at what it would return', () => {
    expect(responseSize(schema, parse(SEAT_PAGE), { e: 'x' })).toBeLessThan(DEFAULT_MAX_COST / 2);
    expect(responseSize(schema, parse(BOMB), { e: 'x', n: 250, m: 1000 })).toBeGreaterThan(250 * 1000 * 7);
    // No sizes: each connection counts at its default page (100 seats), still too many when nested.
    expect(responseSize(schema, parse(BOMB), { e: 'x' })).toBeGreaterThan(DEFAULT_MAX_COST);
  });

  it('clamps first/last to the largest page, as the resolver does', () => {
    expect(responseSize(schema, parse(BOMB), { e: 'x', n: 1, m: 1_000_000 })).toBe(
      responseSize(schema, parse(BOMB), { e: 'x', n: 1, m: 1000 }),
    );
  });

  it('is infinite for fragments spread into fragments past the evaluation limit', () => {
    expect(responseSize(schema, parse(fragmentBomb()), { e: 'x', n: 1 })).toBe(Number.POSITIVE_INFINITY);
  });
});

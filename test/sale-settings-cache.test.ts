import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheSaleSettings, type SaleSettings } from '../src/catalog/sale-settings.js';

const OPEN: SaleSettings = { saleOpensAt: null, saleClosesAt: null, perCustomerLimit: 4 };

/** A reader that knows one event and counts its reads, with a clock the test moves. */
function fixture(maxEvents: number) {
  const known = randomUUID();
  const reads: string[] = [];
  let clock = 0;
  const cache = cacheSaleSettings(
    async (eventId) => {
      reads.push(eventId);
      return eventId === known ? OPEN : null;
    },
    5000,
    { maxEvents, now: () => clock },
  );
  return { cache, known, reads, advance: (ms: number) => (clock += ms) };
}

describe('the sale-settings cache', () => {
  it('stays at its bound however many made-up event ids clients send, and keeps the event in use', async () => {
    const { cache, known, reads } = fixture(100);
    expect(await cache.get(known)).toEqual(OPEN);
    for (let i = 0; i < 10_000; i++) {
      await cache.get(randomUUID());
      if (i % 50 === 0) await cache.get(known); // the event on sale is asked for all the time
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(100);
    expect(reads.filter((id) => id === known)).toHaveLength(1);
  });

  it('still reads an event again after its TTL, and at once after invalidate', async () => {
    const { cache, known, reads, advance } = fixture(10);
    await cache.get(known);
    await cache.get(known);
    expect(reads).toHaveLength(1);
    advance(5001);
    await cache.get(known);
    expect(reads).toHaveLength(2);
    cache.invalidate(known);
    await cache.get(known);
    expect(reads).toHaveLength(3);
  });

  it('forgets a failed read, so the next buyer reads again', async () => {
    let fail = true;
    let reads = 0;
    const cache = cacheSaleSettings(async () => {
      reads++;
      if (fail) throw new Error('database down');
      return OPEN;
    }, 5000);
    await expect(cache.get('e')).rejects.toThrow('database down');
    fail = false;
    expect(await cache.get('e')).toEqual(OPEN);
    expect(reads).toBe(2);
  });
});

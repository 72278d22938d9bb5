import { describe, expect } from 'vitest';
import { purchase } from './helpers/app.js';
import { adjacent, holdBest, seatNames } from './helpers/best-available.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';

/** Front: rows A and B of 6 seats at 50.00; Back: row C of 6 at 20.00; Lawn: 5 GA units at 10.00. */
const SMALL_MAP = [
  { name: 'Front', rows: ['A', 'B'], seatsPerRow: 6, priceCents: 5000 },
  { name: 'Back', rows: ['C'], seatsPerRow: 6, priceCents: 2000 },
  { name: 'Lawn', generalAdmission: true as const, capacity: 5, priceCents: 1000 },
];

for (const kind of ['real', 'embedded'] as const) {
  const it = integrationTest({ kind });

  describe(`best available: the rule on a small map (${kind})`, () => {
    it('sections in order, front rows first, nearest the middle; adjacency skips a row with a gap', async ({ api }) => {
      const { eventGlobalId: eventId, ticketGlobalIds } = await createEventWithTickets(api, {
        seats: 0,
        sections: SMALL_MAP,
      });
      // A3 and A4 are sold: row A is free at 1, 2, 5 and 6 only.
      for (const i of [2, 3])
        expect((await purchase(api, 'early', ticketGlobalIds[i] as string)).__typename).toBe('PurchaseTicketSuccess');
      const best = (sub: string, input: Omit<Parameters<typeof holdBest>[2], 'eventId'>) =>
        holdBest(api, sub, { eventId, ...input });

      // Two together: A1-A2 and A5-A6 are equally near the middle; the left one comes first.
      expect(seatNames(await best('b1', { quantity: 2 }))).toEqual(['A1', 'A2']);
      expect(seatNames(await best('b2', { quantity: 2 }))).toEqual(['A5', 'A6']);
      // Three together: row A is full; in row B, B2-B4 and B3-B5 tie; the left one.
      expect(seatNames(await best('b3', { quantity: 3 }))).toEqual(['B2', 'B3', 'B4']);
      // Row B is free at 1, 5, 6 only: no three side by side there, so row C.
      expect(seatNames(await best('b4', { quantity: 3 }))).toEqual(['C2', 'C3', 'C4']);
      // At most 20.00: only row C, free at 1, 5, 6: the pair C5-C6.
      expect(seatNames(await best('b5', { quantity: 2, maxPriceCents: 2000 }))).toEqual(['C5', 'C6']);
      // Not together: B5 is nearest B's middle, then B1 and B6 tie (the left one first), all in row B.
      expect(seatNames(await best('b6', { quantity: 2, together: false }))).toEqual(['B1', 'B5']);
      // Back has C1 left only.
      expect(await best('b7', { quantity: 2, sections: ['Back'] })).toMatchObject({
        __typename: 'NotEnoughSeats',
        requested: 2,
        available: 1,
      });
      // B6 and C1 are left seated; three together fit nowhere seated, so the Lawn (any three units).
      const lawn = await best('b8', { quantity: 3 });
      expect(lawn.hold?.tickets.map((t) => t.section)).toEqual(['Lawn', 'Lawn', 'Lawn']);
      expect(adjacent(lawn)).toBe(true);
      expect(await best('b9', { quantity: 11 })).toMatchObject({ __typename: 'InvalidInput' });
      expect(await best('b9', { quantity: 1, sections: ['Nowhere'] })).toMatchObject({
        __typename: 'NotEnoughSeats',
        available: 0,
      });

      const sections = await api.gql<{ event: { sections: unknown[] } }>(
        `query($id: ID!) { event(id: $id) { sections { name priceCents generalAdmission available held sold total } } }`,
        { id: eventId },
      );
      expect(sections.data?.event.sections).toEqual([
        { name: 'Front', priceCents: 5000, generalAdmission: false, available: 1, held: 9, sold: 2, total: 12 },
        { name: 'Back', priceCents: 2000, generalAdmission: false, available: 1, held: 5, sold: 0, total: 6 },
        { name: 'Lawn', priceCents: 1000, generalAdmission: true, available: 2, held: 3, sold: 0, total: 5 },
      ]);
      await expectSaleInvariants(api.app.services.db);
    });

    it('a retry with the same key returns the same hold; another quantity under it is refused', async ({ api }) => {
      const { eventGlobalId: eventId } = await createEventWithTickets(api, { seats: 10 });
      const first = await holdBest(api, 'keyed', { eventId, quantity: 2, idempotencyKey: 'k1' });
      const again = await holdBest(api, 'keyed', { eventId, quantity: 2, idempotencyKey: 'k1' });
      expect(again.hold?.id).toBe(first.hold?.id);
      expect((await holdBest(api, 'keyed', { eventId, quantity: 3, idempotencyKey: 'k1' })).__typename).toBe(
        'IdempotencyKeyReused',
      );
      await expectSaleInvariants(api.app.services.db);
    });
  });
}

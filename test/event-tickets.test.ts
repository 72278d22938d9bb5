import { describe, expect, it } from 'vitest';
import { CHECK_BLOCK, EventTickets } from '../src/events/event-tickets.js';
import { ticketRow } from './helpers/ticket-row.js';

const at = new Date('2030-01-01T00:00:00Z');

describe("a live hub's copy of an event", () => {
  it('counts the rows it was given, and moves a ticket between counts on a newer change', () => {
    const tickets = new EventTickets([
      ticketRow('a', 1),
      ticketRow('b', 2),
      ticketRow('c', 3, 'SOLD'),
      ticketRow('d', 4, 'HELD'),
    ]);
    expect(tickets.counts()).toEqual({ available: 2, held: 1, sold: 1, total: 4 });

    expect(tickets.apply({ id: 'a', status: 'SOLD', version: 10, statusChangedAt: at })).toBe('changed');
    expect(tickets.apply({ id: 'd', status: 'AVAILABLE', version: 11, statusChangedAt: at })).toBe('changed');
    expect(tickets.counts()).toEqual({ available: 2, held: 0, sold: 2, total: 4 });
    expect(tickets.row('a')).toMatchObject({ id: 'a', seat: 'a', status: 'SOLD', version: 10, statusChangedAt: at });
  });

  it('ignores a change that is late or repeated, in any order', () => {
    const tickets = new EventTickets([ticketRow('a', 1)]);
    expect(tickets.apply({ id: 'a', status: 'SOLD', version: 5, statusChangedAt: at })).toBe('changed');
    expect(tickets.apply({ id: 'a', status: 'AVAILABLE', version: 3, statusChangedAt: at })).toBe('stale');
    expect(tickets.apply({ id: 'a', status: 'SOLD', version: 5, statusChangedAt: at })).toBe('stale');
    expect(tickets.counts()).toEqual({ available: 0, held: 0, sold: 1, total: 1 });
    expect(tickets.row('a')?.version).toBe(5);
  });

  it('leaves a change to an unknown ticket for a full row, which adds it to the counts', () => {
    const tickets = new EventTickets([ticketRow('a', 1)]);
    expect(tickets.apply({ id: 'z', status: 'SOLD', version: 9, statusChangedAt: at })).toBe('unknown');
    expect(tickets.counts()).toEqual({ available: 1, held: 0, sold: 0, total: 1 });
    expect(tickets.merge(ticketRow('z', 9, 'SOLD'))).toBe('changed');
    expect(tickets.merge(ticketRow('a', 1))).toBe('stale');
    expect(tickets.counts()).toEqual({ available: 1, held: 0, sold: 1, total: 2 });
  });

  it('keeps the count and version sum of each block of positions in step with every change it applies', () => {
    const at0 = { ...ticketRow('a', 1), position: 0 };
    const at1 = { ...ticketRow('b', 2), position: CHECK_BLOCK - 1 };
    const at2 = { ...ticketRow('c', 3), position: CHECK_BLOCK };
    const tickets = new EventTickets([at0, at1, at2]);
    expect(tickets.blockTotals()).toEqual(
      new Map([
        [0, { tickets: 2, versionSum: 3 }],
        [1, { tickets: 1, versionSum: 3 }],
      ]),
    );
    const before = tickets.blockTotals();
    tickets.apply({ id: 'b', status: 'SOLD', version: 10, statusChangedAt: at });
    tickets.apply({ id: 'b', status: 'AVAILABLE', version: 4, statusChangedAt: at }); // stale: no change
    tickets.merge({ ...ticketRow('d', 7), position: 2 * CHECK_BLOCK + 5 });
    expect(tickets.blockTotals()).toEqual(
      new Map([
        [0, { tickets: 2, versionSum: 1 + 10 }],
        [1, { tickets: 1, versionSum: 3 }],
        [2, { tickets: 1, versionSum: 7 }],
      ]),
    );
    expect(before.get(0)).toEqual({ tickets: 2, versionSum: 3 });
  });

  it('never changes a row it handed out, nor counts it returned', () => {
    const tickets = new EventTickets([ticketRow('a', 1)]);
    const before = tickets.row('a');
    const counts = tickets.counts();
    tickets.apply({ id: 'a', status: 'SOLD', version: 2, statusChangedAt: at });
    expect(before).toMatchObject({ status: 'AVAILABLE', version: 1 });
    expect(counts).toEqual({ available: 1, held: 0, sold: 0, total: 1 });
  });
});

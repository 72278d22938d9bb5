import { PURCHASE_LIMITS } from '../../src/sales/sale-request.js';
import { positiveInt } from '../cli-values.js';
import type { ContenderResult } from '../contender-result.js';
import { venueRows } from '../database.js';
import { groupInvariants, groupSaleOf } from './multi-seat-checks.js';
import { groupPurchaseBody, multiSeatTarget } from './multi-seat-target.js';
import { type Scenario, SEATS_OPTION, venueSeats } from './scenario.js';

const groupTable = (results: readonly ContenderResult[]) => [
  '',
  '| strategy | orders (wins) | seats sold / seats | free blocks left | orders/s to the last sale | last sale at | sold seats with a Redis lock key |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => {
    const g = r.sale.group;
    return `| ${r.contender} | ${g?.orders ?? r.load.wins} | ${r.sale.sold} / ${r.sale.seats} | ${g?.freeBlocks ?? '–'} | ${r.sale.salesPerSecond ?? '–'} | ${r.load.lastWinMs ?? '–'} ms | ${r.redis.lockedSeats ?? '–'} |`;
  }),
];

/** What a reader must know to read the rows: what an attempt is, and what the floor does for groups. */
const notes = (group: number, results: readonly ContenderResult[]) => [
  '',
  `- Each attempt is \`purchaseTickets\` for ${group} adjacent seats of one row, all or none; the event's per-customer limit is ${group}. A free block is ${group} adjacent AVAILABLE seats of one row (0: sold out for groups; the seats left are gaps).`,
  ...(results.some((r) => r.contender === 'floor')
    ? [
        '- floor: one Lua script per group (set every key if none exists, else name the ones that do); Redis counts the commands inside it too.',
      ]
    : []),
];

/**
 * The seat-rush venue bought in groups: each buyer asks `purchaseTickets` for `--group` adjacent seats
 * of one row, all or none, and may buy one group (the event's per-customer limit is the group size).
 * Blocks overlap, so groups contend; the load ends when no row has `--group` adjacent seats left.
 */
export const multiSeat: Scenario = {
  name: 'multi-seat',
  summary: 'the seat-rush venue; each buyer asks purchaseTickets for --group adjacent seats of one row',
  options: [
    SEATS_OPTION,
    {
      name: 'group',
      usage: `K  adjacent seats in one row per purchase, 1-${PURCHASE_LIMITS.maxSeats}; also the per-customer limit (default 4)`,
    },
  ],
  configure(values) {
    const seats = venueSeats(values);
    const group = positiveInt('group', values.group, 4);
    const row = Math.max(...venueRows(seats));
    if (group > PURCHASE_LIMITS.maxSeats || group > row)
      throw new Error(`--group: ${group} must be at most ${PURCHASE_LIMITS.maxSeats} and fit in a row of ${row} seats`);
    return {
      settings: { seats, group },
      label: `multi-seat (groups of ${group})`,
      seats,
      perCustomerLimit: group,
      seatsPerPurchase: group,
      bodyOf: groupPurchaseBody,
      start(venue) {
        const target = multiSeatTarget(venue.ticketGlobalIds, venue.rowLengths, group);
        let freeBlocks: number | null = null;
        return {
          target,
          async checks(sql, eventId) {
            const sale = groupSaleOf(target, venue.ticketIds, venue.rowLengths, group);
            const checked = await groupInvariants(sql, eventId, sale);
            freeBlocks = checked.freeBlocks;
            return checked.results;
          },
          figures: ({ orders }) => {
            // The floor has no database: the blocks the generator still saw open.
            const free = freeBlocks ?? target.openBlocks();
            return { soldOut: free === 0, group: { size: group, perCustomerLimit: group, orders, freeBlocks: free } };
          },
        };
      },
      // The latency, ratio and sales/s targets are for one-seat purchases; 0 oversells and
      // sold = wins (judged for every scenario) are the ones that apply to groups.
      judge: () => [],
      reportLines: (results) => [...groupTable(results), ...notes(group, results)],
    };
  },
};

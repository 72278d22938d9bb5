import type { ContenderResult } from '../contender-result.js';
import { met, oneSeatGoals } from '../goals.js';
import { RandomPool } from '../random-pool.js';
import { oneSeatBody, purchaseBodies, type Target } from '../targets.js';
import { type Scenario, SEATS_OPTION, venueSeats } from './scenario.js';

/**
 * Buyers pick a random seat among those the generator has not yet seen sold (a win, or a SOLD
 * answer). Seats being checked out stay in the pool, so late buyers meet LOCKED as real ones do.
 */
export function seatRushTarget(ticketGlobalIds: readonly string[], random: () => number = Math.random): Target {
  const unseen = new RandomPool(ticketGlobalIds.length);
  return {
    bodies: purchaseBodies(ticketGlobalIds),
    next: () => unseen.draw(random),
    observe(index, outcome) {
      if (outcome.kind === 'win' || (outcome.kind === 'reject' && outcome.reason === 'SOLD')) unseen.remove(index);
    },
  };
}

const saleTable = (results: readonly ContenderResult[]) => [
  '',
  '| strategy | sold / seats | sales/s to the last sale | last sale at |',
  '| --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.contender} | ${r.sale.sold} / ${r.sale.seats} | ${r.sale.salesPerSecond ?? '–'} | ${r.load.lastWinMs ?? '–'} ms |`,
  ),
];

/** A venue of `--seats` emptied one random seat at a time; the load ends at sell-out. */
export const seatRush: Scenario = {
  name: 'seat-rush',
  summary: 'a venue of --seats; each buyer picks a random seat not yet seen sold; ends at sell-out',
  options: [SEATS_OPTION],
  configure(values) {
    const seats = venueSeats(values);
    return {
      settings: { seats },
      label: 'seat-rush',
      seats,
      perCustomerLimit: null,
      seatsPerPurchase: 1,
      bodyOf: oneSeatBody,
      start: (venue) => ({
        target: seatRushTarget(venue.ticketGlobalIds),
        figures: ({ sold }) => ({ soldOut: sold === seats }),
      }),
      judge(options, product, results) {
        const { sale } = product;
        const winP99 = product.load.latency.fromSchedule.wins.p99;
        return [
          ...oneSeatGoals(options, product, results),
          {
            goal: `seat rush: exactly ${sale.seats} sold, ≥ 1,000 sales/s, winner p99 ≤ 25 ms from schedule (redis-lock)`,
            verdict: met(sale.soldOut && (sale.salesPerSecond ?? 0) >= 1000 && winP99 <= 25),
            evidence: `${sale.sold} sold, ${sale.salesPerSecond ?? 0} sales/s to the last sale, winner p99 ${winP99} ms`,
          },
        ];
      },
      reportLines: saleTable,
    };
  },
};

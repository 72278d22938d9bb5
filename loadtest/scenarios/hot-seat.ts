import { met, oneSeatGoals } from '../goals.js';
import { oneSeatBody, purchaseBodies } from '../targets.js';
import type { Scenario } from './scenario.js';

/** A venue of 1 seat that every buyer wants, for the whole run: the refusal path under load. */
export const hotSeat: Scenario = {
  name: 'hot-seat',
  summary: 'a venue of 1 seat; every buyer wants it',
  options: [],
  configure: () => ({
    settings: { seats: 1 },
    label: 'hot-seat',
    seats: 1,
    perCustomerLimit: null,
    seatsPerPurchase: 1,
    bodyOf: oneSeatBody,
    start: (venue) => ({
      target: { bodies: purchaseBodies(venue.ticketGlobalIds.slice(0, 1)), next: () => 0, observe() {} },
      figures: ({ sold }) => ({ soldOut: sold === 1 }),
    }),
    judge(options, product, results) {
      const { rejects } = product.load.latency.fromSchedule;
      const latency =
        options.shape.kind === 'open'
          ? [
              {
                goal: `hot seat at ${options.shape.rate}/s: rejection p50 ≤ 3 ms and p99 ≤ 20 ms from schedule (redis-lock)`,
                verdict: met(rejects.p50 <= 3 && rejects.p99 <= 20),
                evidence: `p50 ${rejects.p50} ms, p99 ${rejects.p99} ms over ${rejects.count} rejections; achieved ${product.attemptsPerSecond} attempts/s`,
              },
            ]
          : [];
      return [...latency, ...oneSeatGoals(options, product, results)];
    },
  }),
};

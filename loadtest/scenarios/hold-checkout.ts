import { randomUUID } from 'node:crypto';
import { parseDuration } from '../cli-values.js';
import { BLOCKING_HOLDS, holdBody, MOST_SEATS, type Settings } from './hold-checkout-buyers.js';
import { consoleLines, judge, reportLines } from './hold-checkout-report.js';
import { HoldCheckoutRun } from './hold-checkout-run.js';
import { type Scenario, SEATS_OPTION, venueSeats } from './scenario.js';

/** A number option within [min, max]; `fallback` when not given. */
function numberIn(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name}: "${text}" is not a number from ${min} to ${max}`);
  return value;
}

function thinkTime(text: string | undefined): number {
  try {
    return parseDuration(text ?? '2s');
  } catch {
    throw new Error(`--think: "${text}" is not a duration like 2s`);
  }
}

/**
 * Buyers hold 1-4 seats at the load's rate (`holdSeats`, each with its own idempotency key); a
 * share check out (`checkout`) a think time after the hold's answer, the rest walk away and their
 * holds expire. Holds are short (`--hold-seconds`), so expiry happens during the run; a graphql-ws
 * subscriber watches the event. Before the load, a refusal-only window measures what refused holds
 * cost Postgres; after it, the run waits until every hold has expired and a second more, then checks
 * the holds in SQL. Runs on redis-lock only.
 */
export const holdCheckout: Scenario = {
  name: 'hold-checkout',
  summary: 'buyers hold 1-4 seats of --seats; a share check out after a think time, the rest let the hold expire',
  options: [
    SEATS_OPTION,
    { name: 'hold-seconds', usage: 'S  how long a hold lasts, 2-3600 s (HOLD_TTL_MS; default 5)' },
    { name: 'think', usage: '2s  from a hold to its checkout (ms, s or m; default 2s)' },
    { name: 'checkout-share', usage: 'F  share of holds checked out, 0-1 (default 0.7)' },
  ],
  configure(values) {
    const settings: Settings = {
      seats: venueSeats(values),
      holdSeconds: numberIn('hold-seconds', values['hold-seconds'], 5, 2, 3600),
      thinkMs: thinkTime(values.think),
      checkoutShare: numberIn('checkout-share', values['checkout-share'], 0.7, 0, 1),
    };
    if (settings.seats < 2 * BLOCKING_HOLDS * MOST_SEATS)
      throw new Error(`--seats: hold-checkout needs at least ${2 * BLOCKING_HOLDS * MOST_SEATS}`);
    return {
      settings: { ...settings },
      label: `hold-checkout (${settings.holdSeconds} s holds, ${Math.round(settings.checkoutShare * 100)} % check out after ${settings.thinkMs / 1000} s)`,
      seats: settings.seats,
      perCustomerLimit: null,
      // The most a buyer holds: each server's warm-up holds this many seats.
      seatsPerPurchase: MOST_SEATS,
      bodyOf: (ids) => holdBody(ids, randomUUID()),
      runsOn: {
        strategies: ['redis-lock'],
        why: 'a hold always goes through the Redis lock (PURCHASE_STRATEGY only picks how purchaseTicket(s) sell), and the floor server has no holds, so there is nothing to compare',
      },
      serverEnv: { HOLD_TTL_MS: String(Math.round(settings.holdSeconds * 1000)) },
      countStatements: true,
      start: (venue) => new HoldCheckoutRun(venue, settings),
      judge: (_options, product) => judge(product),
      reportLines,
      consoleLines,
    };
  },
};

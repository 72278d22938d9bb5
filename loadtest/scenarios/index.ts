import { bestAvailable, gaRush } from './best-available.js';
import { holdCheckout } from './hold-checkout.js';
import { hotSeat } from './hot-seat.js';
import { multiSeat } from './multi-seat.js';
import type { Scenario } from './scenario.js';
import { seatRush } from './seat-rush.js';

/**
 * Every scenario `npm run loadtest` knows. A new one is a file in this folder (its name, options,
 * target, checks and goals: see scenario.ts) and one line here; the command line, the runner and the
 * report read them from this list.
 */
export const SCENARIOS: readonly Scenario[] = [hotSeat, seatRush, multiSeat, holdCheckout, bestAvailable, gaRush];

/** The registered scenario called `name`, if any. */
export const scenarioNamed = (name: string): Scenario | undefined => SCENARIOS.find((s) => s.name === name);

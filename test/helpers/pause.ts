import type { PurchaseHooks } from '../../src/sales/locked-sale.js';

/** A pause one test arms: the holder it catches has `reached` it and waits until `release()`. */
export interface ArmedPause {
  reached: Promise<void>;
  release: () => void;
}

/**
 * An instance's `afterLock` hook that stops the next lock holder after `arm()` (a GC pause or a
 * stalled network, for as long as the test wants), and lets every other one through.
 */
export function pauseAfterLock(): { hooks: PurchaseHooks; arm: () => ArmedPause } {
  let armed: { reached: () => void; gate: Promise<void> } | undefined;
  const hooks: PurchaseHooks = {
    afterLock: async () => {
      const current = armed;
      if (!current) return;
      armed = undefined;
      current.reached();
      await current.gate;
    },
  };
  const arm = (): ArmedPause => {
    let release = () => {};
    let reached = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    armed = { reached, gate };
    return { reached: reachedPromise, release };
  };
  return { hooks, arm };
}

import { onTestFinished, vi } from 'vitest';
import type { TestApp } from './app.js';

/**
 * Watches `testApp`'s ticket lock until the test ends, and returns what it has been asked for: every
 * key passed to `acquire` or `acquireAll` since, in order (ticket ids, and idempotency keys). Unlike
 * looking at Redis afterwards, this also sees a lock that was taken and released again.
 */
export function lockRequests(testApp: TestApp): () => string[] {
  const acquire = vi.spyOn(testApp.app.backends.lock, 'acquire');
  const acquireAll = vi.spyOn(testApp.app.backends.lock, 'acquireAll');
  onTestFinished(() => {
    acquire.mockRestore();
    acquireAll.mockRestore();
  });
  return () => {
    const calls = [
      ...acquire.mock.calls.map(([seat], i) => ({ keys: [seat], order: acquire.mock.invocationCallOrder[i] ?? 0 })),
      ...acquireAll.mock.calls.map(([keys], i) => ({ keys, order: acquireAll.mock.invocationCallOrder[i] ?? 0 })),
    ];
    return calls.sort((a, b) => a.order - b.order).flatMap((call) => call.keys.map((seat) => seat.ticketId));
  };
}

/**
 * Listens, beside `testApp`'s own listener, for a message that `eventId`'s sale changed, and returns a
 * wait for it. `testApp` registered its listener first, so by the time the wait resolves it has acted
 * on the message. Call this before making the change.
 */
export async function saleChangeHeardBy(
  testApp: TestApp,
  eventId: string,
): Promise<(timeoutMs?: number) => Promise<void>> {
  let heard = () => {};
  const message = new Promise<void>((resolve) => {
    heard = resolve;
  });
  const stopListening = await testApp.app.backends.bus.onSaleChanged((changed) => {
    if (changed === eventId) heard();
  });
  onTestFinished(stopListening);
  return async (timeoutMs = 5000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no sale change for ${eventId} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([message, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

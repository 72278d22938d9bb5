import type { Lease, TicketLock } from '../infra/ticket-lock.js';
import { TicketsUnavailableError, type UnavailableTicket } from './errors.js';
import type { SaleRequest } from './sale-request.js';

/** What settling leases needs: the lock, and where to report a Redis error (the database has decided). */
export interface LeaseDeps {
  lock: TicketLock;
  onLockError: (error: unknown) => void;
  /** Told how long taking a request's locks took (one pipelined round trip), in seconds. */
  lockTaken?: ((seconds: number) => void) | undefined;
}

/**
 * Takes every seat's lock in sorted order, in one pipelined batch. Nobody waits for a lock, so
 * overlapping buyers cannot deadlock. When any seat is refused, the locks taken are released and the
 * refusal names every seat that was unavailable; no database query is made.
 *
 * @throws TicketsUnavailableError
 */
export async function lockSeats(deps: LeaseDeps, request: SaleRequest): Promise<Lease[]> {
  const started = performance.now();
  const attempts = await Promise.all(request.ticketIds.map((ticketId) => deps.lock.acquire(ticketId)));
  deps.lockTaken?.((performance.now() - started) / 1000);
  const leases: Lease[] = [];
  const refused: UnavailableTicket[] = [];
  attempts.forEach((attempt, i) => {
    if (attempt.acquired) leases.push(attempt.lease);
    else {
      const ticketId = request.ticketIds[i] as string;
      refused.push({ ticketId, eventId: request.eventId, reason: attempt.reason, holder: attempt.holder });
    }
  });
  if (refused.length > 0) {
    await releaseAll(deps, leases);
    throw new TicketsUnavailableError(refused);
  }
  return leases;
}

/** Frees every lease that still owns its lock. */
export function releaseAll(deps: LeaseDeps, leases: readonly Lease[]) {
  return Promise.all(leases.map((lease) => deps.lock.release(lease).catch(deps.onLockError)));
}

/** Turns every lease into the sold mark (naming `buyer` when known). */
export function markAllSold(deps: LeaseDeps, leases: readonly Lease[], buyer?: string) {
  return Promise.all(leases.map((lease) => deps.lock.markSold(lease, buyer).catch(deps.onLockError)));
}

/**
 * After the database refused: seats it says are sold get their sold mark back (it heals after a
 * Redis flush; the buyer is not read here, so the mark names none), and the other locks are freed.
 */
export function settleRefusedLeases(deps: LeaseDeps, leases: readonly Lease[], refusal: unknown) {
  const sold = new Set(
    refusal instanceof TicketsUnavailableError
      ? refusal.tickets.filter((t) => t.reason === 'SOLD').map((t) => t.ticketId)
      : [],
  );
  return Promise.all([
    markAllSold(
      deps,
      leases.filter((lease) => sold.has(lease.ticketId)),
    ),
    releaseAll(
      deps,
      leases.filter((lease) => !sold.has(lease.ticketId)),
    ),
  ]);
}

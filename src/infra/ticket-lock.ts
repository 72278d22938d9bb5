/** Proof of holding a ticket's lock: only the holder of `token` may release it or mark it sold. */
export interface Lease {
  ticketId: string;
  token: string;
}

/** Why a ticket could not be locked: someone holds it now, or it carries the sold mark. */
export type LockRefusal = 'LOCKED' | 'SOLD';

/** A refusal; a sold mark may name its buyer (`soldTo`), which lets a retried idempotency key know its own seat. */
export type Refusal = { reason: LockRefusal; soldTo?: string | undefined };

export type AcquireResult = { acquired: true; lease: Lease } | ({ acquired: false } & Refusal);

/**
 * The per-ticket lock that turns losers away before they cost a database query.
 *
 * One key per ticket holds either a holder's random token (with the lock TTL) or the sold mark
 * (with a long TTL). The lock is an optimisation and a courtesy to Postgres, never the guarantee:
 * the database refuses a second sale on its own.
 */
export interface TicketLock {
  /** One round trip: take the lock, or learn whether it is held or the ticket is marked sold. */
  acquire(ticketId: string): Promise<AcquireResult>;
  /** Compare-and-delete: frees the lock only if this lease still owns it. */
  release(lease: Lease): Promise<boolean>;
  /**
   * Compare-and-set: turns this lease's lock into the sold mark, only if the lease still owns it. The
   * mark names `buyer` when given (the customer whose order now holds the seat).
   */
  markSold(lease: Lease, buyer?: string): Promise<boolean>;
  /**
   * Clears the ticket's key, whatever it holds, once the database has put the ticket back on sale (a
   * cancelled order). A holder's lock goes too: a refused buyer who read SOLD just before the release
   * could otherwise turn its lock into a sold mark that hides the free seat until the mark expires.
   * The holder's later release or markSold then finds nothing to change; Postgres still guards the sale.
   */
  reopen(ticketId: string): Promise<void>;
  close(): Promise<void>;
}

/** The value a ticket's key holds once the ticket is sold. Tokens are UUIDs, so they never start with it. */
export const SOLD_MARK = 'sold';

/** The sold mark for a seat bought by `buyer`, or the bare mark when the buyer is not known here. */
export function soldMark(buyer?: string): string {
  return buyer === undefined ? SOLD_MARK : `${SOLD_MARK}:${buyer}`;
}

/** Why a key's current value refuses the lock: a holder's token, or a sold mark (and its buyer, if named). */
export function refusalOf(value: string): Refusal {
  if (value === SOLD_MARK) return { reason: 'SOLD' };
  if (value.startsWith(`${SOLD_MARK}:`)) return { reason: 'SOLD', soldTo: value.slice(SOLD_MARK.length + 1) };
  return { reason: 'LOCKED' };
}

/** Lock timings shared by every implementation. */
export interface LockTimings {
  lockTtlMs: number;
  soldMarkTtlMs: number;
}

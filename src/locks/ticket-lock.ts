/** Proof of holding a ticket's lock: only the holder of `token` may release it or mark it sold. */
export interface Lease {
  ticketId: string;
  token: string;
}

/** Why a ticket could not be locked: someone holds it now, or it carries the sold mark. */
export type LockRefusal = 'LOCKED' | 'SOLD';

export type AcquireResult = { acquired: true; lease: Lease } | { acquired: false; reason: LockRefusal };

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
  /** Compare-and-set: turns this lease's lock into the sold mark, only if the lease still owns it. */
  markSold(lease: Lease): Promise<boolean>;
  /**
   * Clears the ticket's key, whatever it holds, once the database has put the ticket back on sale (a
   * cancelled order). A holder's lock goes too: a refused buyer who read SOLD just before the release
   * could otherwise turn its lock into a sold mark that hides the free seat until the mark expires.
   * The holder's later release or markSold then finds nothing to change; Postgres still guards the sale.
   */
  reopen(ticketId: string): Promise<void>;
  close(): Promise<void>;
}

/** The value a ticket's key holds once the ticket is sold. Tokens are hex, so they never equal it. */
export const SOLD_MARK = 'sold';

/** Lock timings shared by every implementation. */
export interface LockTimings {
  lockTtlMs: number;
  soldMarkTtlMs: number;
}

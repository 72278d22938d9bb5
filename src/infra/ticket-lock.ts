import type { TicketKey } from '../catalog/ticket-key.js';

/**
 * Proof of holding a ticket's lock: only the holder of `token` may release it or mark it sold. The
 * event is part of the seat's name, since its key lives in the event's hash tag (redis-keys.ts).
 */
export interface Lease extends TicketKey {
  token: string;
}

/** The value a restored mark's key holds. */
export function restoredMarkValue(mark: RestoredMark): string {
  return mark.status === 'SOLD' ? soldMark(mark.buyer ?? undefined) : heldMark(mark.buyer ?? '');
}

/** Why a ticket could not be locked: a request has it now, a buyer's hold keeps it, or it is sold. */
export type LockRefusal = 'LOCKED' | 'HELD' | 'SOLD';

/**
 * A refusal; a hold or sold mark may name its buyer (`holder`), which lets a retried idempotency key
 * know its own seat.
 */
export type Refusal = { reason: LockRefusal; holder?: string | undefined };

export type AcquireResult = { acquired: true; lease: Lease } | ({ acquired: false } & Refusal);

/** A seat that refused its lock, and why. */
export type SeatRefusal = { ticketId: string } & Refusal;

/** Several seats at once: every lease, or none held and every seat that refused. */
export type AcquireAllResult = { acquired: true; leases: Lease[] } | { acquired: false; refused: SeatRefusal[] };

/**
 * The per-ticket lock that turns losers away before they cost a database query.
 *
 * One key per ticket holds a request's random token (with the lock TTL), a hold mark (until the
 * hold expires), or the sold mark (with a long TTL). The lock is an optimisation and a courtesy to Postgres, never the guarantee:
 * the database refuses a second sale on its own.
 */
export interface TicketLock {
  /** One round trip: take the lock, or learn whether it is held or the ticket is marked sold. */
  acquire(seat: TicketKey): Promise<AcquireResult>;
  /**
   * All or nothing: takes every seat's lock (`seats` distinct, in the caller's fixed order), or
   * keeps none and names every seat that refused. On a Redis error, whatever was taken is released
   * and the error is thrown.
   */
  acquireAll(seats: readonly TicketKey[]): Promise<AcquireAllResult>;
  /**
   * Compare-and-delete: frees the lock only if this lease still owns it. The seat counts as free
   * again in the event's free-seat index, if the index had it as taken.
   */
  release(lease: Lease): Promise<boolean>;
  /**
   * Compare-and-set: turns this lease's lock into the sold mark, only if the lease still owns it. The
   * mark names `buyer` when given (the customer whose order now holds the seat).
   */
  markSold(lease: Lease, buyer?: string): Promise<boolean>;
  /** Compare-and-set: turns this lease's lock into a hold mark naming `buyer`, which lasts `ttlMs`. */
  markHeld(lease: Lease, buyer: string, ttlMs: number): Promise<boolean>;
  /**
   * After a checkout: turns `buyer`'s hold marks on these seats into sold marks. A key that holds
   * anything else (nothing, after a flush; or a cancel that already cleared it) is left alone, and
   * Postgres still refuses the seat to the next buyer who reaches it.
   */
  heldToSold(eventId: string, ticketIds: readonly string[], buyer: string): Promise<void>;
  /**
   * Clears the ticket's key, whatever it holds, once the database has put the ticket back on sale (a
   * cancelled order, a released or expired hold). A holder's lock goes too: a refused buyer who read SOLD just before the release
   * could otherwise turn its lock into a sold mark that hides the free seat until the mark expires.
   * The holder's later release or markSold then finds nothing to change; Postgres still guards the sale.
   * The seat is free again in the event's free-seat index.
   */
  reopen(seat: TicketKey): Promise<void>;
  /**
   * The event is new: none of its seats has been sold or held, so its marks are complete from now
   * on. Called before the event's creation commits; nothing can be sold before that.
   */
  openMarks(eventId: string): Promise<void>;
  /**
   * The event's seat marks now (one round trip), read by a keyed loser refused LOCKED
   * (sales/idempotency.ts) and for the epoch that a request's leases carry (sales/marks.ts). The
   * first read after a loss finds the event's record missing and starts a new epoch.
   */
  marks(eventId: string): Promise<MarksState>;
  /**
   * The epoch to stamp on leases taken after this call returns: read before the locks are taken, so
   * a lock taken before a loss never carries the epoch that follows it. The product's lock caches it
   * briefly (sales/marks.ts); here it is {@link marks}' epoch.
   */
  leaseEpoch(eventId: string): Promise<number>;
  /**
   * Puts Postgres's sold and held seats back as marks, for `epoch` only (nothing is written once
   * another loss has started a newer one). A key that holds another mark is overwritten; a key that
   * holds a request's lock is left alone and named pending (its holder is the seat's winner about to
   * mark it, or a buyer who will lose in Postgres). With `vouch`, when none is pending, the epoch's
   * marks are declared whole from now on.
   */
  restoreMarks(eventId: string, epoch: number, marks: readonly RestoredMark[], vouch: boolean): Promise<RestoreResult>;
  /**
   * Moves the event's epoch from `from` to the later `to`, unvouched, if it is still `from`: for an
   * epoch that Postgres has already fenced past (a Redis whose clock is behind an earlier one's).
   */
  advanceEpoch(eventId: string, from: number, to: number): Promise<boolean>;
  /**
   * Told that Postgres refused a request's leases as older than the event's fence (sales/marks.ts),
   * which may mean this Redis holds an epoch Postgres has fenced past (restored from an old
   * snapshot): the product's lock then moves it on. The plain locks ignore it.
   */
  fenced?(eventId: string): void;
  close(): Promise<void>;
}

/**
 * An event's seat marks: `epoch` names the stretch of time they have been kept in (0 from the event's
 * creation; after a loss, the Redis time it was found at), `whole` says every sale and hold has its
 * mark, and `keptMs` for how long that has been so: the sold mark's TTL when whole, else the time
 * since the epoch began, at most that TTL.
 */
export interface MarksState {
  epoch: number;
  whole: boolean;
  keptMs: number;
}

/** A mark to put back: the seat, sold or held by `buyer` (null: a sold seat whose buyer is unknown), lasting `ttlMs`. */
export interface RestoredMark {
  ticketId: string;
  status: 'SOLD' | 'HELD';
  buyer: string | null;
  /** A hold's time left; a sold mark lasts the sold mark's TTL. */
  ttlMs?: number | undefined;
}

/** What {@link TicketLock.restoreMarks} did: `lost` when another loss began a newer epoch meanwhile. */
export type RestoreResult = { lost: true } | { lost: false; pending: string[]; vouched: boolean };

/** The value a ticket's key holds once the ticket is sold. Tokens are UUIDs, so they never start with it. */
export const SOLD_MARK = 'sold';

/** The value a held ticket's key holds, followed by `:` and the buyer. */
export const HELD_MARK = 'held';

/** The sold mark for a seat bought by `buyer`, or the bare mark when the buyer is not known here. */
export function soldMark(buyer?: string): string {
  return buyer === undefined ? SOLD_MARK : `${SOLD_MARK}:${buyer}`;
}

/** The hold mark for a seat `buyer` holds. */
export function heldMark(buyer: string): string {
  return `${HELD_MARK}:${buyer}`;
}

/** Why a key's current value refuses the lock: a request's token, or a hold or sold mark (and its buyer, if named). */
export function refusalOf(value: string): Refusal {
  if (value === SOLD_MARK) return { reason: 'SOLD' };
  if (value.startsWith(`${SOLD_MARK}:`)) return { reason: 'SOLD', holder: value.slice(SOLD_MARK.length + 1) };
  if (value.startsWith(`${HELD_MARK}:`)) return { reason: 'HELD', holder: value.slice(HELD_MARK.length + 1) };
  return { reason: 'LOCKED' };
}

/** A {@link MarksState} from an epoch, the time since it began, and whether it is vouched for. */
export function marksState(epoch: number, sinceMs: number, whole: boolean, soldMarkTtlMs: number): MarksState {
  return { epoch, whole, keptMs: whole ? soldMarkTtlMs : Math.min(sinceMs, soldMarkTtlMs) };
}

/** How long a restored mark lasts: a hold's time left, or the sold mark's TTL. */
export function markTtl(mark: RestoredMark, timings: LockTimings): number {
  return mark.status === 'HELD' ? Math.max(1, mark.ttlMs ?? 1) : timings.soldMarkTtlMs;
}

/** Lock timings shared by every implementation. */
export interface LockTimings {
  lockTtlMs: number;
  soldMarkTtlMs: number;
}

/**
 * {@link TicketLock.acquireAll} over single-seat `acquire`s sent together: every lock, or none kept
 * (the ones taken are released; a failed release is left to the lock TTL).
 */
export async function acquireEach(
  lock: Pick<TicketLock, 'acquire' | 'release'>,
  seats: readonly TicketKey[],
): Promise<AcquireAllResult> {
  const attempts = await Promise.allSettled(seats.map((seat) => lock.acquire(seat)));
  const leases: Lease[] = [];
  const refused: SeatRefusal[] = [];
  let failure: { reason: unknown } | undefined;
  attempts.forEach((settled, i) => {
    if (settled.status === 'rejected') failure ??= settled;
    else if (settled.value.acquired) leases.push(settled.value.lease);
    else
      refused.push({
        ticketId: (seats[i] as TicketKey).ticketId,
        reason: settled.value.reason,
        holder: settled.value.holder,
      });
  });
  if (failure || refused.length > 0) await releaseQuietly(lock, leases);
  if (failure) throw failure.reason;
  return refused.length > 0 ? { acquired: false, refused } : { acquired: true, leases };
}

/** Releases leases, ignoring Redis errors: a lock that stays is freed by its TTL. */
export async function releaseQuietly(lock: Pick<TicketLock, 'release'>, leases: readonly Lease[]): Promise<void> {
  await Promise.all(leases.map((lease) => lock.release(lease).catch(() => false)));
}

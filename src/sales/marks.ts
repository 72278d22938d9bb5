import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { type Db, executeRows } from '../db/client.js';
import type { MarksState, RestoredMark, RestoreResult, TicketLock } from '../infra/ticket-lock.js';

/** How long an instance stamps leases with an event's marks epoch before reading it again. */
export const EPOCH_CACHE_MS = 250;

export interface MarksKeeperOptions {
  /** Runs one reload round: {@link reloadMarks} on the product's database. */
  reload: (eventId: string, epoch: number, pending?: readonly string[]) => Promise<ReloadRound>;
  /** Moves Redis past an epoch Postgres has fenced past: {@link advanceMarks} on the product's database. */
  advance: (eventId: string, epoch: number) => Promise<void>;
  onError: (error: unknown) => void;
  /** Told when a reload has vouched for an epoch: the seats its first round read, its rounds, and how long it took from its first round. */
  onVouched?: (eventId: string, figures: { seats: number; rounds: number; ms: number }) => void;
  /** A round that found a seat locked tries again for this long (a stalled holder's lock expires within it). */
  lockTtlMs: number;
  /** Between rounds while some seat is locked; after a failed round, doubling up to 2 s. */
  retryMs?: number;
}

/** The product's lock with its marks kept whole, and how to stop its reloads. */
export interface MarksKeeper {
  lock: TicketLock;
  /** Stops starting reloads and rounds, and waits for those running to end (their sleeps included). */
  stop(): Promise<void>;
}

/**
 * Keeps an event's seat marks whole across a Redis loss, so that a keyed loser refused LOCKED may
 * again answer without a query (sales/idempotency.ts), and a doomed buyer meets the sold mark
 * rather than Postgres.
 *
 * A loss shows as a new marks epoch (TicketLock.marks). Leases are stamped with the epoch, read
 * before their locks are taken and cached here for {@link EPOCH_CACHE_MS}. The first read that finds
 * the epoch not vouched for starts a reload, which runs rounds of {@link reloadMarks} until one
 * vouches for the epoch, or another loss begins a newer one. Until then keyed losers read Postgres,
 * as they must. Safety rests on the reload's table lock and the statements' fence alone; the reload
 * first waits out every instance's cache only so that few leases taken after the loss still carry
 * the old epoch and are refused for nothing. A fenced request (TicketLock.fenced) has Postgres asked
 * whether Redis's epoch is behind its fence (a Redis restored from an old snapshot), and if so Redis
 * is moved past it, which starts a reload of the new epoch.
 */
export function keepMarksWhole(lock: TicketLock, options: MarksKeeperOptions): MarksKeeper {
  const { retryMs = 50 } = options;
  const epochs = new Map<string, { epoch: number; until: number }>();
  const reloads = new Map<string, Promise<void>>();
  let stopped = false;

  /** Resolves true when Redis has left `epoch` meanwhile (another loss, or an advance). */
  const reload = async (eventId: string, epoch: number): Promise<boolean> => {
    await sleep(EPOCH_CACHE_MS + 50);
    const started = Date.now();
    const deadline = started + 4 * options.lockTtlMs;
    let pending: string[] | undefined;
    let seats = 0;
    let failures = 0;
    for (let rounds = 1; !stopped; rounds++) {
      try {
        const result = await options.reload(eventId, epoch, pending);
        if (result.lost) return true;
        if (!pending) seats = result.seats;
        if (result.vouched) {
          options.onVouched?.(eventId, { seats, rounds, ms: Date.now() - started });
          return false;
        }
        pending = result.pending;
        failures = 0;
      } catch (error) {
        // A lock timeout on the tickets table (a writer held it open), or a dependency down: back off,
        // so that a round queued behind a long writer does not keep every sale waiting.
        failures++;
        if (Date.now() >= deadline) throw error;
      }
      // Still pending past the deadline: give up; the next read of the marks starts again.
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(retryMs * 2 ** failures, 2000));
    }
    return false;
  };
  const advancing = new Map<string, Promise<void>>();
  const fenced = (eventId: string) => {
    epochs.delete(eventId);
    if (stopped || advancing.has(eventId)) return;
    const running = lock
      .marks(eventId)
      .then((state) => options.advance(eventId, state.epoch))
      .catch(options.onError)
      .finally(() => advancing.delete(eventId));
    advancing.set(eventId, running);
  };
  /** `asked`: when the read was sent, so a slow answer is not kept past the cache's promise. */
  const noted = (eventId: string, state: MarksState, asked: number): MarksState => {
    epochs.set(eventId, { epoch: state.epoch, until: asked + EPOCH_CACHE_MS });
    if (!state.whole && !stopped && !reloads.has(eventId)) {
      const running = reload(eventId, state.epoch)
        .then((left) => {
          reloads.delete(eventId);
          // The newer epoch's reload may have been asked for while this one ran: start it now.
          if (left && !stopped) return marks(eventId).then(() => {});
        })
        .catch((error) => {
          reloads.delete(eventId);
          options.onError(error);
        });
      reloads.set(eventId, running);
    }
    return state;
  };
  const marks = async (eventId: string) => {
    const asked = Date.now();
    return noted(eventId, await lock.marks(eventId), asked);
  };

  // Everything else is the lock's own, looked up at each call (so a test's spy on it still sees them).
  const kept: TicketLock = Object.create(lock);
  kept.marks = marks;
  kept.fenced = fenced;
  kept.leaseEpoch = async (eventId) => {
    const cached = epochs.get(eventId);
    if (cached && cached.until > Date.now()) return cached.epoch;
    return (await marks(eventId)).epoch;
  };
  return {
    lock: kept,
    async stop() {
      stopped = true;
      await Promise.allSettled([...reloads.values(), ...advancing.values()]);
    },
  };
}

/** What one round did, and how many seats it read. */
export type ReloadRound = RestoreResult & { seats: number };

interface MarkRow {
  id: string;
  status: 'SOLD' | 'HELD';
  buyer: string | null;
  /** Bigints come as the driver sends them. */
  ttl_ms: string | number | null;
}

/**
 * One round of putting an event's marks back from Postgres for `epoch`, in one transaction. The
 * first round (no `pending`):
 *   1. takes the tickets table in SHARE mode (waiting at most 250 ms): every transaction that wrote a
 *      ticket, a sale perhaps on locks taken before the loss, has ended, and none can start until
 *      this one commits, so the seats read next stay true while their marks are written;
 *   2. raises the event's `marks_epoch` to `epoch`: a sale or hold statement that runs after this
 *      commits, on leases stamped with an older epoch (locks Redis lost), changes nothing (seat-sql.ts).
 *      An event already fenced past `epoch` is moved on instead ({@link advanceMarks});
 *   3. reads the sold seats with their buyers and the live held seats with their holders and time left;
 *   4. writes them as marks (TicketLock.restoreMarks), vouching for the epoch when no seat's key held
 *      a lock.
 * A lock on such a seat is its winner's, about to turn it into the mark, or a doomed buyer's, who
 * will heal a sold mark (perhaps without the buyer) or free the key. Later rounds take only those
 * `pending` seats, each read
 * FOR SHARE (it cannot change while its mark is written), until none is locked. Every other seat
 * was marked by the first round or is marked by its own sale since, as in normal running.
 */
export function reloadMarks(
  db: Db,
  lock: TicketLock,
  eventId: string,
  epoch: number,
  pending?: readonly string[],
): Promise<ReloadRound> {
  return db.transaction(async (tx) => {
    // A ticket writer's transaction takes milliseconds; one held open longer makes this round give way.
    await tx.execute(sql`set local lock_timeout = '100ms'`);
    // A Redis that stalls mid-round must not keep sales out for long.
    await tx.execute(sql`set local idle_in_transaction_session_timeout = '5s'`);
    if (!pending) {
      await tx.execute(sql`lock table tickets in share mode`);
      const [row] = await executeRows<{ fence: string }>(
        tx,
        sql`update events set marks_epoch = greatest(marks_epoch, ${String(epoch)}::bigint)
          where id = ${eventId}::uuid returning marks_epoch::text as fence`,
      );
      if (row && Number(row.fence) > epoch) {
        // Fenced past this epoch already (this Redis's clock is behind an earlier one's): leases stamped
        // with it would be refused for good. Move on to a later epoch; its reload starts on the next read.
        await advanceMarks(tx, lock, eventId, epoch);
        return { lost: true, seats: 0 };
      }
    }
    const which = pending ? sql`t.id in ${pending}` : sql`t.event_id = ${eventId}::uuid`;
    const rows = await executeRows<MarkRow>(
      tx,
      sql`
      select t.id::text as id, t.status::text as status,
        case when t.status = 'SOLD'
          then (select o.customer_id from order_tickets ot join orders o on o.id = ot.order_id
                where ot.ticket_id = t.id and ot.released_at is null)
          else h.customer_id end as buyer,
        case when t.status = 'HELD'
          then ceil(extract(epoch from h.expires_at - clock_timestamp()) * 1000)::bigint end as ttl_ms
      from tickets t left join holds h on h.id = t.hold_id and t.status = 'HELD'
      where ${which}
        and (t.status = 'SOLD' or (t.status = 'HELD' and h.status = 'ACTIVE' and h.expires_at > clock_timestamp()))
      ${pending ? sql`for share of t` : sql``}`,
    );
    const marks: RestoredMark[] = rows.map((row) => ({
      ticketId: row.id,
      status: row.status,
      buyer: row.buyer,
      ttlMs: row.ttl_ms === null ? undefined : Number(row.ttl_ms),
    }));
    return { ...(await lock.restoreMarks(eventId, epoch, marks, true)), seats: marks.length };
  });
}

/**
 * Moves the event past `epoch` when Postgres has fenced past it: raises `marks_epoch` to one more
 * than the fence it read and makes that Redis's epoch (unvouched, so it is reloaded). Recording it
 * in the fence means an epoch handed out this way is never handed out again, so leases of a Redis
 * lost before its reload stay fenced; two instances advancing at once (each read the same fence)
 * hand out the same epoch to the same Redis, and only one moves it. Does nothing when the fence is
 * not past `epoch`, or Redis has left `epoch` already.
 */
export async function advanceMarks(db: Db, lock: TicketLock, eventId: string, epoch: number): Promise<void> {
  // A stale caller (a reload of an epoch Redis has left) must not raise the fence past Redis's epoch.
  if ((await lock.marks(eventId)).epoch !== epoch) return;
  const [row] = await executeRows<{ fence: string }>(
    db,
    sql`update events e set marks_epoch = greatest(e.marks_epoch, f.fence + 1)
      from (select marks_epoch as fence from events where id = ${eventId}::uuid) f
      where e.id = ${eventId}::uuid and f.fence > ${String(epoch)}::bigint
      returning e.marks_epoch::text as fence`,
  );
  if (row) await lock.advanceEpoch(eventId, epoch, Number(row.fence));
}

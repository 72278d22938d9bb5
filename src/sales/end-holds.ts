import { type SQL, sql } from 'drizzle-orm';
import type { TicketChange } from '../catalog/ticket-change.js';
import { type Db, queryPreparedRows } from '../db/client.js';
import { type ChangedTicketRow, ticketChangeOf } from './seat-sql.js';

/** Which ACTIVE holds {@link endHolds} ends. */
export type HoldsToEnd =
  /**
   * Every hold past its expiry, oldest first, at most `limit` (the sweeper), and only if this
   * statement wins the transaction-level advisory lock `sweepLock`: one instance sweeps at a time.
   */
  | { due: true; limit: number; sweepLock: number }
  /** These holds, if past their expiry (a late checkout, a seat an expired hold still keeps). */
  | { due: true; ids: readonly string[] }
  /** These holds of this buyer, whatever their expiry (the buyer released them). */
  | { due: false; ids: readonly string[]; customerId: string };

/** A row of {@link endHolds}: an ended hold, a seat it gave back, or (sweeping) when the next hold is due. */
interface EndedRow extends ChangedTicketRow {
  kind: 'hold' | 'ticket' | 'next';
  id: string;
  customer_id: string | null;
  event_id: string;
  next_due_ms: number | null;
}

/** Holds that ended, and the seats that went back on sale. */
export interface EndedHolds {
  holds: Array<{ id: string; customerId: string; eventId: string }>;
  tickets: TicketChange[];
  /**
   * Sweeping only: milliseconds, by the database's clock, until the earliest hold still ACTIVE after
   * this statement expires; null when none is (or when not sweeping). Zero or less means a hold is due
   * that this statement did not end: another instance holds the sweep lock, or a checkout has the hold.
   */
  nextDueInMs: number | null;
}

/**
 * Ends ACTIVE holds in one statement: each becomes `status` (EXPIRED or RELEASED), its seats go back
 * to AVAILABLE with new versions, and each buyer's count for the event drops by the seats given back.
 * Expiring skips holds another transaction has locked (`skip locked`): a checkout in progress wins,
 * and the sweeper never waits. A release waits for it instead, then finds the hold CHECKED_OUT and
 * changes nothing, so the buyer is told what happened rather than shown a hold still ACTIVE.
 * The sweeper's statement also says when the next hold is due, so it can wake at that moment.
 */
export async function endHolds(db: Db, which: HoldsToEnd, status: 'EXPIRED' | 'RELEASED'): Promise<EndedHolds> {
  const conditions: SQL[] = [sql`h.status = 'ACTIVE'`];
  if (which.due) conditions.push(sql`h.expires_at <= clock_timestamp()`);
  if ('ids' in which) {
    if (which.ids.length === 0) return { holds: [], tickets: [], nextDueInMs: null };
    conditions.push(sql`h.id = any(${`{${which.ids.join(',')}}`}::uuid[])`);
  }
  if ('customerId' in which) conditions.push(sql`h.customer_id = ${which.customerId}`);
  const sweeping = 'sweepLock' in which;
  // An uncorrelated subquery, so Postgres evaluates it once per statement, not once per row.
  if (sweeping) conditions.push(sql`(select pg_try_advisory_xact_lock(${which.sweepLock}::bigint))`);
  const limit = 'limit' in which ? which.limit : 10_000;
  // The statement reads `holds` as it was before its own update, so the holds it ended still look
  // ACTIVE there and are left out by id.
  const next = sweeping
    ? sql`
union all
select 'next', null, null, null, null, null, null,
  (select (extract(epoch from min(h.expires_at) - clock_timestamp()) * 1000)::float8
    from holds h where h.status = 'ACTIVE' and h.id not in (select id from ended))`
    : sql``;
  // One text per kind of `which` (its values are parameters), so each is prepared once per connection.
  const name = `flux_end_holds_${'limit' in which ? 'due' : which.due ? 'due_ids' : 'released'}`;
  const list = await queryPreparedRows<EndedRow>(
    db,
    name,
    sql`
with ended as (
  update holds set status = ${status}::hold_status, ended_at = clock_timestamp()
  where id in (
    select h.id from holds h where ${sql.join(conditions, sql` and `)}
    order by h.expires_at limit ${limit}::int
    for update ${which.due ? sql`skip locked` : sql``}
  )
  returning id, customer_id, event_id
),
freed as (
  update tickets t
  set status = 'AVAILABLE', hold_id = null, version = nextval('ticket_version_seq'), status_changed_at = clock_timestamp()
  from ended e
  where t.hold_id = e.id
  returning t.id, t.event_id, t.status, t.version, t.status_changed_at, e.customer_id
),
given_back as (
  update customer_event_tickets c set tickets = greatest(c.tickets - f.n, 0)
  from (select customer_id, event_id, count(*)::int as n from freed group by customer_id, event_id) f
  where c.customer_id = f.customer_id and c.event_id = f.event_id
)
select 'hold' as kind, id, customer_id, event_id, null::ticket_status as status, null::bigint as version,
  null::timestamptz as status_changed_at, null::float8 as next_due_ms
from ended
union all
select 'ticket', id, null, event_id, status, version, status_changed_at, null from freed${next}`,
  );
  const ended: EndedHolds = { holds: [], tickets: [], nextDueInMs: null };
  for (const row of list) {
    if (row.kind === 'hold') ended.holds.push({ id: row.id, customerId: row.customer_id ?? '', eventId: row.event_id });
    else if (row.kind === 'ticket') ended.tickets.push(ticketChangeOf(row.event_id, row));
    else ended.nextDueInMs = row.next_due_ms === null ? null : Number(row.next_due_ms);
  }
  return ended;
}

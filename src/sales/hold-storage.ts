import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { KeysetPage } from '../catalog/keyset-page.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import {
  type HoldRow,
  type HoldStatus,
  holdsTable,
  holdTicketsTable,
  type TicketRow,
  ticketsTable,
} from '../db/schema.js';
import { type RunStatement, soloStatement } from './group-commit.js';
import { sameSeatsOrReused } from './idempotency.js';
import type { SaleRequest } from './sale-request.js';
import {
  availableSeatsStep,
  type ChangedTicketRow,
  countedSteps,
  marksEpochParam,
  ticketChangeOf,
} from './seat-sql.js';

/** What the hold statement did. */
export type HoldResult =
  | { kind: 'held'; hold: HoldRow; tickets: TicketChange[] }
  | { kind: 'limit'; limit: number }
  /** Some seat was not AVAILABLE, the sale was not open, or an id named nothing: ask `explainRefusal`. */
  | { kind: 'refused' }
  /** The request's locks were taken under an older marks epoch than the event's: Redis lost them. */
  | { kind: 'fenced' };

/**
 * The whole hold as one statement, like the sale statement (sale-transaction.ts), which it follows:
 *   seats    locks (in id order) the requested seats that are AVAILABLE while the sale is open;
 *   complete all of them? the event's limit, how long its holds last, and the fence;
 *   counted  raises the customer's count for the event within the limit (held seats count);
 *   buyer    creates the customer on a first hold;
 *   made     the hold, expiring `hold_minutes` (or `defaultMs`) from now;
 *   held     marks the seats HELD by it, with new versions; `lines` records its seats.
 */
function holdStatement(request: SaleRequest, holdId: string, defaultMs: number) {
  const count = request.ticketIds.length;
  return sql`
with ${availableSeatsStep(request)},
complete as (
  select count(seats.id) = ${count}::int as ok, e.per_customer_limit as lim,
    coalesce(e.hold_minutes * 60000, ${defaultMs}::int) as hold_ms,
    e.marks_epoch > ${marksEpochParam(request)} as fenced
  from events e left join seats on true
  where e.id = ${request.eventId}::uuid
  group by e.per_customer_limit, e.hold_minutes, e.marks_epoch
),
${countedSteps(request)},
made as (
  insert into holds (id, customer_id, event_id, total_cents, expires_at, idempotency_key)
  select ${holdId}::uuid, ${request.customerId}::text, ${request.eventId}::uuid,
    (select sum(price_cents) from seats)::int,
    clock_timestamp() + (select hold_ms from complete) * interval '1 millisecond',
    ${request.idempotencyKey ?? null}::text
  from counted
  returning id, status, total_cents, expires_at, created_at
),
held as (
  update tickets t
  set status = 'HELD', hold_id = m.id, version = nextval('ticket_version_seq'), status_changed_at = clock_timestamp()
  from seats s, made m
  where t.id = s.id
  returning t.id, t.status, t.version, t.status_changed_at, s.price_cents
),
lines as (
  insert into hold_tickets (hold_id, ticket_id, price_cents)
  select m.id, h.id, h.price_cents from made m cross join held h
)
select c.ok, c.lim, c.fenced, m.status as hold_status, m.total_cents, m.expires_at, m.created_at,
  h.id, h.status, h.version, h.status_changed_at
from complete c
left join made m on true
left join held h on m.id is not null`;
}

interface HoldStatementRow extends ChangedTicketRow {
  ok: boolean;
  lim: number | null;
  fenced: boolean | null;
  hold_status: HoldStatus | null;
  total_cents: number | null;
  expires_at: string | Date | null;
  created_at: string | Date | null;
}

/**
 * The hold write: every rule in SQL, whatever any lock or cache said (see {@link holdStatement}).
 * A refusal writes nothing. An unknown event is `refused` too. `run` sends the statement: alone by
 * default, or through the group committer (group-commit.ts).
 */
export async function commitHold(
  db: Db,
  request: SaleRequest,
  defaultMs: number,
  run: RunStatement = soloStatement(db),
): Promise<HoldResult> {
  const holdId = randomUUID();
  const name = `flux_hold_${request.ticketIds.length}`;
  const rows = await run<HoldStatementRow>(
    name,
    holdStatement(request, holdId, defaultMs),
    `${request.customerId}/${request.eventId}`,
  );
  const [first] = rows;
  if (first?.fenced) return { kind: 'fenced' };
  if (!first?.ok) return { kind: 'refused' };
  if (first.expires_at === null || first.created_at === null) return { kind: 'limit', limit: first.lim ?? 0 };
  const hold: HoldRow = {
    id: holdId,
    customerId: request.customerId,
    eventId: request.eventId,
    status: first.hold_status ?? 'ACTIVE',
    totalCents: first.total_cents ?? 0,
    expiresAt: new Date(first.expires_at),
    endedAt: null,
    orderId: null,
    idempotencyKey: request.idempotencyKey ?? null,
    refusal: null,
    createdAt: new Date(first.created_at),
  };
  const tickets = rows.map((row) => ticketChangeOf(request.eventId, row));
  return { kind: 'held', hold, tickets };
}

/** The ACTIVE holds that keep any of these seats and are past their expiry. */
export async function expiredHoldsOf(db: Db, ticketIds: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: holdsTable.id })
    .from(ticketsTable)
    .innerJoin(holdsTable, eq(holdsTable.id, ticketsTable.holdId))
    .where(
      and(
        inArray(ticketsTable.id, [...ticketIds]),
        eq(holdsTable.status, 'ACTIVE'),
        lt(holdsTable.expiresAt, sql`clock_timestamp()`),
      ),
    );
  return rows.map((row) => row.id);
}

/**
 * The hold the request's idempotency key already made, if any, read with its seats in one query.
 *
 * @throws IdempotencyKeyReusedError when that hold was made of other seats than `request.ticketIds`.
 */
export async function holdForKey(
  db: Db,
  request: Pick<SaleRequest, 'customerId' | 'ticketIds'>,
  key: string,
): Promise<HoldRow | undefined> {
  const seats = sql<string>`(select coalesce(string_agg(ht.ticket_id::text, ','), '')
    from hold_tickets ht where ht.hold_id = ${holdsTable.id})`;
  const [row] = await db
    .select({ made: holdsTable, seats })
    .from(holdsTable)
    .where(and(eq(holdsTable.customerId, request.customerId), eq(holdsTable.idempotencyKey, key)))
    .prepare('hold_for_key')
    .execute();
  return sameSeatsOrReused(key, 'hold', row, request.ticketIds);
}

/**
 * Holds by id that belong to `customerId`; other customers' holds are simply not returned, nor is an
 * idempotency key's refusal tombstone (`refusal` set, db/schema.ts), which is not a hold.
 */
export function holdsOfCustomerByIds(db: Db, customerId: string, ids: readonly string[]): Promise<HoldRow[]> {
  return db
    .select()
    .from(holdsTable)
    .where(and(eq(holdsTable.customerId, customerId), inArray(holdsTable.id, [...ids]), isNull(holdsTable.refusal)));
}

/** `(createdAt, id)` beyond the hold named `id`, compared with that row's own values (to the microsecond). */
function beyondHold(compare: '>' | '<', id: string): SQL {
  return sql`(${holdsTable.createdAt}, ${holdsTable.id}) ${sql.raw(compare)} (select h.created_at, h.id from holds h where h.id = ${id})`;
}

/**
 * A customer's holds, newest first (ties by id), optionally of one status: a keyset page keyed by
 * hold id. Refusal tombstones are not holds.
 */
export function holdsOfCustomer(
  db: Db,
  customerId: string,
  page: KeysetPage<string>,
  status?: HoldStatus,
): Promise<HoldRow[]> {
  // Newest first: "after" a cursor is older than it.
  const order = page.inverted ? asc : desc;
  return db
    .select()
    .from(holdsTable)
    .where(
      and(
        eq(holdsTable.customerId, customerId),
        isNull(holdsTable.refusal),
        status ? eq(holdsTable.status, status) : undefined,
        page.after === undefined ? undefined : beyondHold('<', page.after),
        page.before === undefined ? undefined : beyondHold('>', page.before),
      ),
    )
    .orderBy(order(holdsTable.createdAt), order(holdsTable.id))
    .limit(page.limit);
}

/** The seats each hold was made of, in seat-map order. */
export async function ticketsOfHolds(db: Db, holdIds: readonly string[]): Promise<Map<string, TicketRow[]>> {
  const rows = await db
    .select({ holdId: holdTicketsTable.holdId, ticket: ticketsTable })
    .from(holdTicketsTable)
    .innerJoin(ticketsTable, eq(ticketsTable.id, holdTicketsTable.ticketId))
    .where(inArray(holdTicketsTable.holdId, [...holdIds]))
    .orderBy(ticketsTable.position);
  const result = new Map<string, TicketRow[]>(holdIds.map((id) => [id, []]));
  for (const row of rows) result.get(row.holdId)?.push(row.ticket);
  return result;
}

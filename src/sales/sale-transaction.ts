import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import { customerEventTicketsTable, type OrderRow, ordersTable } from '../db/schema.js';
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

export type SaleResult =
  | { kind: 'sold'; order: OrderRow; tickets: TicketChange[] }
  /** The customer already made this purchase with this idempotency key. */
  | { kind: 'duplicate'; order: OrderRow }
  | { kind: 'limit'; limit: number; held: number }
  /** Some seat was not AVAILABLE, the sale was not open, or an id named nothing: ask `explainRefusal`. */
  | { kind: 'refused' }
  /** The request's locks were taken under an older marks epoch than the event's: Redis lost them. */
  | { kind: 'fenced' };

/**
 * The whole sale as one statement, so it is one round trip and one implicit transaction. Each step
 * runs only if the one before it succeeded, so a refusal writes nothing and needs no rollback:
 *   seats    locks (in id order) the requested seats that are AVAILABLE while the sale is open and
 *            the request's locks are not fenced, found by primary key only (the `is true` keeps
 *            event indexes out: see requested-seats.ts);
 *   complete all of them? (all or nothing), the event's per-customer limit, and the fence;
 *   counted  raises the customer's count for the event only within the limit (the upsert serialises
 *            one customer's concurrent purchases on that row);
 *   buyer    creates the customer on a first purchase;
 *   sold     marks the seats SOLD with a new version and the change time;
 *   placed   writes the order, and `lines` its lines; the partial unique index on order_tickets
 *            refuses a second live line for a ticket, and the idempotency key is unique per customer.
 * Foreign keys are checked at the end of the statement, so `counted` may name the customer that
 * `buyer` creates after it.
 */
function saleStatement(request: SaleRequest, orderId: string) {
  const count = request.ticketIds.length;
  return sql`
with ${availableSeatsStep(request)},
complete as (
  select count(seats.id) = ${count}::int as ok, e.per_customer_limit as lim,
    e.marks_epoch > ${marksEpochParam(request)} as fenced
  from events e left join seats on true
  where e.id = ${request.eventId}::uuid
  group by e.per_customer_limit, e.marks_epoch
),
${countedSteps(request)},
sold as (
  update tickets t
  set status = 'SOLD', version = nextval('ticket_version_seq'), status_changed_at = clock_timestamp()
  from seats s
  where t.id = s.id and exists (select 1 from counted)
  returning t.id, t.event_id, t.status, t.version, t.status_changed_at, s.price_cents
),
placed as (
  insert into orders (id, customer_id, event_id, total_cents, idempotency_key)
  select ${orderId}::uuid, ${request.customerId}::text, ${request.eventId}::uuid, sum(price_cents)::int,
    ${request.idempotencyKey ?? null}::text
  from sold having count(*) > 0
  returning id, created_at, status
),
lines as (
  insert into order_tickets (order_id, ticket_id, price_cents)
  select p.id, s.id, s.price_cents from placed p cross join sold s
)
select c.ok, c.lim, c.fenced,
  p.created_at as order_created_at, p.status as order_status,
  s.id, s.status, s.version, s.status_changed_at, s.price_cents
from complete c
left join placed p on true
left join sold s on p.id is not null`;
}

/** A row of {@link saleStatement}: the outcome, and one sold seat per row when the sale went through. */
interface SaleRow extends ChangedTicketRow {
  ok: boolean;
  lim: number | null;
  fenced: boolean | null;
  /** Timestamps and bigints come as the driver sends them (strings from postgres.js under Drizzle). */
  order_created_at: string | Date | null;
  order_status: OrderRow['status'] | null;
  price_cents: number | null;
}

/**
 * The purchase write. Every rule is enforced here, in SQL, whatever any lock or cache said: the
 * seats change only if all are AVAILABLE and the sale is open; the customer's count for the event
 * rises only within the limit; the idempotency key is unique per customer. See {@link saleStatement}.
 * `run` sends the statement: alone by default, or through the group committer (group-commit.ts).
 */
export async function commitSale(
  db: Db,
  request: SaleRequest,
  run: RunStatement = soloStatement(db),
): Promise<SaleResult> {
  try {
    return await runSale(db, request, run);
  } catch (error) {
    return duplicateSale(db, request, error);
  }
}

/**
 * {@link commitSale} without its recovery from a repeated idempotency key: for a caller inside a
 * transaction of its own, which the key's unique violation aborts. Such a caller recovers with
 * {@link duplicateSale} after its transaction has rolled back.
 */
export async function runSale(
  db: Db,
  request: SaleRequest,
  run: RunStatement = soloStatement(db),
): Promise<SaleResult> {
  const orderId = randomUUID();
  // One text per group size (the ids are an IN list), so at most PURCHASE_LIMITS.maxSeats prepared statements.
  const name = `flux_sale_${request.ticketIds.length}`;
  const rows = await run<SaleRow>(name, saleStatement(request, orderId), `${request.customerId}/${request.eventId}`);
  const [first] = rows;
  if (first?.fenced) return { kind: 'fenced' };
  if (!first?.ok) return { kind: 'refused' };
  if (first.order_created_at === null || first.order_status === null) {
    // `counted` refused: the purchase would take the customer over the limit. The statement's own
    // snapshot may predate a purchase it waited for, so read what the customer holds now.
    return { kind: 'limit', limit: first.lim ?? 0, held: await heldTickets(db, request) };
  }
  const tickets = rows.map((row) => ticketChangeOf(request.eventId, row));
  const order: OrderRow = {
    id: orderId,
    customerId: request.customerId,
    eventId: request.eventId,
    totalCents: rows.reduce((sum, row) => sum + (row.price_cents ?? 0), 0),
    createdAt: new Date(first.order_created_at),
    status: first.order_status,
    idempotencyKey: request.idempotencyKey ?? null,
    refusal: null,
    cancelledAt: null,
  };
  return { kind: 'sold', order, tickets };
}

/**
 * The order an idempotency key already made, when `error` is that key's unique violation; else rethrows `error`.
 *
 * @throws IdempotencyKeyReusedError when that order was made of other seats (the statement wrote nothing).
 */
export async function duplicateSale(db: Db, request: SaleRequest, error: unknown): Promise<SaleResult> {
  if (request.idempotencyKey && isUniqueViolation(error, 'orders_customer_idempotency_uq')) {
    const order = await orderForKey(db, request, request.idempotencyKey);
    if (order) return { kind: 'duplicate', order };
  }
  throw error;
}

/** Tickets the customer holds (held or bought) for the event now. */
export async function heldTickets(db: Db, request: Pick<SaleRequest, 'customerId' | 'eventId'>): Promise<number> {
  const [row] = await db
    .select({ tickets: customerEventTicketsTable.tickets })
    .from(customerEventTicketsTable)
    .where(
      and(
        eq(customerEventTicketsTable.customerId, request.customerId),
        eq(customerEventTicketsTable.eventId, request.eventId),
      ),
    );
  return row?.tickets ?? 0;
}

/**
 * The order the request's idempotency key already made, if any, read with its seats in one query.
 *
 * @throws IdempotencyKeyReusedError when that order was made of other seats than `request.ticketIds`.
 */
export async function orderForKey(
  db: Db,
  request: Pick<SaleRequest, 'customerId' | 'ticketIds'>,
  key: string,
): Promise<OrderRow | undefined> {
  const seats = sql<string>`(select coalesce(string_agg(ot.ticket_id::text, ','), '')
    from order_tickets ot where ot.order_id = ${ordersTable.id})`;
  const [row] = await db
    .select({ made: ordersTable, seats })
    .from(ordersTable)
    .where(and(eq(ordersTable.customerId, request.customerId), eq(ordersTable.idempotencyKey, key)))
    .prepare('order_for_key')
    .execute();
  return sameSeatsOrReused(key, 'order', row, request.ticketIds);
}

/**
 * The order a customer made with an idempotency key, if any: for a checkout whose key is taken. A
 * purchase key's refusal tombstone is found too (the key is taken all the same), so its id may name
 * no order the customer can see.
 */
export async function orderByIdempotencyKey(db: Db, customerId: string, key: string): Promise<OrderRow | undefined> {
  const [order] = await db
    .select()
    .from(ordersTable)
    .where(and(eq(ordersTable.customerId, customerId), eq(ordersTable.idempotencyKey, key)));
  return order;
}

/** True for a Postgres unique violation on `constraint`, from postgres.js or PGlite, wrapped or not. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, constraint_name, constraint: pgliteConstraint } = e as Record<string, unknown>;
    if (code === '23505' && (constraint_name === constraint || pgliteConstraint === constraint)) return true;
  }
  return false;
}

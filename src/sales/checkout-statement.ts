import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import type { HoldStatus, OrderRow } from '../db/schema.js';
import { type RunStatement, soloStatement } from './group-commit.js';
import { type ChangedTicketRow, ticketChangeOf } from './seat-sql.js';

/** A checkout's request: the hold, its buyer, and the order's idempotency key. */
export interface CheckoutRequest {
  holdId: string;
  customerId: string;
  idempotencyKey?: string | undefined;
}

/** What the checkout statement did. */
export type CheckoutWrite =
  /** No such hold, or not this buyer's. */
  | { kind: 'missing' }
  | { kind: 'sold'; order: OrderRow; changed: TicketChange[] }
  /** Nothing was written: the hold (locked and read by the statement) was not ACTIVE, or was past its expiry. */
  | {
      kind: 'unsold';
      hold: { status: HoldStatus; orderId: string | null; expiresAt: Date; endedAt: Date | null; due: boolean };
    };

/**
 * The whole checkout as one statement, so it is one implicit transaction (or one buyer's savepoint
 * in a group), like the sale statement:
 *   h       locks the hold row, so two checkouts of one hold queue and the second reads what the first did;
 *   ok      the hold, if it is the buyer's, ACTIVE and not past its expiry (by the database's clock);
 *   sold    its seats HELD → SOLD, with new versions;
 *   placed  the order (the idempotency key is unique per customer), and `lines` its lines;
 *   closed  the hold becomes CHECKED_OUT and names its order.
 * The customer's count does not change: held seats were counted when held.
 */
function checkoutStatement(request: CheckoutRequest, orderId: string) {
  return sql`
with h as (
  select id, customer_id, event_id, status, order_id, expires_at, ended_at, expires_at <= clock_timestamp() as due
  from holds where id = ${request.holdId}::uuid
  for update
),
ok as (
  select id, customer_id, event_id from h
  where customer_id = ${request.customerId}::text and status = 'ACTIVE' and not due
),
sold as (
  update tickets t
  set status = 'SOLD', hold_id = null, version = nextval('ticket_version_seq'), status_changed_at = clock_timestamp()
  from ok
  where t.hold_id = ok.id and t.status = 'HELD'
  returning t.id, t.status, t.version, t.status_changed_at, t.price_cents
),
placed as (
  insert into orders (id, customer_id, event_id, total_cents, idempotency_key)
  select ${orderId}::uuid, ok.customer_id, ok.event_id, coalesce((select sum(price_cents) from sold), 0)::int,
    ${request.idempotencyKey ?? null}::text
  from ok
  returning id, created_at, status, total_cents
),
lines as (
  insert into order_tickets (order_id, ticket_id, price_cents)
  select p.id, s.id, s.price_cents from placed p cross join sold s
),
closed as (
  update holds set status = 'CHECKED_OUT', order_id = p.id, ended_at = clock_timestamp()
  from placed p where holds.id = ${request.holdId}::uuid
)
select h.customer_id as hold_customer_id, h.event_id, h.status as hold_status, h.order_id as hold_order_id,
  h.expires_at, h.ended_at, h.due, p.created_at as order_created_at, p.status as order_status, p.total_cents,
  s.id, s.status, s.version, s.status_changed_at
from h
left join placed p on true
left join sold s on p.id is not null`;
}

interface CheckoutRow extends ChangedTicketRow {
  hold_customer_id: string;
  event_id: string;
  hold_status: HoldStatus;
  hold_order_id: string | null;
  expires_at: string | Date;
  ended_at: string | Date | null;
  due: boolean;
  order_created_at: string | Date | null;
  order_status: OrderRow['status'] | null;
  total_cents: number | null;
}

/**
 * The checkout write (see {@link checkoutStatement}). `run` sends it: alone by default, or through
 * the group committer (group-commit.ts).
 */
export async function commitCheckout(
  db: Db,
  request: CheckoutRequest,
  run: RunStatement = soloStatement(db),
): Promise<CheckoutWrite> {
  const orderId = randomUUID();
  const rows = await run<CheckoutRow>('flux_checkout', checkoutStatement(request, orderId), `${request.customerId}/`);
  const [first] = rows;
  if (!first || first.hold_customer_id !== request.customerId) return { kind: 'missing' };
  if (first.order_created_at === null || first.order_status === null) {
    const hold = {
      status: first.hold_status,
      orderId: first.hold_order_id,
      expiresAt: new Date(first.expires_at),
      endedAt: first.ended_at === null ? null : new Date(first.ended_at),
      due: first.due,
    };
    return { kind: 'unsold', hold };
  }
  const order: OrderRow = {
    id: orderId,
    customerId: request.customerId,
    eventId: first.event_id,
    totalCents: first.total_cents ?? 0,
    createdAt: new Date(first.order_created_at),
    status: first.order_status,
    idempotencyKey: request.idempotencyKey ?? null,
    refusal: null,
    cancelledAt: null,
  };
  const changed = rows.filter((row) => row.id !== null).map((row) => ticketChangeOf(first.event_id, row));
  return { kind: 'sold', order, changed };
}

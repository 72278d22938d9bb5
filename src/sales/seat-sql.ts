import { type SQL, sql } from 'drizzle-orm';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { SaleRequest } from './sale-request.js';

/** The epoch of a request behind no lock: no event's `marks_epoch` fences it. */
const UNFENCED = String(Number.MAX_SAFE_INTEGER);

/** The request's marks epoch as a statement parameter (see {@link SaleRequest.marksEpoch}). */
export function marksEpochParam(request: SaleRequest): SQL {
  return sql`${request.marksEpoch === undefined ? UNFENCED : String(request.marksEpoch)}::bigint`;
}

/**
 * The first step of the sale and hold statements: `seats` locks (in id order, so overlapping
 * requests cannot deadlock) the requested seats that are AVAILABLE while the sale is open, and only
 * while the request's locks are not older than the event's marks epoch (the fence, sales/marks.ts).
 * They are found by primary key only: the `is true` keeps event indexes out (see requested-seats.ts).
 */
export function availableSeatsStep(request: SaleRequest): SQL {
  const ids = sql.join(
    request.ticketIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  return sql`seats as (
  select t.id, t.price_cents
  from tickets t join events e on e.id = t.event_id
  where t.id in (${ids}) and (t.event_id = ${request.eventId}::uuid) is true and t.status = 'AVAILABLE'
    and (e.sale_opens_at is null or e.sale_opens_at <= now())
    and (e.sale_closes_at is null or now() < e.sale_closes_at)
    and e.marks_epoch <= ${marksEpochParam(request)}
  order by t.id
  for update of t
)`;
}

/**
 * The steps that follow a `complete (ok, lim)` step: `counted` raises the customer's count for the
 * event only within the limit (the upsert serialises one customer's concurrent requests on that
 * row), and `buyer` creates the customer on a first request. Foreign keys are checked at the end of
 * the statement, so `counted` may name the customer that `buyer` creates after it.
 */
export function countedSteps(request: SaleRequest): SQL {
  const count = request.ticketIds.length;
  return sql`counted as (
  insert into customer_event_tickets (customer_id, event_id, tickets)
  select ${request.customerId}::text, ${request.eventId}::uuid, ${count}::int from complete
  where ok and (lim is null or ${count}::int <= lim)
  on conflict (customer_id, event_id) do update
    set tickets = customer_event_tickets.tickets + excluded.tickets
    where (select lim from complete) is null
      or customer_event_tickets.tickets + excluded.tickets <= (select lim from complete)
  returning tickets
),
buyer as (
  insert into customers (id) select ${request.customerId}::text from counted
  on conflict do nothing
)`;
}

/** A changed ticket as a hand-written statement returns it (timestamps and bigints as the driver sends them). */
export interface ChangedTicketRow {
  id: string | null;
  status: TicketChange['status'] | null;
  version: string | number | bigint | null;
  status_changed_at: string | Date | null;
}

/** The {@link TicketChange} of a {@link ChangedTicketRow}. */
export function ticketChangeOf(eventId: string, row: ChangedTicketRow): TicketChange {
  return {
    id: row.id as string,
    eventId,
    status: row.status ?? 'AVAILABLE',
    version: Number(row.version),
    statusChangedAt: row.status_changed_at === null ? null : new Date(row.status_changed_at),
  };
}

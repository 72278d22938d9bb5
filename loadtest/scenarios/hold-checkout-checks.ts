import type postgres from 'postgres';
import type { HoldFigures } from '../contender-result.js';
import type { InvariantResult } from '../invariants.js';
import { LatencyRecorder } from '../latency.js';
import type { Heard, SeenHold } from './hold-checkout-buyers.js';
import { round } from './hold-checkout-report.js';

/** What the buyers and the subscriber saw, held against the database at the end. */
export interface SeenByBuyers {
  /** Holds buyers saw made, by hold id. */
  holds: ReadonlyMap<string, SeenHold>;
  /** Orders buyers saw made, by hold id. */
  orders: ReadonlyMap<string, string>;
  /** The venue's ticket ids by seat. */
  ticketIds: readonly string[];
  /** Each seat's changes as the subscriber heard them. */
  heard: readonly Heard[][];
  holdMs: number;
}

/**
 * The holds' invariants in SQL (after the common ones): no seat HELD by an ended hold, no hold ACTIVE
 * past its expiry, every checkout's order has its hold's seats, counters equal bought plus held; and
 * the expiry lag of the EXPIRED holds, in Postgres and at the subscriber.
 */
export async function holdChecks(
  sql: postgres.Sql,
  eventId: string,
  seen: SeenByBuyers,
): Promise<{ results: InvariantResult[]; expiryLag: HoldFigures['expiryLag'] }> {
  const holds = await sql<
    Array<{
      id: string;
      status: string;
      order_id: string | null;
      expires_ms: number;
      ended_ms: number | null;
      seats: string[];
      order_seats: string[] | null;
    }>
  >`
    select h.id::text as id, h.status::text as status, h.order_id::text as order_id,
      (extract(epoch from h.expires_at) * 1000)::float8 as expires_ms,
      (extract(epoch from h.ended_at) * 1000)::float8 as ended_ms,
      array(select ht.ticket_id::text from hold_tickets ht where ht.hold_id = h.id order by 1) as seats,
      case when h.order_id is null then null else
        array(select ot.ticket_id::text from order_tickets ot
              where ot.order_id = h.order_id and ot.released_at is null order by 1) end as order_seats
    from holds h where h.event_id = ${eventId} and h.refusal is null`;
  const [seats] = await sql<Array<{ held: number; by_ended: number; active: number; overdue: number; kept: number }>>`
    select
      (select count(*)::int from tickets where event_id = ${eventId} and status = 'HELD') as held,
      (select count(*)::int from tickets t left join holds h on h.id = t.hold_id
        where t.event_id = ${eventId} and t.status = 'HELD' and (h.id is null or h.status <> 'ACTIVE')) as by_ended,
      (select count(*)::int from holds where event_id = ${eventId} and status = 'ACTIVE') as active,
      (select count(*)::int from holds where event_id = ${eventId} and status = 'ACTIVE'
        and expires_at < now() - interval '1 second') as overdue,
      (select count(*)::int from tickets t join holds h on h.id = t.hold_id
        where t.event_id = ${eventId} and h.expires_at < now() - interval '1 second') as kept`;
  const [orphans] = await sql<Array<{ n: number }>>`
    select count(*)::int as n from orders o where o.event_id = ${eventId} and o.refusal is null
      and not exists (select 1 from holds h where h.order_id = o.id and h.status = 'CHECKED_OUT')`;
  const [counters] = await sql<Array<{ customers: number; drift: number }>>`
    with bought as (
      select o.customer_id, count(*)::int as n from orders o
      join order_tickets ot on ot.order_id = o.id and ot.released_at is null
      where o.event_id = ${eventId} group by o.customer_id
    ),
    held as (
      select h.customer_id, count(*)::int as n from holds h join tickets t on t.hold_id = h.id
      where h.event_id = ${eventId} and h.status = 'ACTIVE' group by h.customer_id
    ),
    counted as (select customer_id, tickets as n from customer_event_tickets where event_id = ${eventId})
    select count(*)::int as customers,
      count(*) filter (where coalesce(c.n, 0) <> coalesce(b.n, 0) + coalesce(hd.n, 0))::int as drift
    from counted c full join bought b using (customer_id) full join held hd using (customer_id)`;

  const checkedOut = holds.filter((h) => h.status === 'CHECKED_OUT');
  const wrongOrders = checkedOut.filter((h) => !h.order_seats || h.order_seats.join() !== h.seats.join()).length;
  const inSql = new Map(holds.map((h) => [h.id, h]));
  let seatsAsked = 0;
  let wrongSeats = 0;
  let unseenHolds = 0;
  for (const [id, made] of seen.holds) {
    const row = inSql.get(id);
    if (!row) {
      unseenHolds++;
      continue;
    }
    const asked = made.seats.map((seat) => seen.ticketIds[seat] ?? '').sort();
    if (asked.join() === row.seats.join()) seatsAsked++;
    else wrongSeats++;
  }
  let ordersMatch = 0;
  for (const [holdId, orderId] of seen.orders) if (inSql.get(holdId)?.order_id === orderId) ordersMatch++;
  const expiryLag = lagOf(
    seen,
    holds.filter((h) => h.status === 'EXPIRED'),
  );

  const held = seats?.held ?? 0;
  const byEnded = seats?.by_ended ?? 0;
  const overdue = seats?.overdue ?? 0;
  const kept = seats?.kept ?? 0;
  const results: InvariantResult[] = [
    {
      name: 'no seat HELD whose hold is not ACTIVE',
      pass: byEnded === 0,
      detail: `${held} seats HELD at the end, ${byEnded} of them by a hold that is not ACTIVE (or by none)`,
    },
    {
      name: 'no hold ACTIVE more than 1 s past its expiry',
      pass: overdue === 0 && kept === 0,
      detail: `${seats?.active ?? 0} holds ACTIVE at the end (checked ${round(seen.holdMs / 1000 + 1)} s after the load), ${overdue} of them more than 1 s past expires_at; ${kept} seats still kept by such a hold`,
    },
    {
      name: "every checked-out hold's order = its seats",
      pass:
        wrongOrders === 0 &&
        (orphans?.n ?? 0) === 0 &&
        wrongSeats === 0 &&
        unseenHolds === 0 &&
        ordersMatch === seen.orders.size,
      detail: `${checkedOut.length} CHECKED_OUT holds, ${wrongOrders} whose order's live lines are not exactly the hold's seats; ${orphans?.n ?? 0} orders made by no checkout; of ${seen.holds.size} holds buyers saw made, ${seatsAsked} hold exactly the seats asked for, ${wrongSeats} do not, ${unseenHolds} are not in SQL; ${ordersMatch} of ${seen.orders.size} orders buyers saw are their hold's order`,
    },
    {
      name: 'customer counts = bought + actively held seats',
      pass: (counters?.drift ?? 0) === 0,
      detail: `${counters?.customers ?? 0} customers, ${counters?.drift ?? 0} whose customer_event_tickets differs from their live order lines plus the seats of their ACTIVE holds`,
    },
  ];
  return { results, expiryLag };
}

/** Expiry lag of the EXPIRED holds, in Postgres and at the subscriber (see HoldFigures.expiryLag). */
function lagOf(
  seen: SeenByBuyers,
  expired: ReadonlyArray<{ expires_ms: number; ended_ms: number | null; seats: string[] }>,
): HoldFigures['expiryLag'] {
  const database = new LatencyRecorder();
  const subscriber = new LatencyRecorder();
  const seatOfId = new Map(seen.ticketIds.map((id, i) => [id, i]));
  let retaken = 0;
  let unheard = 0;
  for (const hold of expired) {
    const expiresAt = Math.round(hold.expires_ms);
    if (hold.ended_ms !== null) database.record(Math.round(hold.ended_ms) - expiresAt);
    for (const id of hold.seats) {
      const log = seen.heard[seatOfId.get(id) ?? -1] ?? [];
      const first = log.find((change) => change.changedAt >= expiresAt);
      if (!first) unheard++;
      else if (first.status === 'AVAILABLE') subscriber.record(first.arrival - expiresAt);
      else retaken++;
    }
  }
  return { database: database.summary(), subscriber: subscriber.summary(), retaken, unheard };
}

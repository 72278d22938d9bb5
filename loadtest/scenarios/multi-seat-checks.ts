import type postgres from 'postgres';
import type { InvariantResult } from '../invariants.js';
import { blocksOf, type MultiSeatTarget } from './multi-seat-target.js';

/** A multi-seat sale as the harness laid it out and the generator saw it. */
export interface GroupSale {
  /** Seats per purchase. */
  size: number;
  /** The event's per-customer limit. */
  limit: number;
  /** The sale's ticket ids (not global ids) in seat-map order, and the venue's row lengths. */
  ticketIds: readonly string[];
  rowLengths: readonly number[];
  /** The orders the generator saw won: order id → index of the first seat of the block it asked for. */
  wonBlocks: ReadonlyMap<string, number>;
}

/** `Order:<uuid>` from a global id; anything else is kept as is (and will match no order). */
function orderUuid(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  return decoded.startsWith('Order:') ? decoded.slice('Order:'.length).toLowerCase() : globalId;
}

/** The group sale of a multi-seat run: the venue, and the orders its target saw won (by order id). */
export function groupSaleOf(
  target: MultiSeatTarget,
  ticketIds: readonly string[],
  rowLengths: readonly number[],
  limit: number,
): GroupSale {
  const wonBlocks = new Map<string, number>();
  for (const [orderGlobalId, start] of target.wonBlocks) wonBlocks.set(orderUuid(orderGlobalId), start);
  return { size: target.group, limit, ticketIds, rowLengths, wonBlocks };
}

interface OrderLines {
  id: string;
  customer_id: string;
  tickets: string[];
}

/** The row of each seat index, from the row lengths. */
function rowsBySeat(rowLengths: readonly number[], seats: number): Int32Array {
  const rowOf = new Int32Array(seats);
  let seat = 0;
  rowLengths.forEach((length, row) => {
    rowOf.fill(row, seat, Math.min(seats, seat + length));
    seat += length;
  });
  return rowOf;
}

/** Are these seat indexes `size` adjacent seats of one row? */
function isBlock(seats: number[], size: number, rowOf: Int32Array): boolean {
  const first = seats[0] ?? -1;
  return (
    seats.length === size && first >= 0 && seats.every((seat, k) => seat === first + k && rowOf[seat] === rowOf[first])
  );
}

/**
 * The multi-seat invariants, in SQL: every order's live lines are exactly the block of adjacent seats
 * its buyer asked for (or, for an order whose answer the generator never saw, some block of one row);
 * no order has fewer or more lines than the group; no customer holds more than the event's limit, and
 * each customer's counter row agrees with their live lines. Also counts the blocks still free.
 */
export async function groupInvariants(
  sql: postgres.Sql,
  eventId: string,
  group: GroupSale,
): Promise<{ results: InvariantResult[]; freeBlocks: number }> {
  const orders = await sql<OrderLines[]>`
    select o.id, o.customer_id,
      coalesce(array_agg(ot.ticket_id::text order by t.position) filter (where ot.ticket_id is not null), '{}') as tickets
    from orders o
    left join order_tickets ot on ot.order_id = o.id and ot.released_at is null
    left join tickets t on t.id = ot.ticket_id
    where o.event_id = ${eventId} and o.refusal is null
    group by o.id, o.customer_id`;
  const counters = await sql<{ customer_id: string; tickets: number }[]>`
    select customer_id, tickets from customer_event_tickets where event_id = ${eventId} and tickets > 0`;
  const statuses = await sql<{ status: string }[]>`
    select status from tickets where event_id = ${eventId} order by position`;

  const seatOf = new Map(group.ticketIds.map((id, i) => [id, i]));
  const rowOf = rowsBySeat(group.rowLengths, group.ticketIds.length);
  let partial = 0;
  let exact = 0;
  let blockOnly = 0;
  let wrong = 0;
  const held = new Map<string, number>();
  const inSql = new Set<string>();
  for (const order of orders) {
    inSql.add(order.id);
    if (order.tickets.length > 0)
      held.set(order.customer_id, (held.get(order.customer_id) ?? 0) + order.tickets.length);
    if (order.tickets.length !== group.size) partial++;
    const seats = order.tickets.map((id) => seatOf.get(id) ?? -1);
    const asked = group.wonBlocks.get(order.id);
    if (asked === undefined) {
      if (isBlock(seats, group.size, rowOf)) blockOnly++;
      else wrong++;
    } else if (seats.length === group.size && seats.every((seat, k) => seat === asked + k)) exact++;
    else wrong++;
  }
  const unseenWins = [...group.wonBlocks.keys()].filter((id) => !inSql.has(id)).length;
  const over = [...held.values()].filter((n) => n > group.limit).length;
  const counted = new Map(counters.map((c) => [c.customer_id, c.tickets]));
  const customers = new Set([...held.keys(), ...counted.keys()]);
  const drift = [...customers].filter((customer) => held.get(customer) !== counted.get(customer)).length;
  const most = Math.max(0, ...held.values());

  const available = statuses.map((row) => row.status === 'AVAILABLE');
  const freeBlocks = Array.from(blocksOf(group.rowLengths, group.size)).filter((start) =>
    available.slice(start, start + group.size).every(Boolean),
  ).length;

  return {
    freeBlocks,
    results: [
      {
        name: "every order's lines = its seats",
        pass: wrong === 0 && unseenWins === 0,
        detail: `${exact} orders hold exactly the ${group.size} adjacent seats their buyer asked for, ${blockOnly} (answer not seen) hold ${group.size} adjacent seats of one row, ${wrong} do not; ${unseenWins} wins seen with no such order`,
      },
      {
        name: 'no partial orders',
        pass: partial === 0,
        detail: `${orders.length} orders, ${partial} with other than ${group.size} live lines`,
      },
      {
        name: 'no customer over the per-customer limit',
        pass: over === 0 && drift === 0,
        detail: `${held.size} customers hold tickets, at most ${most} each (limit ${group.limit}); ${over} over it; ${drift} whose counter row disagrees with their live lines`,
      },
    ],
  };
}

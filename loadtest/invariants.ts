import postgres from 'postgres';
import { type GroupSale, groupInvariants } from './scenarios/multi-seat-checks.js';

/** One invariant checked in SQL after a run. */
export interface InvariantResult {
  name: string;
  pass: boolean;
  detail: string;
}

/** What the database holds for the event once the run is over. */
export interface SaleCounts {
  sold: number;
  orders: number;
  liveLines: number;
  /** multi-seat: blocks of the group size whose seats are all still AVAILABLE; null otherwise. */
  freeBlocks: number | null;
}

/** What the generator saw: wins (orders), attempts with no answer, and for multi-seat the groups. */
export interface Expected {
  wins: number;
  unanswered: number;
  group?: GroupSale | undefined;
}

/**
 * The invariants every run ends with, in SQL against the run's own database:
 * no ticket sold twice; orders match sold tickets (one live line per SOLD ticket, every order has
 * lines and the right total); the sold count equals the wins the generator saw. A multi-seat sale
 * ({@link Expected.group}) adds its own (see group-invariants.ts), and there an order is a group:
 * sold = order lines = group × wins.
 */
export async function checkInvariants(
  url: string,
  eventId: string,
  { wins, unanswered, group }: Expected,
): Promise<{ results: InvariantResult[]; counts: SaleCounts }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const twice = await sql<{ ticket_id: string; n: number }[]>`
      select ticket_id, count(*)::int as n from order_tickets where released_at is null
      group by ticket_id having count(*) > 1`;
    const mismatched = await sql<{ id: string }[]>`
      select t.id from tickets t
      left join order_tickets ot on ot.ticket_id = t.id and ot.released_at is null
      where t.event_id = ${eventId} and (t.status = 'SOLD') <> (ot.ticket_id is not null)`;
    const badOrders = await sql<{ id: string }[]>`
      select o.id from orders o
      left join order_tickets ot on ot.order_id = o.id and ot.released_at is null
      group by o.id, o.total_cents
      having count(ot.ticket_id) = 0 or o.total_cents <> coalesce(sum(ot.price_cents), 0)`;
    const [counts] = await sql<{ sold: number; orders: number; lines: number }[]>`
      select (select count(*)::int from tickets where event_id = ${eventId} and status = 'SOLD') as sold,
             (select count(*)::int from orders where event_id = ${eventId}) as orders,
             (select count(*)::int from order_tickets ot join tickets t on t.id = ot.ticket_id
              where t.event_id = ${eventId} and ot.released_at is null) as lines`;
    const sold = counts?.sold ?? 0;
    const orders = counts?.orders ?? 0;
    const liveLines = counts?.lines ?? 0;
    const groupChecks = group ? await groupInvariants(sql, eventId, group) : null;
    const ordersMatch = group ? liveLines === sold : orders === sold;
    const soldIsWins = group ? orders === wins && sold === wins * group.size : sold === wins;
    const results: InvariantResult[] = [
      {
        name: 'no ticket sold twice',
        pass: twice.length === 0,
        detail:
          twice.length === 0
            ? `${liveLines} live order lines for the sale, no ticket in two`
            : `${twice.length} tickets in 2+ orders`,
      },
      {
        name: 'orders match sold tickets',
        pass: mismatched.length === 0 && badOrders.length === 0 && ordersMatch,
        detail: `${sold} SOLD, ${orders} orders, ${liveLines} live order lines, ${mismatched.length} mismatched tickets, ${badOrders.length} bad orders`,
      },
      ...(groupChecks?.results ?? []),
      {
        name: 'sold count equals wins',
        pass: soldIsWins,
        detail: `${sold} sold in SQL${group ? ` in ${orders} orders of ${group.size}` : ''}, ${wins} wins seen by the generator${
          unanswered > 0 ? `; ${unanswered} attempts got no answer (errors), and a buyer who got none may have won` : ''
        }`,
      },
    ];
    return { results, counts: { sold, orders, liveLines, freeBlocks: groupChecks?.freeBlocks ?? null } };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

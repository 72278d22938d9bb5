import postgres from 'postgres';

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
}

/** What the generator saw, and what the scenario adds to the checks. */
export interface Expected {
  /** Orders the generator saw won, and attempts that got no answer. */
  wins: number;
  unanswered: number;
  /** Seats in each order: 1, or a group's size (an order is then the group). */
  seatsPerOrder: number;
  /**
   * Seats the wins took, where orders differ in size (a hold's seats): checked as a group's are,
   * against the sum rather than wins × seatsPerOrder.
   */
  seats?: number | undefined;
  /** The scenario's own checks (SaleRun.checks), run on the same connection after these. */
  checks?: ((sql: postgres.Sql, eventId: string) => Promise<InvariantResult[]>) | undefined;
}

/**
 * The invariants every run ends with, in SQL against the run's own database:
 * no ticket sold twice; orders match sold tickets (one live line per SOLD ticket, every order has
 * lines and the right total); the sold count equals the wins the generator saw. Where an order is a
 * group of seats ({@link Expected.seatsPerOrder} > 1), sold = order lines = group × wins; the
 * scenario's own checks come after these.
 */
export async function checkInvariants(
  url: string,
  eventId: string,
  { wins, unanswered, seatsPerOrder, seats, checks }: Expected,
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
      where o.refusal is null
      group by o.id, o.total_cents
      having count(ot.ticket_id) = 0 or o.total_cents <> coalesce(sum(ot.price_cents), 0)`;
    const [counts] = await sql<{ sold: number; orders: number; lines: number }[]>`
      select (select count(*)::int from tickets where event_id = ${eventId} and status = 'SOLD') as sold,
             (select count(*)::int from orders where event_id = ${eventId} and refusal is null) as orders,
             (select count(*)::int from order_tickets ot join tickets t on t.id = ot.ticket_id
              where t.event_id = ${eventId} and ot.released_at is null) as lines`;
    const sold = counts?.sold ?? 0;
    const orders = counts?.orders ?? 0;
    const liveLines = counts?.lines ?? 0;
    const grouped = seatsPerOrder > 1 || seats !== undefined;
    const own = checks ? await checks(sql, eventId) : [];
    const ordersMatch = grouped ? liveLines === sold : orders === sold;
    const soldIsWins = grouped ? orders === wins && sold === (seats ?? wins * seatsPerOrder) : sold === wins;
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
      ...own,
      {
        name: 'sold count equals wins',
        pass: soldIsWins,
        detail: `${sold} sold in SQL${grouped ? ` in ${orders} orders${seats === undefined ? ` of ${seatsPerOrder}` : ''}` : ''}, ${wins} wins seen by the generator${seats === undefined ? '' : ` (${seats} seats)`}${
          unanswered > 0 ? `; ${unanswered} attempts got no answer (errors), and a buyer who got none may have won` : ''
        }`,
      },
    ];
    return { results, counts: { sold, orders, liveLines } };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

import { describe, expect } from 'vitest';
import { decodeGlobalId } from '../src/graphql/global-id.js';
import { purchase, startTestApp, type TestApp } from './helpers/app.js';
import type { TestDatabase } from './helpers/database.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { checkout, hold } from './helpers/holds.js';
import { get } from './helpers/http.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';

// A group goes when it has GROUP of winners (or after a second): each test sends exactly GROUP
// winners at once, so they commit in one transaction, whatever the machine's load.
const GROUP = 5;
const it = integrationTest({
  app: { env: { GROUP_COMMIT_WINDOW_MS: '1000', GROUP_COMMIT_MAX_SIZE: String(GROUP) } },
});
// The defaults (a 2 ms window, up to 32 winners) for the rush.
const rush = integrationTest();

/** A second instance on the same database with a Redis of its own: it sells behind the first one's back. */
async function behindTheBack(database: TestDatabase, run: (other: TestApp) => Promise<void>) {
  const other = await startTestApp({ kind: 'real', databaseUrl: database.url, env: { GROUP_COMMIT: 'false' } });
  try {
    await run(other);
  } finally {
    await other.stop();
  }
}

/** Transaction start times (`now()`, which orders and holds default `created_at` to) of these rows. */
async function transactionsOf(database: TestDatabase, table: 'orders' | 'holds', ids: string[]) {
  const found = await database.sql<{ at: string }[]>`
    select distinct created_at::text as at from ${database.sql(table)} where id::text in ${database.sql(ids)}`;
  return found.map((r) => r.at);
}

/** The group-size histogram's count for `outcome`, read from /metrics. */
async function groups(api: TestApp, outcome: string): Promise<{ count: number; sum: number }> {
  const { text } = await get(await api.listen(), '/metrics');
  const read = (name: string) =>
    Number(text.match(new RegExp(`^flux_group_commit_size_${name}\\{outcome="${outcome}"\\} (\\d+)`, 'm'))?.[1] ?? 0);
  return { count: read('count'), sum: read('sum') };
}

/** The database id of an order's or a hold's GraphQL id. */
const orderIdOf = (id: string | undefined) => decodeGlobalId(id ?? '').id;

describe('group commit: winners that arrive together commit in one Postgres transaction', () => {
  it('one buyer’s seat conflict in a group leaves the others’ orders intact', async ({ api, database }) => {
    const { ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: GROUP });
    // Postgres sells seat 0 while this instance's Redis knows nothing of it.
    await behindTheBack(database, async (other) => {
      expect((await purchase(other, 'early', seats[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    });
    const before = await groups(api, 'committed');

    const results = await Promise.all(seats.map((seat, i) => purchase(api, `buyer-${i}`, seat)));

    expect(results[0]).toMatchObject({ __typename: 'TicketUnavailable', reason: 'SOLD', ticketId: seats[0] });
    const orders = results.slice(1).map((r) => orderIdOf(r.order?.id));
    expect(results.slice(1).map((r) => r.__typename)).toEqual(Array(GROUP - 1).fill('PurchaseTicketSuccess'));
    expect(await transactionsOf(database, 'orders', orders)).toHaveLength(1);
    const after = await groups(api, 'committed');
    expect(after.count - before.count).toBe(1);
    expect(after.sum - before.sum).toBe(GROUP);
    expect((await expectSaleInvariants(api.app.services.db)).soldTickets).toBeGreaterThanOrEqual(GROUP);
  });

  it('one buyer at the purchase limit is refused alone; the group’s other buyers get their seats', async ({
    api,
    database,
  }) => {
    const { ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: GROUP + 1, perCustomerLimit: 1 });
    await behindTheBack(database, async (other) => {
      expect((await purchase(other, 'limited', seats[GROUP] as string)).__typename).toBe('PurchaseTicketSuccess');
    });

    const results = await Promise.all(
      seats.slice(0, GROUP).map((seat, i) => purchaseMany(api, i === 0 ? 'limited' : `fresh-${i}`, [seat])),
    );

    expect(results[0]).toMatchObject({ __typename: 'PurchaseLimitReached', limit: 1, held: 1 });
    expect(results.slice(1).map((r) => r.__typename)).toEqual(Array(GROUP - 1).fill('PurchaseTicketsSuccess'));
    const orders = results.slice(1).map((r) => orderIdOf(r.order?.id));
    expect(await transactionsOf(database, 'orders', orders)).toHaveLength(1);
    await expectSaleInvariants(api.app.services.db);
  });

  it('keeps idempotency exactly-once inside a group: a retry gets its order, a reused key buys nothing', async ({
    api,
    database,
  }) => {
    const { ticketGlobalIds: seats, ticketIds } = await createEventWithTickets(api, { seats: GROUP + 1 });
    let earlierOrder = '';
    await behindTheBack(database, async (other) => {
      earlierOrder = (await purchaseMany(other, 'retrier', [seats[0] as string], 'key-r')).order?.id ?? '';
      const reused = await purchaseMany(other, 'reuser', [seats[GROUP] as string], 'key-u');
      expect(reused.__typename).toBe('PurchaseTicketsSuccess');
    });

    // The retrier asks again for the same seat with the same key; the reuser's key made another
    // order, so its statement hits the key's unique index inside the group.
    const results = await Promise.all(
      seats
        .slice(0, GROUP)
        .map((seat, i) =>
          i === 0
            ? purchaseMany(api, 'retrier', [seat], 'key-r')
            : i === 1
              ? purchaseMany(api, 'reuser', [seat], 'key-u')
              : purchaseMany(api, `plain-${i}`, [seat]),
        ),
    );

    expect(results[0]).toMatchObject({ __typename: 'PurchaseTicketsSuccess', order: { id: earlierOrder } });
    expect(results[1]?.__typename).toBe('IdempotencyKeyReused');
    expect(results.slice(2).map((r) => r.__typename)).toEqual(Array(GROUP - 2).fill('PurchaseTicketsSuccess'));
    expect(
      await transactionsOf(
        database,
        'orders',
        results.slice(2).map((r) => orderIdOf(r.order?.id)),
      ),
    ).toHaveLength(1);
    const keyed = await database.sql<{ n: number }[]>`
      select count(*)::int as n from orders where idempotency_key in ('key-r', 'key-u')`;
    expect(keyed[0]?.n).toBe(2);
    const [reuserSeat] = await database.sql<
      { status: string }[]
    >`select status from tickets where id = ${ticketIds[1] as string}`;
    expect(reuserSeat?.status).toBe('AVAILABLE');
    await expectSaleInvariants(api.app.services.db);
  });

  it('commits each buyer alone when the group transaction fails as a whole, so every buyer still gets the right answer', async ({
    api,
    database,
  }) => {
    const { ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: GROUP });
    // A COMMIT that made more than one order fails as a serialization failure would: only a group's can.
    await database.sql.unsafe(`
      create function flux_test_one_order_per_xact() returns trigger language plpgsql as $$
      begin
        if (select count(*) from orders where created_at = now()) > 1 then
          raise exception 'forced group failure' using errcode = '40001';
        end if;
        return null;
      end $$;
      create constraint trigger flux_test_one_order_per_xact after insert on orders
        deferrable initially deferred for each row execute function flux_test_one_order_per_xact();`);
    try {
      const before = await groups(api, 'fallback');
      const results = await Promise.all(seats.map((seat, i) => purchase(api, `fallback-${i}`, seat)));

      expect(results.map((r) => r.__typename)).toEqual(Array(GROUP).fill('PurchaseTicketSuccess'));
      const orders = results.map((r) => orderIdOf(r.order?.id));
      expect(await transactionsOf(database, 'orders', orders)).toHaveLength(GROUP);
      const after = await groups(api, 'fallback');
      expect(after.count - before.count).toBe(1);
      expect(after.sum - before.sum).toBe(GROUP);
    } finally {
      await database.sql.unsafe(`
        drop trigger flux_test_one_order_per_xact on orders;
        drop function flux_test_one_order_per_xact();`);
    }
    await expectSaleInvariants(api.app.services.db);
  });

  it('groups holds and checkouts too: a held seat refuses one hold, the others hold and check out', async ({
    api,
    database,
  }) => {
    const { ticketGlobalIds: seats } = await createEventWithTickets(api, { seats: GROUP * 2 });
    await behindTheBack(database, async (other) => {
      expect((await hold(other, 'first', [seats[0] as string])).__typename).toBe('HoldSeatsSuccess');
    });

    const held = await Promise.all(
      Array.from({ length: GROUP }, (_, i) =>
        hold(api, `holder-${i}`, [seats[2 * i] as string, seats[2 * i + 1] as string]),
      ),
    );
    expect(held[0]).toMatchObject({
      __typename: 'TicketsUnavailable',
      tickets: [{ ticketId: seats[0], reason: 'HELD' }],
    });
    const holds = held.slice(1).map((h) => h.hold?.id ?? '');
    expect(held.slice(1).map((h) => h.__typename)).toEqual(Array(GROUP - 1).fill('HoldSeatsSuccess'));
    expect(await transactionsOf(database, 'holds', holds.map(orderIdOf))).toHaveLength(1);

    // GROUP checkouts: the first is not its buyer's hold (NotFound), the others sell.
    const sold = await Promise.all([
      checkout(api, 'holder-0', holds[0] as string),
      ...holds.map((id, i) => checkout(api, `holder-${i + 1}`, id)),
    ]);
    expect(sold[0]?.__typename).toBe('NotFound');
    expect(sold.slice(1).map((s) => s.__typename)).toEqual(Array(GROUP - 1).fill('CheckoutSuccess'));
    expect(
      await transactionsOf(
        database,
        'orders',
        sold.slice(1).map((s) => orderIdOf(s.order?.id)),
      ),
    ).toHaveLength(1);
    await expectSaleInvariants(api.app.services.db);
  });
});

describe('group commit under a rush (two instances, the default window)', () => {
  rush('sells each of 300 seats at most once to 1,500 attempts of 1 or 2 seats, in groups', async ({ pair }) => {
    const { ticketGlobalIds: seats } = await createEventWithTickets(pair[0], { seats: 300 });
    const results = await Promise.all(
      Array.from({ length: 1500 }, (_, i) => {
        const first = (i * 37) % 299;
        const wanted = i % 3 === 0 ? [seats[first], seats[first + 1]] : [seats[first]];
        return purchaseMany(pair[i % 2] as TestApp, `rusher-${i % 150}`, wanted as string[]);
      }),
    );
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketsSuccess');
    const sold = wins.flatMap((w) => w.order?.tickets.map((t) => t.id) ?? []);
    expect(new Set(sold).size).toBe(sold.length);
    const summary = await expectSaleInvariants(pair[0].app.services.db);
    expect(summary.soldTickets).toBe(sold.length);
    expect(summary.orders).toBe(wins.length);
    const grouped = [await groups(pair[0], 'committed'), await groups(pair[1], 'committed')];
    // Groups take customers' rows in one order: no buyer's statement failed on a deadlock between groups.
    for (const instance of pair) {
      const { text } = await get(await instance.listen(), '/metrics');
      expect(text).toMatch(/^flux_group_commit_retried_total 0$/m);
    }
    const buyers = grouped.reduce((n, g) => n + g.sum, 0);
    const transactions = grouped.reduce((n, g) => n + g.count, 0);
    // Winners shared transactions: fewer group transactions than winners' statements.
    expect(buyers).toBeGreaterThanOrEqual(wins.length);
    expect(transactions).toBeLessThan(buyers);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import type { TicketKey } from '../src/catalog/ticket-key.js';
import { lockBySlot } from '../src/infra/lock-by-slot.js';
import { availabilityChannel } from '../src/infra/redis-keys.js';
import { createRedisTicketLock, ticketLockKey } from '../src/infra/redis-ticket-lock.js';
import { purchase, startTwoInstances } from './helpers/app.js';
import { adjacent, holdBest } from './helpers/best-available.js';
import { createEventWithTickets } from './helpers/events.js';
import { failoverFigures, startDrillBuyers } from './helpers/failover-drill.js';
import { test } from './helpers/fixtures.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { subscribeWs, wsClient } from './helpers/live.js';
import { startOwnRedisCluster } from './helpers/redis-cluster.js';
import { purchaseMany } from './helpers/sales.js';

// One Redis Cluster of the file's own (3 masters, 3 replicas on loopback), two app instances on it, one
// database. The failover drill runs last: it leaves a shard without a replica.
const it = test
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
  .extend('cluster', { scope: 'file' }, async ({}, { onCleanup }) => {
    const cluster = await startOwnRedisCluster();
    onCleanup(() => cluster.stop());
    return cluster;
  })
  .extend('onCluster', { scope: 'file' }, async ({ cluster, database }, { onCleanup }) => {
    // A resync every second: after a failover, a seat map converges within about that.
    const env = { REDIS_CLUSTER_NODES: cluster.nodesEnv, AVAILABILITY_WINDOW_MS: '20', AVAILABILITY_RESYNC_MS: '1000' };
    const pair = await startTwoInstances(database.url, [{ env }, { env }]);
    onCleanup(async () => {
      for (const instance of pair) await instance.stop();
    });
    return pair;
  })
  .extend('probe', { scope: 'file' }, async ({ cluster }, { onCleanup }) => {
    const probe = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    onCleanup(() => probe.disconnect());
    return probe;
  })
  .extend(
    'via',
    ({ onCluster: [first, second] }) =>
      (i: number) =>
        i % 2 ? second : first,
  );

describe('on a Redis Cluster of three masters and three replicas (two instances, real Postgres)', () => {
  it('gives the hot seat to exactly 1 of 200 simultaneous buyers, with its sold mark on the cluster', async ({
    via,
    probe,
    database,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 1 });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => purchase(via(i), `hot-${i}`, ticketGlobalIds[0] as string)),
    );
    expect(results.filter((r) => r.__typename === 'PurchaseTicketSuccess')).toHaveLength(1);
    expect(results.filter((r) => r.__typename === 'TicketUnavailable')).toHaveLength(199);
    const key = ticketLockKey(via(0).redisPrefix, { eventId, ticketId: ticketIds[0] as string });
    expect(await probe.get(key)).toMatch(/^sold:/);
    expect((await expectSaleInvariants(via(0).app.services.db)).soldTickets).toBeGreaterThanOrEqual(1);
    const [sold] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from tickets where id = ${ticketIds[0] as string} and status = 'SOLD'`;
    expect(sold?.n).toBe(1);
  });

  it('sells each of 100 seats of six events exactly once to 1,000 attempts; each event on one master, events spread', async ({
    via,
    cluster,
  }) => {
    // One event's seats share its hash tag (one slot); six events spread over the masters.
    const ranges = await Promise.all(cluster.nodes.map((node) => cluster.slotsOf(node)));
    const masterOfKey = (key: string) => {
      const slot = calculateSlot(key);
      return ranges.findIndex((served) => served.some(([from = 0, to = 0]) => slot >= from && slot <= to));
    };
    const events = await Promise.all([0, 1, 2, 3, 4, 5].map(() => createEventWithTickets(via(0), { seats: 20 })));
    const seats = events.flatMap((e) => e.ticketIds.map((ticketId) => ({ eventId: e.eventId, ticketId })));
    const masterOf = (seat: TicketKey) => masterOfKey(ticketLockKey(via(0).redisPrefix, seat));
    const ticketGlobalIds = events.flatMap((e) => e.ticketGlobalIds).slice(0, 100);
    const before = await expectSaleInvariants(via(0).app.services.db);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        purchase(via(i), `rush-${i % 100}`, ticketGlobalIds[(i * 37) % ticketGlobalIds.length] as string),
      ),
    );
    const wins = results.filter((r) => r.__typename === 'PurchaseTicketSuccess');
    expect(wins).toHaveLength(100);
    const after = await expectSaleInvariants(via(0).app.services.db);
    expect(after.soldTickets - before.soldTickets).toBe(100);
    // Every seat of an event is on one master; six events use more than one master.
    for (const event of events)
      expect(new Set(event.ticketIds.map((ticketId) => masterOf({ eventId: event.eventId, ticketId }))).size).toBe(1);
    expect(new Set(seats.map(masterOf)).size).toBeGreaterThan(1);
  });

  it('sells overlapping four-seat groups all or nothing: no order holds part of a group, no lock is left', async ({
    via,
    probe,
  }) => {
    const { eventId, ticketIds, ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 40 });
    // Groups overlap by two seats, so neighbours contend; each group is one script in the event's slot.
    const groups = Array.from({ length: 19 }, (_, g) => ticketGlobalIds.slice(g * 2, g * 2 + 4));
    // Each with an idempotency key: its lease and record are one script in their own slot.
    const send = (i: number, instance = i) =>
      purchaseMany(via(instance), `group-${i}`, groups[i % groups.length] as string[], `group-key-${i}`);
    const results = await Promise.all(Array.from({ length: 190 }, (_, i) => send(i)));
    const won = results.filter((r) => r.__typename === 'PurchaseTicketsSuccess');
    // A retry through the other instance gets the key's answer again, a win or a refusal.
    const retried = [
      results.findIndex((r) => r.__typename === 'PurchaseTicketsSuccess'),
      results.findIndex((r) => r.__typename !== 'PurchaseTicketsSuccess'),
    ];
    for (const i of retried) expect(await send(i, i + 1)).toEqual(results[i]);
    expect(won.length).toBeGreaterThan(0);
    for (const order of won) expect(order.order?.tickets).toHaveLength(4);
    const soldSeats = new Set(won.flatMap((r) => r.order?.tickets.map((t) => t.id) ?? []));
    expect(soldSeats.size).toBe(won.length * 4);
    await expectSaleInvariants(via(0).app.services.db);
    // Every refused group gave back the locks it took: each key holds a sold mark or nothing, no lock
    // waiting for its TTL.
    const left = await Promise.all(
      ticketIds.map((id) => probe.get(ticketLockKey(via(0).redisPrefix, { eventId, ticketId: id }))),
    );
    expect(left.filter((value) => value !== null && !value.startsWith('sold'))).toEqual([]);
  });

  it("locks one event's seats with one script in its slot, all or nothing, beside a seat of another event", async ({
    probe,
  }) => {
    const prefix = `flux-test:${Date.now()}:`;
    const lock = createRedisTicketLock(probe, prefix, { lockTtlMs: 5000, soldMarkTtlMs: 60_000 });
    const keyOf = (seat: TicketKey) => ticketLockKey(prefix, seat);
    const seat = (ticketId: string): TicketKey => ({ eventId: ticketId.startsWith('x') ? 'e2' : 'e1', ticketId });
    let scripts = 0;
    const locking = {
      single: (s: TicketKey) => lock.acquire(s),
      together: (keys: string[], token: string) => {
        scripts++;
        return probe.fluxLockAll(keys.length, ...keys, token, 5000);
      },
      release: (lease: TicketKey & { token: string }) => lock.release(lease),
    };
    expect(calculateSlot(keyOf(seat('a')))).not.toBe(calculateSlot(keyOf(seat('x1'))));

    const first = await lockBySlot(['a', 'b', 'c', 'x1'].map(seat), keyOf, locking);
    expect(first.acquired).toBe(true);
    expect(scripts).toBe(1);
    // b is taken: the group {a, b, d} is refused whole, and x2 (taken) is given back.
    await probe.del(keyOf(seat('a')), keyOf(seat('c')));
    const second = await lockBySlot(['a', 'b', 'd', 'x2'].map(seat), keyOf, locking);
    expect(second).toEqual({ acquired: false, refused: [{ ticketId: 'b', reason: 'LOCKED' }] });
    expect(await probe.exists(keyOf(seat('a')), keyOf(seat('d')))).toBe(0);
    expect(await probe.exists(keyOf(seat('x2')))).toBe(0);
    // The product's acquireAll: one event's seats in one script, on the cluster.
    const all = await lock.acquireAll(['p', 'q', 'r'].map(seat));
    expect(all.acquired).toBe(true);
    await lock.close();
  });

  it('best available on the cluster: pairs held together, no seat twice, adjacency, invariants', async ({
    via,
    probe,
  }) => {
    const { eventId, eventGlobalId } = await createEventWithTickets(via(0), {
      seats: 0,
      sections: [{ name: 'Floor', rows: ['A', 'B', 'C'], seatsPerRow: 6, priceCents: 5000 }],
    });
    // 12 buyers of two seats on 18 seats, through both instances: 9 pairs fit, 3 buyers are refused.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        holdBest(via(i), `best-${i}`, { eventId: eventGlobalId, quantity: 2, together: true }),
      ),
    );
    const wins = results.filter((r) => r.__typename === 'HoldBestAvailableSuccess');
    expect(wins).toHaveLength(9);
    expect(results.filter((r) => r.__typename === 'NotEnoughSeats')).toHaveLength(3);
    expect(wins.every(adjacent)).toBe(true);
    const seats = wins.flatMap((w) => w.hold?.tickets.map((t) => t.id) ?? []);
    expect(new Set(seats).size).toBe(18);
    // The index lives in the event's slot on the cluster (its sentinel is there).
    expect(await probe.exists(`${via(0).redisPrefix}{ev:${eventId}}:ix:meta`)).toBe(1);
    await expectSaleInvariants(via(0).app.services.db);
  });

  it('carries live updates between the two instances over sharded pub/sub, on the event shard', async ({
    via,
    cluster,
  }) => {
    const { eventId, eventGlobalId, ticketGlobalIds } = await createEventWithTickets(via(0), { seats: 3 });
    const live = subscribeWs(wsClient(await via(1).listen()), eventGlobalId);
    try {
      await live.until((messages) => messages.length >= 1);
      expect((await purchase(via(0), 'watched', ticketGlobalIds[1] as string)).__typename).toBe(
        'PurchaseTicketSuccess',
      );
      await live.until((messages) => messages.some((m) => m.sold === 1 && m.changedTickets.length === 1));
      // The channel is SSUBSCRIBEd on the master of the event's slot, not on the others.
      const channel = availabilityChannel(via(0).redisPrefix, eventId);
      const master = await cluster.masterOf(calculateSlot(channel));
      const shard = new Redis(master.port, '127.0.0.1');
      try {
        expect(await shard.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
      } finally {
        shard.disconnect();
      }
    } finally {
      await live.close();
    }
  });

  it('survives the kill of the master that holds the event: no oversell, sales resume, seat maps converge', async ({
    onCluster,
    via,
    cluster,
    database,
  }) => {
    const { eventId, eventGlobalId, ticketIds, ticketGlobalIds } = await createEventWithTickets(via(0), {
      seats: 600,
      sections: [{ name: 'Floor', rows: ['A', 'B', 'C', 'D', 'E', 'F'], seatsPerRow: 100, priceCents: 5000 }],
    });
    const victim = await cluster.masterOf(calculateSlot(availabilityChannel(via(0).redisPrefix, eventId)));
    const victimSlots = await cluster.slotsOf(victim);
    const onShard = (seat: number) => {
      const slot = calculateSlot(ticketLockKey(via(0).redisPrefix, { eventId, ticketId: ticketIds[seat] as string }));
      return victimSlots.some(([from = 0, to = 0]) => slot >= from && slot <= to);
    };
    const live = subscribeWs(wsClient(await via(1).listen()), eventGlobalId);
    await live.until((messages) => messages.length >= 1);

    const buyers = startDrillBuyers(onCluster, ticketGlobalIds, { workers: 8, pauseMs: 20 });
    await sleep(1000);
    const killedAt = buyers.now();
    await cluster.kill(victim);
    await cluster.waitHealthy();
    const promotedAfterMs = Math.round(buyers.now() - killedAt);
    const deadline = Date.now() + 30_000;
    while (buyers.unsold() > 0 && Date.now() < deadline) await sleep(50);
    await buyers.stop();

    const figures = failoverFigures(buyers.attempts, killedAt, onShard);
    console.info('failover drill', { promotedAfterMs, attempts: buyers.attempts.length, ...figures });
    expect(buyers.unsold(), 'purchases resumed until the sell-out').toBe(0);
    expect(figures.shardSellsAgainAfterMs).toBeDefined();
    // A purchase that met the failover was answered SERVICE_UNAVAILABLE (retry with the same key), never an internal error.
    expect(figures.failed).toBe(figures.unavailable);
    const summary = await expectSaleInvariants(via(0).app.services.db);
    const [sold] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from tickets where event_id = ${eventId} and status = 'SOLD'`;
    expect(sold?.n).toBe(600);
    expect(buyers.attempts.filter((a) => a.outcome === 'sold')).toHaveLength(600);
    expect(summary.soldTickets).toBeGreaterThanOrEqual(600);
    // The seat map on the other instance converges on the sell-out (its resync repairs lost messages).
    await live.until((messages) => messages.at(-1)?.sold === 600 && messages.at(-1)?.available === 0, 15_000);
    await live.close();
  });
});

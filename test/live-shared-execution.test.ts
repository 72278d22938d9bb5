import { setTimeout as sleep } from 'node:timers/promises';
import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import { createSchema, createYoga, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useSharedSubscriptionExecution } from '../src/transport/shared-execution.js';
import { createTestEvent, purchase, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { AVAILABILITY } from './helpers/live.js';

/** The part of yoga's `getEnveloped()` that graphql-ws and SSE both go through. */
interface Enveloped {
  schema: GraphQLSchema;
  parse: (source: string) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
  contextFactory: () => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** Subscribes in process through the app's envelop chain (what graphql-ws and SSE both call). */
async function subscribe(enveloped: Enveloped, query: string, variables: Record<string, unknown> = {}) {
  const { schema, parse, validate, contextFactory } = enveloped;
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  const result = await enveloped.subscribe({
    schema,
    document,
    variableValues: variables,
    contextValue: await contextFactory(),
  });
  if (!isAsyncIterable(result)) throw new Error(`not a stream: ${JSON.stringify(result)}`);
  return result[Symbol.asyncIterator]() as AsyncIterator<ExecutionResult>;
}

const nextValue = async (iterator: AsyncIterator<ExecutionResult>) => (await iterator.next()).value as ExecutionResult;

describe('one execution per live message, shared by the subscribers in step', () => {
  let database: TestDatabase;
  let api: TestApp;
  let open: Array<AsyncIterator<ExecutionResult>> = [];
  const watch = async (query: string, variables: Record<string, unknown>) => {
    const iterator = await subscribe(api.app.yoga.getEnveloped({}), query, variables);
    open.push(iterator);
    return iterator;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({
      kind: 'real',
      databaseUrl: database.url,
      env: { AVAILABILITY_WINDOW_MS: '10', AVAILABILITY_MAX_PENDING_TICKETS: '2' },
    });
  });
  afterEach(async () => {
    await Promise.all(open.map((iterator) => iterator.return?.()));
    open = [];
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('ten seat maps with the same query get the same result object for a sale; other selections and variables get their own', async () => {
    const { eventId, ticketIds } = await createTestEvent(api.app, { seats: 3 });
    const same = await Promise.all(Array.from({ length: 10 }, () => watch(AVAILABILITY, { eventId })));
    const countsOnly = await watch('subscription ($eventId: ID!) { ticketAvailability(eventId: $eventId) { sold } }', {
      eventId,
    });
    const optional = `subscription ($eventId: ID!, $tickets: Boolean!) {
      ticketAvailability(eventId: $eventId) { sold changedTickets @include(if: $tickets) { id } } }`;
    const [withTickets, withoutTickets] = [
      await watch(optional, { eventId, tickets: true }),
      await watch(optional, { eventId, tickets: false }),
    ];
    // Ticket.event reads the subscriber's loaders, so this one must run on its own with its own context.
    const withEvent = await watch(
      'subscription ($eventId: ID!) { ticketAvailability(eventId: $eventId) { changedTickets { id event { name } } } }',
      { eventId },
    );
    const all = [...same, countsOnly, withTickets, withoutTickets, withEvent];
    for (const iterator of all) await nextValue(iterator); // each subscriber's own first message
    expect(api.app.services.availability.stats()).toEqual({ events: 1, subscribers: all.length });

    const pending = all.map((iterator) => nextValue(iterator));
    expect((await purchase(api, 'shared-buyer', ticketIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    const results = await Promise.all(pending);

    const [shared] = results;
    const sold = { id: ticketIds[0], status: 'SOLD', version: expect.any(Number) };
    expect(shared?.data?.ticketAvailability).toMatchObject({ eventId, sold: 1, changedTickets: [sold] });
    for (const result of results.slice(0, 10)) expect(result).toBe(shared);
    expect(new Set(results).size).toBe(5);
    const others = results.slice(10);
    expect(others.map((result) => result.data?.ticketAvailability)).toEqual([
      { sold: 1 },
      { sold: 1, changedTickets: [{ id: ticketIds[0] }] },
      { sold: 1 },
      { changedTickets: [{ id: ticketIds[0], event: { name: 'Test Night' } }] },
    ]);
    expect(others.every((result) => result.errors === undefined)).toBe(true);

    await Promise.all(all.map((iterator) => iterator.return?.()));
    expect(api.app.services.availability.stats()).toEqual({ events: 0, subscribers: 0 });
  });

  it('a subscriber that stops reading is still cut off with SLOW_SUBSCRIBER, while the one reading carries on', async () => {
    const { eventId, ticketIds } = await createTestEvent(api.app, { seats: 4 });
    const [reader, idle] = [await watch(AVAILABILITY, { eventId }), await watch(AVAILABILITY, { eventId })];
    await nextValue(reader);
    await nextValue(idle);
    for (const [i, ticketId] of ticketIds.slice(0, 3).entries()) {
      expect((await purchase(api, `slow-${i}`, ticketId)).__typename).toBe('PurchaseTicketSuccess');
      expect((await nextValue(reader)).data?.ticketAvailability).toMatchObject({ sold: i + 1 });
      await sleep(30); // a window apart, so the idle one's backlog grows a ticket at a time
    }
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'SLOW_SUBSCRIBER' } });
    expect(api.app.services.availability.stats()).toEqual({ events: 1, subscribers: 1 });
  });
});

describe('the shared-execution plugin', () => {
  const typeDefs = /* GraphQL */ `
    type Query { ok: Boolean }
    type Message { text(shout: Boolean): String! viewer: String }
    type Subscription { messages: Message! }
  `;
  const feed = [{ text: 'one' }, { text: 'two' }];

  /** Yoga over a stream that yields the same payload objects to everyone; counts Message.text runs. */
  function server(plugins: Plugin[]) {
    const counter = { executions: 0 };
    const schema = createSchema<{ viewer?: string }>({
      typeDefs,
      resolvers: {
        Subscription: {
          messages: {
            subscribe: async function* () {
              yield* feed;
            },
            resolve: (payload: unknown) => payload,
          },
        },
        Message: {
          text: (message: { text: string }, args: { shout?: boolean }) => {
            counter.executions++;
            return args.shout ? message.text.toUpperCase() : message.text;
          },
          viewer: (_message: unknown, _args: unknown, context: { viewer?: string }) => context.viewer ?? null,
        },
      },
    });
    return { yoga: createYoga({ schema, plugins }), counter };
  }
  const plugin = () => useSharedSubscriptionExecution({ Subscription: ['messages'], Message: ['text'] });

  const readAll = async (yoga: ReturnType<typeof server>['yoga'], query: string, variables = {}, viewer?: string) => {
    const iterator = await subscribe(yoga.getEnveloped({ viewer }), query, variables);
    const results: ExecutionResult[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) results.push(next.value);
    return results;
  };

  it('runs each message once for many subscribers, and separately per selection and variables', async () => {
    const { yoga, counter } = server([plugin()]);
    const same = await Promise.all(
      Array.from({ length: 5 }, () => readAll(yoga, 'subscription { messages { text } }')),
    );
    expect(counter.executions).toBe(2);
    expect(same[0]?.map((r) => r.data)).toEqual([{ messages: { text: 'one' } }, { messages: { text: 'two' } }]);
    for (const results of same) {
      expect(results[0]).toBe(same[0]?.[0]);
      expect(results[1]).toBe(same[0]?.[1]);
    }

    const shout = 'subscription ($shout: Boolean) { messages { text(shout: $shout) } }';
    const loud = await readAll(yoga, shout, { shout: true });
    const quiet = await readAll(yoga, shout, { shout: false });
    await readAll(yoga, 'subscription { messages { t: text } }');
    expect(loud.map((r) => r.data)).toEqual([{ messages: { text: 'ONE' } }, { messages: { text: 'TWO' } }]);
    expect(quiet.map((r) => r.data)).toEqual([{ messages: { text: 'one' } }, { messages: { text: 'two' } }]);
    expect(counter.executions).toBe(2 + 2 + 2 + 2);
  });

  it('never shares a selection that reaches a field outside the list: each viewer sees their own', async () => {
    const { yoga, counter } = server([plugin()]);
    const query = 'subscription { messages { text viewer } }';
    const [ann, bob] = await Promise.all([readAll(yoga, query, {}, 'ann'), readAll(yoga, query, {}, 'bob')]);
    expect(ann.map((r) => r.data?.messages)).toEqual([
      { text: 'one', viewer: 'ann' },
      { text: 'two', viewer: 'ann' },
    ]);
    expect(bob.map((r) => r.data?.messages)).toEqual([
      { text: 'one', viewer: 'bob' },
      { text: 'two', viewer: 'bob' },
    ]);
    expect(counter.executions).toBe(4);
  });

  it('without it, every subscriber executes every message (the cost it removes)', async () => {
    const { yoga, counter } = server([]);
    await Promise.all(Array.from({ length: 5 }, () => readAll(yoga, 'subscription { messages { text } }')));
    expect(counter.executions).toBe(10);
  });
});

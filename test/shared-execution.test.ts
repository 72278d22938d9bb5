import type { ExecutionResult } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSharedSubscriptionExecution } from '../src/transport/shared-execution.js';
import { subscribe } from './helpers/envelop.js';

// The plugin on a schema of its own, with no app and no service; test/live-shared-execution.test.ts
// runs it in the app, on Postgres and Redis.
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

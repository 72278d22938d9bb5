import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useJitForRepeatedOperations } from '../src/transport/jit.js';

// Which executor ran a resolver, read off its stack: the standard one is @graphql-tools/executor,
// graphql-jit runs code it generated and never enters that package.
const executorOf = () => (new Error().stack?.includes('@graphql-tools/executor') ? 'standard' : 'jit');

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      executor: { type: GraphQLString, resolve: executorOf },
      greeting: { type: GraphQLString, args: { name: { type: GraphQLString } }, resolve: (_, a) => `hi ${a.name}` },
    },
  }),
});

describe('graphql-jit for repeated operations', () => {
  it('compiles a document only after it has run afterRuns times on the standard executor', async () => {
    const compileErrors: unknown[] = [];
    const yoga = createYoga({
      schema,
      logging: false,
      plugins: [useJitForRepeatedOperations({ afterRuns: 3, onCompileError: (e) => compileErrors.push(e) })],
    });
    const run = async (query: string, variables?: Record<string, unknown>) => {
      const response = await yoga.fetch('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, unknown> };
    };

    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) seen.push((await run('{ executor }')).data?.executor);
    expect(seen).toEqual(['standard', 'standard', 'standard', 'jit', 'jit']);
    // Another document starts its own count.
    expect((await run('query Other { executor }')).data?.executor).toBe('standard');

    // Variables still coerce the same way once compiled.
    const greetings = [];
    for (let i = 0; i < 5; i++)
      greetings.push((await run('query G($n: String) { greeting(name: $n) }', { n: `n${i}` })).data);
    expect(greetings).toEqual([0, 1, 2, 3, 4].map((i) => ({ greeting: `hi n${i}` })));
    expect(compileErrors).toEqual([]);
  });
});

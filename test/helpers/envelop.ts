import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError, GraphQLSchema } from 'graphql';
import { isAsyncIterable } from 'graphql-yoga';
import { expect } from 'vitest';

/** The part of yoga's `getEnveloped()` that graphql-ws and SSE both go through. */
export interface Enveloped {
  schema: GraphQLSchema;
  parse: (source: string) => DocumentNode;
  validate: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
  contextFactory: () => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** Subscribes in process through the app's envelop chain (what graphql-ws and SSE both call). */
export async function subscribe(enveloped: Enveloped, query: string, variables: Record<string, unknown> = {}) {
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

/** The next result a subscription yields. */
export const nextValue = async (iterator: AsyncIterator<ExecutionResult>) =>
  (await iterator.next()).value as ExecutionResult;

import {
  BREAK,
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  type OperationDefinitionNode,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';

/**
 * Field names by type name whose resolvers depend only on their parent value and arguments, never on
 * the context (viewer, loaders), so their result is the same for every subscriber.
 */
export type ViewerIndependentFields = Readonly<Record<string, readonly string[]>>;

type Result = ExecutionResult | Promise<ExecutionResult>;

// Shared executions get this context instead of a subscriber's: a field that reads the context
// finds nothing, rather than someone else's viewer or loaders.
const NO_VIEWER_CONTEXT = Object.freeze({});

/**
 * Executes a subscription's event once per (event payload, document, operation name, variables) and
 * hands the same result to every subscriber that shares them, instead of once per subscriber.
 *
 * It applies only to operations that select nothing outside `fields` (anything else executes per
 * subscriber, as before). The field's `subscribe` still runs per subscriber with that subscriber's
 * context, and the result still passes through every later plugin (error masking) per subscriber.
 * Sharing needs the source stream to yield the same payload object to every subscriber of an event.
 */
export function useSharedSubscriptionExecution(fields: ViewerIndependentFields): Plugin {
  const allowed = new Map(Object.entries(fields).map(([type, names]) => [type, new Set(names)]));
  // By document alone: a yoga server has one schema.
  const viewerIndependent = new WeakMap<DocumentNode, boolean>();
  const printed = new WeakMap<DocumentNode, string>();
  const executions = new WeakMap<object, Map<string, Result>>();

  const selectsOnlyAllowed = (schema: GraphQLSchema, document: DocumentNode): boolean => {
    let known = viewerIndependent.get(document);
    if (known === undefined) {
      known = true;
      const typeInfo = new TypeInfo(schema);
      visit(
        document,
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            const parent = typeInfo.getParentType();
            if (node.name.value === '__typename' || allowed.get(parent?.name ?? '')?.has(node.name.value)) return;
            known = false;
            return BREAK;
          },
        }),
      );
      viewerIndependent.set(document, known);
    }
    return known;
  };

  const keyOf = (args: ExecutionArgs, coerced: Record<string, unknown>): string => {
    let text = printed.get(args.document);
    if (text === undefined) {
      text = print(args.document);
      printed.set(args.document, text);
    }
    return JSON.stringify([text, args.operationName ?? null, coerced]);
  };

  const executeOnce = (args: ExecutionArgs, key: string, payload: unknown): Result => {
    const run = () => execute({ ...args, rootValue: payload, contextValue: NO_VIEWER_CONTEXT });
    if (typeof payload !== 'object' || payload === null) return run();
    let byKey = executions.get(payload);
    if (!byKey) {
      byKey = new Map();
      executions.set(payload, byKey);
    }
    let result = byKey.get(key);
    if (!result) {
      result = run();
      byKey.set(key, result);
    }
    return result;
  };

  const subscribeShared = async (args: ExecutionArgs, key: string, operation: OperationDefinitionNode) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    return mapAsyncIterator(
      source,
      (payload) => executeOnce(args, key, payload),
      (error: unknown) => {
        // As the default executor does: the client sees a located error, masked by the plugins after us.
        const original = error instanceof Error ? error : new Error(String(error));
        throw new GraphQLError(original.message, { originalError: original, nodes: operation });
      },
    );
  };

  return {
    onSubscribe({ args, setSubscribeFn }) {
      if (!selectsOnlyAllowed(args.schema, args.document)) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      const variables = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
      // Bad variables: leave the operation to the default executor, which reports them as usual.
      if (variables.errors) return;
      const key = keyOf(args, variables.coerced);
      setSubscribeFn((subscribeArgs) => subscribeShared(subscribeArgs, key, operation));
    },
  };
}

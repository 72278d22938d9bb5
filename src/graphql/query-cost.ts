import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { type PageSize, pageSizeOf } from './page-sizes.js';

/** The error code of a refused operation. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/**
 * Items a list that is not a page is counted as: such lists (an order's or a hold's seats, the seats
 * of a refusal) hold at most the seats of one purchase.
 */
export const UNPAGED_LIST_ITEMS = 10;

/**
 * The estimated size of a response: every field counts 1 per time it appears in the response. A
 * connection's selection counts once per item it asks for (`first`/`last` with the variables' values,
 * else its default page, never more than its largest page), and any other list's once per
 * {@link UNPAGED_LIST_ITEMS}. A connection's `edges` are counted by the connection, not again.
 */
export const responseSizeEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const own = 1 + childComplexity;
  if (field.args.some((arg) => arg.name === 'first')) {
    return 1 + pageItems(pageSizeOf(field.extensions), args) * childComplexity;
  }
  const insideConnection = isObjectType(type) && type.getFields().pageInfo !== undefined;
  if (isListType(getNullableType(field.type)) && !insideConnection) return own * UNPAGED_LIST_ITEMS;
  return own;
};

function pageItems(page: PageSize, args: Record<string, unknown>): number {
  const first = typeof args.first === 'number' ? args.first : Number.POSITIVE_INFINITY;
  const last = typeof args.last === 'number' ? args.last : Number.POSITIVE_INFINITY;
  const asked = Math.min(first, last);
  return Math.max(0, Math.min(asked === Number.POSITIVE_INFINITY ? page.defaultSize : asked, page.maxSize));
}

/**
 * Most selections the estimate evaluates (a fragment spread twice is evaluated twice): as many as the
 * token limit lets a document write out, so only fragments spread into fragments reach it.
 */
export const MAX_EVALUATED_SELECTIONS = 3000;

/**
 * The estimated response size of one operation of `document`, with these variables; infinite when
 * evaluating it would take more than {@link MAX_EVALUATED_SELECTIONS}.
 *
 * @throws GraphQLError when the variables do not coerce.
 */
export function responseSize(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName?: string | null,
): number {
  try {
    return getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      ...(operationName ? { operationName } : {}),
      estimators: [responseSizeEstimator],
      maxQueryNodes: MAX_EVALUATED_SELECTIONS,
    });
  } catch (error) {
    if (error instanceof Error && /maximum allowed number of nodes/.test(error.message)) {
      return Number.POSITIVE_INFINITY;
    }
    throw error;
  }
}

/**
 * True when no variable can change the cost: `first`/`last` take an Int, `@include`/`@skip` a
 * Boolean, so an operation that declares neither kind costs the same whatever its variables say.
 */
function costIgnoresVariables(document: DocumentNode): boolean {
  return document.definitions.every(
    (definition) =>
      definition.kind !== Kind.OPERATION_DEFINITION ||
      (definition as OperationDefinitionNode).variableDefinitions?.every((variable) => {
        const named = namedTypeName(variable.type);
        return named !== 'Int' && named !== 'Boolean';
      }) !== false,
  );
}

function namedTypeName(type: TypeNode): string {
  let node = type;
  while (node.kind !== Kind.NAMED_TYPE) node = node.type;
  return node.name.value;
}

/** The refusal: a GraphQL error with a code, answered with HTTP 400, before anything executes. */
export function queryTooComplex(cost: number, maxCost: number): ExecutionResult {
  const about = Number.isFinite(cost) ? `about ${cost}` : 'too many';
  return {
    errors: [
      new GraphQLError(
        `This operation would return ${about} fields, more than the ${maxCost} allowed. ` +
          'Ask for smaller pages (first/last) or fewer nested lists.',
        {
          extensions: {
            code: QUERY_TOO_COMPLEX,
            cost: Number.isFinite(cost) ? cost : null,
            maxCost,
            http: { status: 400 },
          },
        },
      ),
    ],
  };
}

/**
 * Refuses, before it executes, an operation whose estimated response ({@link responseSize}) is over
 * `maxCost`, over HTTP, SSE and graphql-ws alike. It runs where the variables are known, so a page
 * size sent as a variable counts as much as a literal one. An operation whose cost cannot depend on
 * its variables is costed once per document (yoga's parser cache hands the same DocumentNode for the
 * same text), and so is one too large to evaluate. Variables that do not coerce are left to the
 * executor, which refuses them itself.
 */
export function useQueryCostLimit(options: { maxCost: number }): Plugin {
  const fixedCosts = new WeakMap<DocumentNode, Map<string | undefined, number>>();
  // Documents too large to evaluate: refused whatever their variables, without evaluating them again.
  const unbounded = new WeakSet<DocumentNode>();

  const costOf = (args: ExecutionArgs): number | undefined => {
    if (unbounded.has(args.document)) return Number.POSITIVE_INFINITY;
    const operationName = args.operationName ?? undefined;
    const fixed = costIgnoresVariables(args.document);
    const known = fixed ? fixedCosts.get(args.document)?.get(operationName) : undefined;
    if (known !== undefined) return known;
    let cost: number;
    try {
      cost = responseSize(args.schema, args.document, args.variableValues ?? undefined, operationName);
    } catch {
      return undefined;
    }
    if (cost === Number.POSITIVE_INFINITY) unbounded.add(args.document);
    else if (fixed) {
      const byName = fixedCosts.get(args.document) ?? new Map<string | undefined, number>();
      byName.set(operationName, cost);
      fixedCosts.set(args.document, byName);
    }
    return cost;
  };

  const refusal = (args: ExecutionArgs): ExecutionResult | undefined => {
    const cost = costOf(args);
    return cost !== undefined && cost > options.maxCost ? queryTooComplex(cost, options.maxCost) : undefined;
  };

  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = refusal(args);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = refusal(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type Source,
  type SourceLocation,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/** An error as graphql-jit builds it: located by line and column, not by AST node. */
interface CompiledError {
  message: string;
  locations?: readonly SourceLocation[];
  path?: readonly (string | number)[];
  originalError?: Error;
}

/**
 * Runs queries and mutations through graphql-jit once their document has executed `afterRuns`
 * times, so the operations clients repeat (a purchase, a seat map) run as compiled code (less CPU
 * per refused purchase; the results log has the figure), while a one-off document, which would pay a compilation for a single run,
 * stays on the standard executor. Subscriptions are not touched (see useSharedSubscriptionExecution).
 *
 * Clients get the same answers either way (a test holds us to it). graphql-jit answers a variable
 * that fails to coerce without the standard error's location or HTTP 400, and nothing has run by
 * then, so such a request is handed back to the standard executor. Its field errors carry only line
 * and column, which yoga drops when it rebuilds errors; they are rebuilt here as graphql-js errors.
 *
 * Documents are counted by identity: yoga's parser cache hands the same DocumentNode for the same
 * text, and the counts and compiled code go when yoga's cache drops the document.
 */
export function useJitForRepeatedOperations(options: {
  afterRuns: number;
  onCompileError: (result: ExecutionResult) => void;
}): Plugin {
  const runs = new WeakMap<DocumentNode, number>();
  // Per document, by operation name: null when graphql-jit could not compile it.
  const compiled = new WeakMap<DocumentNode, Map<string | undefined, CompiledQuery | null>>();

  const compiledFor = (args: ExecutionArgs): CompiledQuery | null => {
    const operationName = args.operationName ?? undefined;
    let byName = compiled.get(args.document);
    if (!byName) {
      byName = new Map();
      compiled.set(args.document, byName);
    }
    let query = byName.get(operationName);
    if (query === undefined) {
      const result = compileQuery(args.schema, args.document, operationName);
      if (isCompiledQuery(result)) query = result;
      else {
        options.onCompileError(result);
        query = null;
      }
      byName.set(operationName, query);
    }
    return query;
  };

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const count = runs.get(args.document) ?? 0;
      if (count < options.afterRuns) {
        runs.set(args.document, count + 1);
        return;
      }
      const query = compiledFor(args);
      if (!query) return;
      setExecuteFn((execution: ExecutionArgs) => runCompiled(query, execution, executeFn));
    },
  };
}

type Execute = (args: ExecutionArgs) => unknown;

function runCompiled(query: CompiledQuery, execution: ExecutionArgs, standard: Execute) {
  const result = query.query(execution.rootValue, execution.contextValue, execution.variableValues);
  return result instanceof Promise
    ? result.then((settled) => asStandardResult(settled, execution, standard))
    : asStandardResult(result, execution, standard);
}

function asStandardResult(result: ExecutionResult, execution: ExecutionArgs, standard: Execute) {
  if (!result.errors) return result;
  // No data: the request failed before any resolver ran, so the standard executor may answer it.
  if (!('data' in result)) return standard(execution);
  const source = execution.document.loc?.source;
  return { ...result, errors: result.errors.map((error) => asGraphQLError(error, source)) };
}

/** The error graphql-js would have built: same message, path, cause, and locations. */
function asGraphQLError(error: CompiledError, source: Source | undefined): GraphQLError {
  return new GraphQLError(error.message, {
    source,
    positions: source && error.locations?.map((location) => offsetOf(source.body, location)),
    path: error.path,
    originalError: error.originalError,
  });
}

/** The character offset of a 1-based line and column, counting lines as graphql-js does. */
function offsetOf(body: string, { line, column }: SourceLocation): number {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = body.slice(offset).search(/\r\n|[\n\r]/);
    if (next < 0) break;
    offset += next + (body.startsWith('\r\n', offset + next) ? 2 : 1);
  }
  return offset + column - 1;
}

import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createYoga, type GraphiQLOptions, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { BadRequestError } from '../errors.js';
import { SlowSubscriberError } from '../events/subscriber-stream.js';
import { unavailableDependency } from '../infra/unavailable.js';
import type { Logger } from '../logger.js';
import { RateLimitedError } from '../sales/errors.js';
import { useJitForRepeatedOperations } from '../transport/jit.js';
import { useSharedSubscriptionExecution } from '../transport/shared-execution.js';
import { useArmorLimits } from './armor.js';
import { type AppServices, authorizationOf, type Context, createContext, type InitialContext } from './context.js';
import { useQueryCostLimit } from './query-cost.js';
import { schema } from './schema.js';
import { VIEWER_INDEPENDENT_AVAILABILITY_FIELDS } from './types/availability.js';

/**
 * The GraphQL metrics kept: request and HTTP latency and errors. The per-phase ones (parse, validate,
 * context, execute…) would add several timers to every purchase.
 */
const PROMETHEUS_METRICS = {
  graphql_yoga_http_duration: true,
  graphql_envelop_request_duration: true,
  graphql_envelop_error_result: true,
  graphql_envelop_request: false,
  graphql_envelop_request_time_summary: false,
  graphql_envelop_phase_parse: false,
  graphql_envelop_phase_validate: false,
  graphql_envelop_phase_context: false,
  graphql_envelop_phase_execute: false,
  graphql_envelop_phase_subscribe: false,
  graphql_envelop_deprecated_field: false,
  graphql_envelop_schema_change: false,
} as const;

/** The GraphQL server as one value: yoga plus our plugins. */
export type Yoga = YogaServerInstance<Record<string, never>, Context>;

const GRAPHIQL_QUERY = `# Flux-Order. Paste a token into Headers as {"Authorization": "Bearer <token>"} to buy.
query Events {
  events(first: 5) {
    edges {
      node {
        id
        name
        venue
        startsAt
        onSale
        availability { available held sold total }
        tickets(first: 5, status: AVAILABLE) {
          edges { node { id section row seat priceCents status version } }
        }
      }
    }
  }
}
`;

/**
 * Renders the GraphiQL page with its scripts, styles and workers inlined (@graphql-yoga/render-graphiql,
 * about 9 MB): imported on first use, so an instance that never serves GraphiQL never loads it, and
 * rendered once per server, since its options never change.
 */
function offlineGraphiQL(): (options: GraphiQLOptions) => Promise<string> {
  let page: Promise<string> | undefined;
  return (options) => {
    page ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
    return page;
  };
}

/** How long a client should wait before retrying when a dependency is down. */
const RETRY_AFTER_UNAVAILABLE_SECONDS = 1;

/**
 * Errors that are safe and useful to show as they are, with a code clients can act on. A request that
 * found Redis or Postgres unreachable is SERVICE_UNAVAILABLE (503, Retry-After), and logged once per
 * interval per dependency; anything else unexpected is masked and logged the same way.
 */
const exposeKnownErrors =
  (logger: Logger) =>
  (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const down = unavailableDependency(original);
    if (down) {
      logger.failure(`${down} unavailable`, original);
      return new GraphQLError(
        'The service is briefly unavailable. Retry shortly with the same idempotencyKey: a purchase that reached the database just before may have gone through.',
        {
          extensions: {
            code: 'SERVICE_UNAVAILABLE',
            retryAfterSeconds: RETRY_AFTER_UNAVAILABLE_SECONDS,
            http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_UNAVAILABLE_SECONDS) } },
          },
        },
      );
    }
    if (error instanceof PothosValidationError || original instanceof PothosValidationError) {
      // A client's mistake Pothos caught (an id of another type): said as it is, with a code.
      const source = error as GraphQLError;
      return new GraphQLError(source.message, {
        nodes: source.nodes,
        path: source.path,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    if (original instanceof SlowSubscriberError) {
      return new GraphQLError(original.message, { extensions: { code: 'SLOW_SUBSCRIBER' } });
    }
    if (original instanceof BadRequestError) {
      return new GraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    if (original instanceof RateLimitedError) {
      const retryAfterSeconds = Math.max(1, Math.ceil(original.retryAfterMs / 1000));
      return new GraphQLError(original.message, {
        extensions: {
          code: 'RATE_LIMITED',
          retryAfterSeconds,
          http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
        },
      });
    }
    if (original !== undefined && !(original instanceof GraphQLError)) logger.failure('unexpected error', original);
    return maskError(error, message, isDev);
  };

/**
 * Yoga with the safety rails: query depth, alias, token and cost limits (graphql-armor), and, in
 * production, no introspection or GraphiQL unless turned on.
 */
export function createGraphQLServer(config: Config, services: AppServices, logger: Logger, registry?: Registry): Yoga {
  const plugins: Plugin[] = [
    useArmorLimits({ blockFieldSuggestion: config.nodeEnv === 'production' }),
    // The estimated response size, with the variables' page sizes: refused before anything runs.
    useQueryCostLimit({ maxCost: config.maxQueryCost }),
    // Over graphql-ws (getEnveloped) and SSE alike: one execution per live message, not per subscriber.
    useSharedSubscriptionExecution(VIEWER_INDEPENDENT_AVAILABILITY_FIELDS),
    // Less CPU per repeated operation through compiled code (loadtest/results/LOG.md).
    useJitForRepeatedOperations({
      afterRuns: 3,
      onCompileError: (result) => logger.warn('graphql-jit could not compile an operation', result.errors),
    }),
  ];
  if (!config.introspection) plugins.push(useDisableIntrospection());
  // Served at /metrics by the ops gate (src/ops/http.ts), beside the domain's metrics.
  if (registry) plugins.push(usePrometheus({ registry, endpoint: false, metrics: PROMETHEUS_METRICS }));
  return createYoga<Record<string, never>, Context>({
    schema,
    plugins,
    graphqlEndpoint: '/graphql',
    // CORS and CSRF are decided before yoga, on every answer (transport/cors.ts, transport/csrf.ts).
    cors: false,
    // The HTTP server refuses bodies over MAX_BODY_BYTES and bodies without a Content-Length before
    // yoga sees them (transport/body-limit.ts), and Node's parser never reads past Content-Length, so
    // yoga's own limit, which pipes every body through a counting stream, would only cost CPU.
    maxRequestBodySize: false,
    landingPage: false,
    graphiql: config.graphiql ? { title: 'Flux-Order', defaultQuery: GRAPHIQL_QUERY } : false,
    // Every asset inside the page (no CDN): GraphiQL works offline and loads nothing from elsewhere.
    renderGraphiQL: offlineGraphiQL(),
    logging: {
      debug() {},
      info: (...args: unknown[]) => logger.info(args.map(String).join(' ')),
      warn: (...args: unknown[]) => logger.warn(String(args[0]), args[1]),
      error: (...args: unknown[]) =>
        logger.failure('graphql server error', args.find((a) => a instanceof Error) ?? args[0]),
    },
    maskedErrors: { maskError: exposeKnownErrors(logger) },
    context: (initial: InitialContext) => createContext(services, authorizationOf(initial)),
  });
}

import type { IncomingMessage, Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createPayloadJson } from './payload-json.js';

const SHUTTING_DOWN = new GraphQLError('This instance is shutting down; retry the operation.', {
  extensions: { code: 'SERVICE_UNAVAILABLE' },
});

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
};

/** The limits of the WebSocket endpoint. */
export interface GraphQLWsLimits {
  /** A larger message closes its socket with 1009 (message too big); the HTTP body limit. */
  maxPayloadBytes: number;
  /** Open sockets one client address may have; the next upgrade is refused with HTTP 429. */
  maxConnectionsPerAddress: number;
}

/**
 * Serves the `graphql-transport-ws` protocol on the HTTP server's own port and path. Each operation
 * goes through yoga's `getEnveloped`, so WebSocket requests get the same plugins, context (token from
 * `connectionParams.authorization`) and error masking as HTTP ones. A socket that sends no
 * `connection_init` within graphql-ws's default wait (3 s) is closed with 4408.
 */
export function attachGraphQLWs(
  server: Server,
  // biome-ignore lint/suspicious/noExplicitAny: any yoga instance, whatever its context type
  yoga: YogaServerInstance<Record<string, never>, any>,
  limits: GraphQLWsLimits,
) {
  const payloadJson = createPayloadJson();
  const perAddress = limitConnectionsPerAddress(limits.maxConnectionsPerAddress);
  const wsServer = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    WebSocket: payloadJson.Socket,
    maxPayload: limits.maxPayloadBytes,
    verifyClient: perAddress.verifyClient,
  });
  wsServer.on('connection', perAddress.track);
  // Operations (a mutation, a query) being executed now; a drain lets them answer before the sockets go.
  let executing = 0;
  let draining = false;
  const disposable = useServer<Record<string, unknown>>(
    {
      // Each result's data becomes JSON once, not once per socket (see payload-json.ts).
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => withoutHttp(error).toJSON()) }
          : payloadJson.payload(result),
      // HTTP status and headers mean nothing on a socket: only message, path and code reach the client.
      onError: (_ctx, _id, _payload, errors) => errors.map(withoutHttp),
      execute: async (args) => {
        executing++;
        try {
          return (await (args as EnvelopedArgs).rootValue.execute(args)) as never;
        } finally {
          executing--;
        }
      },
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        if (draining) return [SHUTTING_DOWN];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          connectionParams: ctx.connectionParams,
          params,
        });
        try {
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return errors;
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            // A bad token fails here, as on HTTP, and reaches the client as this operation's error.
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    wsServer,
  );
  return {
    /**
     * Refuses new operations (SERVICE_UNAVAILABLE), lets those being executed answer for up to
     * `graceMs`, then closes every socket (1001, going away) and the server.
     */
    async close(graceMs = 0) {
      draining = true;
      const deadline = performance.now() + graceMs;
      while (executing > 0 && performance.now() < deadline) await sleep(20);
      for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** The error without `extensions.http`, which tells yoga's HTTP answer its status and headers. */
function withoutHttp(error: GraphQLError): GraphQLError {
  if (error.extensions?.http === undefined) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

/**
 * Counts open sockets per client address (`remoteAddress`: behind a proxy, every client shares the
 * proxy's) and refuses an upgrade over `max` with 429 before the handshake completes. ws completes
 * an upgrade in the same turn as a callback-style `verifyClient` that answers synchronously, so the
 * count is raised before the next upgrade is verified and a burst cannot slip past it.
 */
function limitConnectionsPerAddress(max: number) {
  const counts = new Map<string, number>();
  const addressOf = (request: IncomingMessage) => request.socket.remoteAddress ?? 'unknown';
  return {
    verifyClient(
      info: { req: IncomingMessage },
      answer: (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
    ) {
      if ((counts.get(addressOf(info.req)) ?? 0) < max) answer(true);
      else answer(false, 429, 'Too many WebSocket connections from this address', { 'Retry-After': '10' });
    },
    track(socket: { once(event: 'close', listener: () => void): unknown }, request: IncomingMessage) {
      const address = addressOf(request);
      counts.set(address, (counts.get(address) ?? 0) + 1);
      socket.once('close', () => {
        const left = (counts.get(address) ?? 1) - 1;
        if (left > 0) counts.set(address, left);
        else counts.delete(address);
      });
    },
  };
}

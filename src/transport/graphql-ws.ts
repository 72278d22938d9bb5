import type { Server } from 'node:http';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createPayloadJson } from './payload-json.js';

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
};

/**
 * Serves the `graphql-transport-ws` protocol on the HTTP server's own port and path. Each operation
 * goes through yoga's `getEnveloped`, so WebSocket requests get the same plugins, context (token from
 * `connectionParams.authorization`) and error masking as HTTP ones.
 */
// biome-ignore lint/suspicious/noExplicitAny: any yoga instance, whatever its context type
export function attachGraphQLWs(server: Server, yoga: YogaServerInstance<Record<string, never>, any>) {
  const payloadJson = createPayloadJson();
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, WebSocket: payloadJson.Socket });
  const disposable = useServer<Record<string, unknown>>(
    {
      // Each result's data becomes JSON once, not once per socket (see payload-json.ts).
      onNext: (_ctx, _id, _payload, _args, result) => payloadJson.payload(result),
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
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
    /** Closes every socket (1001, going away) and the server. */
    async close() {
      for (const client of wsServer.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

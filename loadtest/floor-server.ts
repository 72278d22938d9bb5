import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import type { Result as RedisResult } from 'ioredis';
import { closeRedis, createRedis } from '../src/infra/redis-client.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    floorTakeAll(count: number, ...keys: string[]): RedisResult<number[], Context>;
    floorTakeStock(key: string, quantity: number, capacity: number): RedisResult<number, Context>;
  }
}

/**
 * The floor server: bare graphql-yoga plus one Redis round trip per purchase, nothing else (no token
 * check, no database, no Pothos). It answers the product's purchase mutations with the same result
 * types, so the generator sends byte-identical requests to both. It is the most this stack can do on
 * this box; product figures are quoted as a ratio of it. One seat is one `SET key 1 NX`; a group is
 * one script that sets every key only if none exists, and otherwise names the ones that do.
 */
const port = Number(process.env.PORT ?? 4100);
const host = process.env.HOST ?? '127.0.0.1';
const prefix = process.env.REDIS_KEY_PREFIX ?? 'flux-floor:';
const redis = createRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, 'flux-order:floor', {
  commandTimeoutMs: 2000,
  onError: (error) => console.error('redis', error),
});
redis.defineCommand('floorTakeAll', {
  lua: `
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then taken[#taken + 1] = i end
end
if #taken == 0 then
  for _, key in ipairs(KEYS) do redis.call('SET', key, '1') end
end
return taken`,
});

// Best available on the floor: one counter per event, taken N at a time up to FLOOR_CAPACITY (the
// seckill gate: no seat is chosen, no database). Returns the units left before, or -1 when short.
const capacity = Number(process.env.FLOOR_CAPACITY ?? 1_000_000_000);
redis.defineCommand('floorTakeStock', {
  numberOfKeys: 1,
  lua: `
local taken = redis.call('INCRBY', KEYS[1], ARGV[1])
if taken > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return -1
end
return taken`,
});

const typeDefs = /* GraphQL */ `
  interface Error { message: String! }
  type Order { id: ID! totalCents: Int! }
  type PurchaseTicketSuccess { order: Order! }
  enum TicketUnavailableReason { LOCKED HELD SOLD }
  type TicketUnavailable implements Error { message: String! reason: TicketUnavailableReason! ticketId: ID! }
  type NotFound implements Error { message: String! id: ID! }
  union PurchaseTicketResult = PurchaseTicketSuccess | TicketUnavailable | NotFound
  input PurchaseTicketInput { ticketId: ID! }
  type PurchaseTicketsSuccess { order: Order! }
  type UnavailableTicket { ticketId: ID! reason: TicketUnavailableReason! }
  type TicketsUnavailable implements Error { message: String! tickets: [UnavailableTicket!]! }
  union PurchaseTicketsResult = PurchaseTicketsSuccess | TicketsUnavailable | NotFound
  input PurchaseTicketsInput { ticketIds: [ID!]! }
  type Hold { id: ID! expiresAt: String! }
  type HoldBestAvailableSuccess { hold: Hold! }
  type NotEnoughSeats implements Error { message: String! requested: Int! available: Int! }
  union HoldBestAvailableResult = HoldBestAvailableSuccess | NotEnoughSeats | NotFound
  input HoldBestAvailableInput { eventId: ID! quantity: Int! sections: [String!] maxPriceCents: Int together: Boolean = true idempotencyKey: String }
  type Query { ok: Boolean! }
  type Mutation {
    purchaseTicket(input: PurchaseTicketInput!): PurchaseTicketResult!
    purchaseTickets(input: PurchaseTicketsInput!): PurchaseTicketsResult!
    holdBestAvailable(input: HoldBestAvailableInput!): HoldBestAvailableResult!
  }
`;

interface Result {
  __typename:
    | 'PurchaseTicketSuccess'
    | 'TicketUnavailable'
    | 'PurchaseTicketsSuccess'
    | 'TicketsUnavailable'
    | 'HoldBestAvailableSuccess'
    | 'NotEnoughSeats';
  [field: string]: unknown;
}

const yoga = createYoga({
  graphqlEndpoint: '/graphql',
  // As in the product (src/graphql/yoga.ts): its HTTP server caps bodies, so yoga's per-body
  // counting stream is off. The floor keeps every saving the product takes.
  maxRequestBodySize: false,
  landingPage: false,
  graphiql: false,
  logging: false,
  schema: createSchema({
    typeDefs,
    resolvers: {
      Query: { ok: () => true },
      Mutation: {
        purchaseTicket: async (_root: unknown, args: { input: { ticketId: string } }): Promise<Result> => {
          const ticketId = args.input.ticketId;
          const taken = await redis.set(`${prefix}${ticketId}`, '1', 'NX');
          if (taken === 'OK')
            return { __typename: 'PurchaseTicketSuccess', order: { id: randomUUID(), totalCents: 0 } };
          return { __typename: 'TicketUnavailable', reason: 'SOLD', ticketId, message: 'sold' };
        },
        purchaseTickets: async (_root: unknown, args: { input: { ticketIds: string[] } }): Promise<Result> => {
          const ids = args.input.ticketIds;
          const taken = await redis.floorTakeAll(ids.length, ...ids.map((id) => `${prefix}${id}`));
          if (taken.length === 0)
            return { __typename: 'PurchaseTicketsSuccess', order: { id: randomUUID(), totalCents: 0 } };
          const tickets = taken.map((i) => ({ ticketId: ids[i - 1], reason: 'SOLD' }));
          return { __typename: 'TicketsUnavailable', tickets, message: 'sold' };
        },
        holdBestAvailable: async (
          _root: unknown,
          args: { input: { eventId: string; quantity: number } },
        ): Promise<Result> => {
          const { eventId, quantity } = args.input;
          const taken = await redis.floorTakeStock(`${prefix}stock:${eventId}`, quantity, capacity);
          if (taken >= 0) return { __typename: 'HoldBestAvailableSuccess', hold: { id: randomUUID(), expiresAt: '' } };
          return { __typename: 'NotEnoughSeats', requested: quantity, available: 0, message: 'sold out' };
        },
      },
    },
  }),
});

const server = createServer(yoga);
server.listen(port, host, () => console.log(`floor server listening: http://${host}:${port}/graphql`));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    closeRedis(redis).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
});

import { GraphQLError } from 'graphql';
import { bearerToken, InvalidTokenError, type TokenVerifier, type Viewer } from '../auth/tokens.js';
import type { NewEvent } from '../catalog/events.js';
import type { Db } from '../db/client.js';
import type { AvailabilityHub } from '../events/availability-hub.js';
import type { PurchaseService } from '../sales/purchase-service.js';
import { createLoaders, type Loaders } from './loaders.js';

/** Long-lived services an app instance hands to every request. */
export interface AppServices {
  db: Db;
  /** Buying and cancelling: the only door resolvers use for them. */
  purchases: PurchaseService;
  verifyToken: TokenVerifier;
  availability: AvailabilityHub;
  /** Creates an event and its seats (catalog/events.ts), its Redis marks opened. */
  createEvent: (input: NewEvent) => Promise<{ eventId: string; ticketsCreated: number }>;
  /** Tells every instance an event's sale window or limit changed. */
  announceSaleChange: (eventId: string) => void;
}

/** The GraphQL context: who is asking, the services, and this request's loaders. */
export interface Context {
  viewer: Viewer | null;
  services: AppServices;
  loaders: Loaders;
}

/**
 * Builds the context from an `Authorization` value (HTTP header, or graphql-ws `connectionParams`,
 * see {@link authorizationOf}).
 * No token means an anonymous viewer; a bad token is an UNAUTHENTICATED error, never anonymous, and
 * costs no database query.
 */
export async function createContext(services: AppServices, authorization: string | null | undefined): Promise<Context> {
  let viewer: Viewer | null = null;
  try {
    const token = bearerToken(authorization);
    if (token !== undefined) viewer = services.verifyToken(token);
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    throw new GraphQLError(error.message, {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  return { viewer, services, loaders: createLoaders(services.db, viewer?.customerId ?? null) };
}

/** The initial context yoga gives us: an HTTP request, or graphql-ws connection params. */
export interface InitialContext {
  request?: Request;
  connectionParams?: Readonly<Record<string, unknown>>;
}

/** The `Authorization` value from either transport, checked the same way afterwards. */
export function authorizationOf(initial: InitialContext): string | undefined {
  const fromHeader = initial.request?.headers.get('authorization');
  if (fromHeader) return fromHeader;
  const params = initial.connectionParams ?? {};
  const fromParams = params.authorization ?? params.Authorization;
  return typeof fromParams === 'string' ? fromParams : undefined;
}

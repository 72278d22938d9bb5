import type { Viewer } from '../auth/tokens.js';
import type { SaleSettingsCache } from '../catalog/sale-settings.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { TicketKey } from '../catalog/ticket-key.js';
import type { Db } from '../db/client.js';
import type { HoldRow, OrderRow } from '../db/schema.js';
import { BadRequestError, ExpectedError, InvalidInputError } from '../errors.js';
import type { AttemptLimiter } from '../infra/attempt-limiter.js';
import type { KeyAttempts } from '../infra/key-attempts.js';
import type { SeatIndex } from '../infra/seat-index.js';
import type { TicketLock } from '../infra/ticket-lock.js';
import { type BestAvailableInput, bestRequest, holdBestAvailable } from './best-available.js';
import { cancelOrder } from './cancel.js';
import { RateLimitedError, TicketsUnavailableError, TicketUnavailableError } from './errors.js';
import type { GroupCommitter } from './group-commit.js';
import { checkout, holdSeats, releaseHold } from './holds.js';
import { idempotencyKey, type SaleRequest, type SeatsInput, saleRequest } from './sale-request.js';
import type { Sale, SellSeats } from './settle.js';

/** The one door for buying and cancelling: resolvers, scripts and the load test all come through it. */
export interface PurchaseService {
  /**
   * One seat, with the one-seat failure type (TicketUnavailableError rather than a list of one).
   *
   * @throws BadRequestError, RateLimitedError, TicketUnavailableError, NotFoundError,
   *   SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError or IdempotencyKeyReusedError.
   */
  purchaseTicket(input: { ticket: TicketKey; customerId: string; idempotencyKey?: string | null }): Promise<OrderRow>;
  /**
   * Several seats of one event, all or none.
   *
   * @throws BadRequestError, RateLimitedError, TicketsUnavailableError (naming every seat that could
   *   not be had), NotFoundError, SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError or
   *   IdempotencyKeyReusedError (the key made an order of other seats).
   */
  purchaseTickets(input: SeatsInput): Promise<OrderRow>;
  /**
   * Cancels an order and puts its seats back on sale (see cancel.ts for who may).
   *
   * @throws NotFoundError or OrderNotCancellableError.
   */
  cancelOrder(input: { orderId: string; viewer: Viewer }): Promise<OrderRow>;
  /**
   * Holds seats of one event for the buyer, all or none, until the hold expires (see holds.ts).
   *
   * @throws InvalidInputError, RateLimitedError, TicketsUnavailableError, NotFoundError,
   *   SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError or IdempotencyKeyReusedError.
   */
  holdSeats(input: SeatsInput): Promise<HoldRow>;
  /**
   * Holds the best N free seats of an event, chosen by the server (catalog/best-seats.ts), all or
   * none, like holdSeats (see best-available.ts).
   *
   * @throws InvalidInputError, RateLimitedError, NotEnoughSeatsError, NotFoundError,
   *   SaleNotOpenError, SaleClosedError, PurchaseLimitReachedError or IdempotencyKeyReusedError.
   */
  holdBestAvailable(input: BestAvailableInput): Promise<HoldRow>;
  /**
   * Turns the buyer's ACTIVE hold into an order; a retry returns the same order.
   *
   * @throws BadRequestError, NotFoundError, HoldExpiredError or IdempotencyKeyReusedError (the key
   *   made another order).
   */
  checkout(input: { holdId: string; customerId: string; idempotencyKey?: string | null }): Promise<OrderRow>;
  /**
   * Puts an ACTIVE hold's seats back on sale at once; a hold no longer ACTIVE is returned unchanged.
   *
   * @throws NotFoundError.
   */
  releaseHold(input: { holdId: string; customerId: string }): Promise<HoldRow>;
}

/** What the service is made of; `app.ts` builds it once per instance. */
export interface PurchaseServiceDeps {
  lock: TicketLock;
  /** What Redis remembers of each idempotency key's attempts (holds' keys; purchases' go through `sell`). */
  keyAttempts: KeyAttempts;
  /** The per-event free-seat index that best-available picks from. */
  seatIndex: SeatIndex;
  /** The per-customer attempt budget, taken once per purchase; undefined when turned off. */
  attempts: AttemptLimiter | undefined;
  /** How seats are sold: the product's `createLockedSale`, or a contender the load test compares. */
  sell: SellSeats;
  /** Told about each sale's or cancellation's committed changes, after the commit. Must not throw. */
  publish: (eventId: string, changes: TicketChange[]) => void;
  onLockError: (error: unknown) => void;
  /** The sale window and limit, cached; holds check the window before they lock. */
  saleSettings: SaleSettingsCache;
  /** How long a hold lasts when its event names no `holdMinutes`. */
  holdTtlMs: number;
  /** How long a retry with the same idempotency key waits for its in-flight twin (the lock TTL). */
  inFlightWaitMs: number;
  /** Commits holds and checkouts in groups (group-commit.ts); undefined: each alone. */
  groupCommit?: GroupCommitter | undefined;
  /** Told how each call ended and how long it took (metrics). Must not throw. */
  observe?: ((outcome: ServiceOutcome) => void) | undefined;
  lockTaken?: ((seconds: number) => void) | undefined;
}

/** How one call of the service ended. */
export interface ServiceOutcome {
  operation: 'purchase' | 'hold' | 'checkout' | 'release' | 'cancel';
  /** `ok`, an expected failure's name without "Error" (TicketsUnavailable…), or `error`. */
  outcome: string;
  /** The first refused seat's reason (LOCKED, HELD, SOLD), for TicketUnavailable(s). */
  reason?: string | undefined;
  seconds: number;
}

/**
 * Builds the purchase service over `db`. Every purchase goes the same way: the input rules
 * ({@link saleRequest}), the customer's attempt budget, the selected way to sell, then the
 * publication of what changed.
 */
export function createPurchaseService(db: Db, deps: PurchaseServiceDeps): PurchaseService {
  return observed(createService(db, deps), deps.observe);
}

function createService(db: Db, deps: PurchaseServiceDeps): PurchaseService {
  const admit = async (request: Pick<SaleRequest, 'customerId'>): Promise<void> => {
    const retryAfterMs = (await deps.attempts?.take(request.customerId)) ?? 0;
    if (retryAfterMs > 0) throw new RateLimitedError(retryAfterMs);
  };
  const purchase = async (input: SeatsInput): Promise<OrderRow> => {
    const request = saleRequest(input);
    await admit(request);
    return published(deps, request.eventId, await deps.sell(db, request));
  };
  return {
    purchaseTickets: purchase,
    async purchaseTicket({ ticket, ...rest }) {
      try {
        return await purchase({ ...rest, tickets: [ticket] });
      } catch (error) {
        throw asSingleSeatError(error);
      }
    },
    async cancelOrder(input) {
      const cancelled = await cancelOrder(db, deps, input);
      return published(deps, cancelled.order.eventId, cancelled);
    },
    async holdSeats(input) {
      const request = asInvalidInput(() => saleRequest(input));
      await admit(request);
      const { hold, changed } = await holdSeats(db, deps, request);
      if (changed.length > 0) deps.publish(hold.eventId, changed);
      return hold;
    },
    async holdBestAvailable(input) {
      const request = bestRequest(input);
      await admit({ customerId: request.customerId });
      const { hold, changed } = await holdBestAvailable(db, deps, request);
      if (changed.length > 0) deps.publish(hold.eventId, changed);
      return hold;
    },
    async checkout(input) {
      const result = await checkout(db, deps, { ...input, idempotencyKey: idempotencyKey(input.idempotencyKey) });
      if ('error' in result) throw result.error;
      const [first] = result.changed;
      if (first) deps.publish(first.eventId, result.changed);
      return result.order;
    },
    async releaseHold(input) {
      return releaseHold(db, deps, input);
    },
  };
}

/** Input-rule failures of a hold are the typed InvalidInput member of its result. */
function asInvalidInput<T>(apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    if (error instanceof BadRequestError) throw new InvalidInputError([{ path: 'input', message: error.message }]);
    throw error;
  }
}

function published(deps: PurchaseServiceDeps, eventId: string, sale: Sale): OrderRow {
  if (sale.changed.length > 0) deps.publish(eventId, sale.changed);
  return sale.order;
}

/** A one-seat purchase reports its refusal as TicketUnavailable rather than a list of one. */
function asSingleSeatError(error: unknown): unknown {
  const [only] = error instanceof TicketsUnavailableError ? error.tickets : [];
  return only ? new TicketUnavailableError(only.ticketId, only.reason, only.eventId) : error;
}

const OPERATIONS: Record<keyof PurchaseService, ServiceOutcome['operation']> = {
  purchaseTicket: 'purchase',
  purchaseTickets: 'purchase',
  cancelOrder: 'cancel',
  holdSeats: 'hold',
  holdBestAvailable: 'hold',
  checkout: 'checkout',
  releaseHold: 'release',
};

/** The service with each call timed and its outcome reported, when someone listens. */
function observed(service: PurchaseService, observe: PurchaseServiceDeps['observe']): PurchaseService {
  if (!observe) return service;
  const wrapped = {} as Record<keyof PurchaseService, (input: never) => Promise<unknown>>;
  for (const name of Object.keys(OPERATIONS) as (keyof PurchaseService)[]) {
    const call = service[name] as (input: never) => Promise<unknown>;
    wrapped[name] = async (input) => {
      const started = performance.now();
      const report = (outcome: string, reason?: string) =>
        observe({ operation: OPERATIONS[name], outcome, reason, seconds: (performance.now() - started) / 1000 });
      try {
        const result = await call(input);
        report('ok');
        return result;
      } catch (error) {
        report(...outcomeOf(error));
        throw error;
      }
    };
  }
  return wrapped as unknown as PurchaseService;
}

function outcomeOf(error: unknown): [string, string?] {
  if (!(error instanceof ExpectedError)) return ['error'];
  const name = error.name.replace(/Error$/, '');
  if (error instanceof TicketUnavailableError) return [name, error.reason];
  if (error instanceof TicketsUnavailableError) return [name, error.tickets[0]?.reason];
  return [name];
}

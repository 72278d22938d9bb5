import type { Viewer } from '../auth/tokens.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { TicketKey } from '../catalog/ticket-key.js';
import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema.js';
import type { AttemptLimiter } from '../infra/attempt-limiter.js';
import type { TicketLock } from '../infra/ticket-lock.js';
import { cancelOrder } from './cancel.js';
import { RateLimitedError, TicketsUnavailableError, TicketUnavailableError } from './errors.js';
import { type SeatsInput, saleRequest } from './sale-request.js';
import type { Sale, SellSeats } from './settle.js';

/** The one door for buying and cancelling: resolvers, scripts and the load test all come through it. */
export interface PurchaseService {
  /**
   * One seat, with the one-seat failure type (TicketUnavailableError rather than a list of one).
   *
   * @throws BadRequestError, RateLimitedError, TicketUnavailableError, NotFoundError,
   *   SaleNotOpenError, SaleClosedError or PurchaseLimitReachedError.
   */
  purchaseTicket(input: { ticket: TicketKey; customerId: string; idempotencyKey?: string | null }): Promise<OrderRow>;
  /**
   * Several seats of one event, all or none.
   *
   * @throws BadRequestError, RateLimitedError, TicketsUnavailableError (naming every seat that could
   *   not be had), NotFoundError, SaleNotOpenError, SaleClosedError or PurchaseLimitReachedError.
   */
  purchaseTickets(input: SeatsInput): Promise<OrderRow>;
  /**
   * Cancels an order and puts its seats back on sale (see cancel.ts for who may).
   *
   * @throws NotFoundError or OrderNotCancellableError.
   */
  cancelOrder(input: { orderId: string; viewer: Viewer }): Promise<OrderRow>;
}

/** What the service is made of; `app.ts` builds it once per instance. */
export interface PurchaseServiceDeps {
  lock: TicketLock;
  /** The per-customer attempt budget, taken once per purchase; undefined when turned off. */
  attempts: AttemptLimiter | undefined;
  /** How seats are sold: the product's `createLockedSale`, or a contender the load test compares. */
  sell: SellSeats;
  /** Told about each sale's or cancellation's committed changes, after the commit. Must not throw. */
  publish: (eventId: string, changes: TicketChange[]) => void;
  onLockError: (error: unknown) => void;
}

/**
 * Builds the purchase service over `db`. Every purchase goes the same way: the input rules
 * ({@link saleRequest}), the customer's attempt budget, the selected way to sell, then the
 * publication of what changed.
 */
export function createPurchaseService(db: Db, deps: PurchaseServiceDeps): PurchaseService {
  const purchase = async (input: SeatsInput): Promise<OrderRow> => {
    const request = saleRequest(input);
    const retryAfterMs = (await deps.attempts?.take(request.customerId)) ?? 0;
    if (retryAfterMs > 0) throw new RateLimitedError(retryAfterMs);
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
  };
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

import type { Db } from '../db/client.js';
import type { OrderRow, TicketStatus } from '../db/schema.js';
import { asSingleSeatError, PurchaseLimitReachedError, TicketUnavailableError, ticketNotFound } from './errors.js';
import type { PurchaseDeps, PurchaseInput } from './purchase.js';
import { explainRefusal } from './refusal.js';
import type { SaleRequest, SaleResult } from './sale-transaction.js';

/** The product's one-seat sale request, for the strategies that hand the write to `commitSale`. */
export function oneSeatRequest(input: PurchaseInput): SaleRequest {
  return {
    eventId: input.eventId,
    ticketIds: [input.ticketId],
    customerId: input.customerId,
    idempotencyKey: input.idempotencyKey,
  };
}

/** What a strategy's own guard found before the sale transaction: no such seat, or not for sale. */
export type GuardRefusal = { kind: 'guard'; status: TicketStatus | null };

/**
 * Turns a strategy's outcome into the contract purchaseTicket keeps: the order (after telling
 * `onTicketChanged` about each seat), or the expected failure. Refusals by `commitSale` are
 * explained as the product explains them, after the rollback.
 */
export async function settleSale(
  db: Db,
  deps: PurchaseDeps,
  input: PurchaseInput,
  outcome: SaleResult | GuardRefusal,
): Promise<OrderRow> {
  switch (outcome.kind) {
    case 'sold':
      for (const ticket of outcome.tickets) deps.onTicketChanged?.(ticket);
      return outcome.order;
    case 'duplicate':
      return outcome.order;
    case 'limit':
      throw new PurchaseLimitReachedError(outcome.limit, outcome.held);
    case 'guard':
      if (outcome.status === null) throw ticketNotFound(input.eventId, input.ticketId);
      // A seat AVAILABLE again under our guard lost a race with a release: the buyer may retry.
      throw new TicketUnavailableError(
        input.ticketId,
        outcome.status === 'AVAILABLE' ? 'LOCKED' : outcome.status,
        input.eventId,
      );
    case 'refused': {
      throw asSingleSeatError(await explainRefusal(db, oneSeatRequest(input), new Date()));
    }
  }
}

import type { Db } from '../db/client.js';
import type { OrderRow, TicketStatus } from '../db/schema.js';
import {
  PurchaseLimitReachedError,
  TicketsUnavailableError,
  ticketNotFound,
  type UnavailableTicket,
} from './errors.js';
import type { PurchaseDeps, PurchaseManyInput } from './purchase.js';
import { explainRefusal } from './refusal.js';
import type { SaleRequest, SaleResult } from './sale-transaction.js';

/** The sale request for a purchase: distinct ids in sorted order, as `commitSale` wants them. */
export function saleRequest(input: PurchaseManyInput): SaleRequest {
  return {
    eventId: input.eventId,
    ticketIds: [...new Set(input.ticketIds)].sort(),
    customerId: input.customerId,
    idempotencyKey: input.idempotencyKey,
  };
}

/** What a strategy's own guard found before the sale: each requested seat's status (absent: no such seat). */
export type GuardRefusal = { kind: 'guard'; statuses: Map<string, TicketStatus> };

/**
 * Turns a strategy's outcome into the contract purchaseTickets keeps: the order (after telling
 * `onTicketChanged` about each seat), or the expected failure. Refusals by `commitSale` are
 * explained as the product explains them, after the fact.
 */
export async function settleSale(
  db: Db,
  deps: PurchaseDeps,
  request: SaleRequest,
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
    case 'guard': {
      const missing = request.ticketIds.find((id) => !outcome.statuses.has(id));
      if (missing) throw ticketNotFound(request.eventId, missing);
      const unavailable: UnavailableTicket[] = [];
      for (const [ticketId, status] of outcome.statuses) {
        if (status !== 'AVAILABLE') unavailable.push({ ticketId, eventId: request.eventId, reason: status });
      }
      // Every seat AVAILABLE again under our guard: we lost a race with a release. The buyer may retry.
      if (unavailable.length === 0)
        for (const ticketId of request.ticketIds)
          unavailable.push({ ticketId, eventId: request.eventId, reason: 'LOCKED' });
      throw new TicketsUnavailableError(unavailable);
    }
    case 'refused':
      throw await explainRefusal(db, request, new Date());
  }
}

import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import type { OrderRow, TicketStatus } from '../db/schema.js';
import { LockLostError, PurchaseLimitReachedError } from './errors.js';
import { explainRefusal, seatRefusal } from './refusal.js';
import type { SaleRequest } from './sale-request.js';
import type { SaleResult } from './sale-transaction.js';

/** A sale that went through: the order, and the seats whose status it changed (none for a repeat). */
export interface Sale {
  order: OrderRow;
  changed: TicketChange[];
}

/**
 * One way to sell a request's seats, all or none: resolves with the sale, or throws an expected
 * failure (TicketsUnavailableError, NotFoundError, a sale-window or limit error). The product sells
 * behind the Redis lock (locked-sale.ts); `src/contenders/` holds the ways it is compared with. The
 * purchase service puts the input rules and the attempt budget in front, and publishes the changes.
 */
export type SellSeats = (db: Db, request: SaleRequest) => Promise<Sale>;

/** What a contender's own guard found before the sale: each requested seat's status (absent: no such seat). */
export type GuardRefusal = { kind: 'guard'; statuses: Map<string, TicketStatus> };

/**
 * The one place an outcome becomes a sale or a refusal. A refusal by the sale statement is explained
 * after the fact (only refused buyers pay for that read).
 */
export async function settle(db: Db, request: SaleRequest, outcome: SaleResult | GuardRefusal): Promise<Sale> {
  switch (outcome.kind) {
    case 'sold':
      return { order: outcome.order, changed: outcome.tickets };
    case 'duplicate':
      return { order: outcome.order, changed: [] };
    case 'limit':
      throw new PurchaseLimitReachedError(outcome.limit, outcome.held);
    case 'guard':
      throw seatRefusal(request, outcome.statuses);
    case 'refused':
      throw await explainRefusal(db, request, new Date());
    case 'fenced':
      throw new LockLostError(request.eventId);
  }
}

import type { Availability } from '../catalog/storage.js';
import type { TicketRow } from '../db/schema.js';

/** One message of the availability stream: current counts and the tickets that changed since the last. */
export interface AvailabilityMessage {
  eventId: string;
  counts: Availability;
  changedTickets: TicketRow[];
}

/** The subscriber fell so far behind that its backlog passed the limit; it must resubscribe. */
export class SlowSubscriberError extends Error {
  override name = 'SlowSubscriberError';
}

/**
 * One subscriber's stream. It never queues: what the subscriber has not yet taken is merged into
 * one pending message (latest counts, latest state of each changed ticket), so a slow reader costs
 * at most one entry per ticket of the event, and a fast one sees at most one message per batch.
 */
export class SubscriberStream implements AsyncIterableIterator<AvailabilityMessage> {
  private pending: { counts: Availability; tickets: Map<string, TicketRow> } | undefined;
  private waiting: ((result: IteratorResult<AvailabilityMessage>) => void) | undefined;
  private failWaiting: ((error: Error) => void) | undefined;
  private failure: Error | undefined;
  private closed = false;
  private started = false;
  private first: AvailabilityMessage | undefined;

  constructor(
    readonly eventId: string,
    private readonly maxPendingTickets: number,
    private readonly onClose: (stream: SubscriberStream) => void,
  ) {}

  /** Queues the first message (current counts, no changes); nothing is delivered before it. */
  start(counts: Availability): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.first = { eventId: this.eventId, counts, changedTickets: [] };
    if (this.waiting) this.deliver(this.waiting);
  }

  /** Merges a batch into the pending message, or hands it straight to a waiting reader. */
  push(counts: Availability, changedTickets: TicketRow[]): void {
    if (this.closed) return;
    const tickets = this.pending?.tickets ?? new Map<string, TicketRow>();
    for (const ticket of changedTickets) {
      const known = tickets.get(ticket.id);
      if (!known || known.version < ticket.version) tickets.set(ticket.id, ticket);
    }
    if (tickets.size > this.maxPendingTickets) {
      this.fail(new SlowSubscriberError('This subscriber fell too far behind; subscribe again and reload.'));
      return;
    }
    this.pending = { counts, tickets };
    if (this.waiting) this.deliver(this.waiting);
  }

  /** Ends the stream with an error for the reader. */
  fail(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    this.pending = undefined;
    this.close();
    this.failWaiting?.(error);
    this.waiting = undefined;
    this.failWaiting = undefined;
  }

  next(): Promise<IteratorResult<AvailabilityMessage>> {
    if (this.first || (this.started && this.pending)) return new Promise((resolve) => this.deliver(resolve));
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  /** Called when the client unsubscribes or disconnects: frees everything at once. */
  return(): Promise<IteratorResult<AvailabilityMessage>> {
    this.pending = undefined;
    this.first = undefined;
    this.close();
    this.waiting?.({ done: true, value: undefined });
    this.waiting = undefined;
    this.failWaiting = undefined;
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private deliver(resolve: (result: IteratorResult<AvailabilityMessage>) => void): void {
    if (!this.started) return;
    const first = this.first;
    const pending = this.pending;
    if (!first && !pending) return;
    this.waiting = undefined;
    this.failWaiting = undefined;
    if (first) {
      this.first = undefined;
      resolve({ done: false, value: first });
      return;
    }
    if (!pending) return;
    this.pending = undefined;
    resolve({
      done: false,
      value: { eventId: this.eventId, counts: pending.counts, changedTickets: [...pending.tickets.values()] },
    });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}

import type { Availability } from '../catalog/storage.js';
import type { TicketRow } from '../db/schema.js';

/**
 * One message of the availability stream: current counts and the tickets that changed since the last.
 * A batch's message is one frozen object handed to every subscriber of the event that is in step,
 * so a reader must never change it.
 */
export interface AvailabilityMessage {
  readonly eventId: string;
  readonly counts: Availability;
  readonly changedTickets: readonly TicketRow[];
}

/** The message for one coalescing window of an event, built once and shared by its subscribers. */
export function availabilityBatch(
  eventId: string,
  counts: Availability,
  changedTickets: TicketRow[],
): AvailabilityMessage {
  return Object.freeze({ eventId, counts, changedTickets: Object.freeze(changedTickets) });
}

/** The subscriber fell so far behind that its backlog passed the limit; it must resubscribe. */
export class SlowSubscriberError extends Error {
  override name = 'SlowSubscriberError';
}

/**
 * One subscriber's stream. It never queues. A reader in step with the feed takes each batch's shared
 * message as it is (so the GraphQL layer can execute it once for all of them); a reader that has not
 * taken a batch when the next arrives gets the two merged into its own message (latest counts, latest
 * state of each changed ticket), so a slow reader costs at most one entry per ticket of the event.
 */
export class SubscriberStream implements AsyncIterableIterator<AvailabilityMessage> {
  /** The newest undelivered batch: all there is to deliver, unless `backlog` is set. */
  private pending: AvailabilityMessage | undefined;
  /** Set once a second batch arrives before the reader took the first: every undelivered ticket. */
  private backlog: Map<string, TicketRow> | undefined;
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
    this.first = availabilityBatch(this.eventId, counts, []);
    if (this.waiting) this.deliver(this.waiting);
  }

  /** Hands a batch straight to a waiting reader, keeps it for the next read, or merges it into the backlog. */
  push(batch: AvailabilityMessage): void {
    if (this.closed) return;
    let undelivered = batch.changedTickets.length;
    if (this.pending) {
      const tickets = this.backlog ?? new Map(this.pending.changedTickets.map((ticket) => [ticket.id, ticket]));
      for (const ticket of batch.changedTickets) {
        const known = tickets.get(ticket.id);
        if (!known || known.version < ticket.version) tickets.set(ticket.id, ticket);
      }
      this.backlog = tickets;
      undelivered = tickets.size;
    }
    if (undelivered > this.maxPendingTickets) {
      this.fail(new SlowSubscriberError('This subscriber fell too far behind; subscribe again and reload.'));
      return;
    }
    this.pending = batch;
    if (this.waiting) this.deliver(this.waiting);
  }

  /** Ends the stream with an error for the reader. */
  fail(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    this.pending = undefined;
    this.backlog = undefined;
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
    this.backlog = undefined;
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
    const message = this.first ?? this.take();
    if (!message) return;
    this.first = undefined;
    this.waiting = undefined;
    this.failWaiting = undefined;
    resolve({ done: false, value: message });
  }

  /** The shared batch when the reader is in step; its own merged message when it fell behind. */
  private take(): AvailabilityMessage | undefined {
    const { pending, backlog } = this;
    if (!pending) return undefined;
    this.pending = undefined;
    this.backlog = undefined;
    return backlog ? availabilityBatch(this.eventId, pending.counts, [...backlog.values()]) : pending;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}

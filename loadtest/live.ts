import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { sleep } from './services.js';

/** What a live seat map subscribes to; `statusChangedAt` is stamped by Postgres in the sale's write. */
export const AVAILABILITY_SUBSCRIPTION = `subscription Live($id: ID!) { ticketAvailability(eventId: $id) { eventId available held sold total changedTickets { id status version statusChangedAt } } }`;

interface AvailabilityMessage {
  ticketAvailability?: { changedTickets?: Array<{ statusChangedAt?: string | null }> };
}

/** What the subscribers saw during a run. */
export interface LiveResult {
  subscribers: number;
  /** Subscribers whose first message (the counts) arrived before the load started. */
  connected: number;
  messages: number;
  messagesPerSubscriberPerSecond: number;
  /** Commit (Postgres clock_timestamp()) to receipt (Date.now()), per changed ticket per subscriber. */
  commitToClient: LatencySummary;
  curve: Array<[number, number]>;
  /** Subscriptions that errored or were closed by the server, by reason. */
  failures: Record<string, number>;
}

/** N graphql-ws clients (one WebSocket each) watching one event, spread over the servers. */
export interface Subscribers {
  /** Marks the start of the measured window (messages before it only prove the subscription). */
  startMeasuring(): void;
  stop(): Promise<LiveResult>;
}

function reasonOf(error: unknown): string {
  if (Array.isArray(error)) return String((error[0] as { message?: string })?.message ?? 'GraphQL error');
  const event = error as { code?: number; reason?: string; message?: string };
  if (typeof event.code === 'number') return `closed ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
  return event.message ?? String(error);
}

/**
 * Opens `count` subscribers in batches of 100 and waits (at most 60 s) until each has its first
 * message, so the load starts only when everyone is watching.
 */
export async function startSubscribers(urls: string[], eventGlobalId: string, count: number): Promise<Subscribers> {
  const latency = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const clients: Client[] = [];
  const disposers: Array<() => void> = [];
  let connected = 0;
  let messages = 0;
  let measuring = false;
  let measureFrom = 0;

  const onMessage = (data: AvailabilityMessage) => {
    const now = Date.now();
    if (!measuring) return;
    messages++;
    for (const ticket of data.ticketAvailability?.changedTickets ?? []) {
      if (ticket.statusChangedAt) latency.record(now - Date.parse(ticket.statusChangedAt));
    }
  };
  const fail = (error: unknown) => {
    const reason = reasonOf(error);
    failures[reason] = (failures[reason] ?? 0) + 1;
  };

  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const url = (urls[i % urls.length] ?? '').replace(/^http/, 'ws');
      const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      let first = true;
      const timer = setTimeout(resolve, 60_000);
      disposers.push(
        client.subscribe<AvailabilityMessage>(
          { query: AVAILABILITY_SUBSCRIPTION, variables: { id: eventGlobalId } },
          {
            next: (result) => {
              if (result.errors) fail(result.errors);
              if (first) {
                first = false;
                connected++;
                clearTimeout(timer);
                resolve();
              }
              if (result.data) onMessage(result.data);
            },
            error: (error) => {
              fail(error);
              clearTimeout(timer);
              resolve();
            },
            complete: () => {},
          },
        ),
      );
    });

  for (let start = 0; start < count; start += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - start) }, (_, k) => open(start + k)));
  }

  return {
    startMeasuring() {
      measuring = true;
      measureFrom = performance.now();
    },
    async stop() {
      await sleep(1000); // the last coalescing window and its fan-out
      const seconds = Math.max(0.001, (performance.now() - measureFrom) / 1000);
      measuring = false;
      for (const dispose of disposers) dispose();
      await Promise.all(clients.map((c) => c.dispose()));
      return {
        subscribers: count,
        connected,
        messages,
        messagesPerSubscriberPerSecond: Math.round((messages / Math.max(1, connected) / seconds) * 100) / 100,
        commitToClient: latency.summary(),
        curve: latency.curve(),
        failures,
      };
    },
  };
}

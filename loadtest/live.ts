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

const NEXT = Buffer.from('"type":"next"');
const ERRORS = Buffer.from('"errors"');
const STAMP = Buffer.from('"statusChangedAt":"');
const QUOTE = 0x22;

/** What one subscriber reports (openSubscriber). */
export interface SubscriberEvents {
  /** The first `next` message, parsed in full (it proves the subscription). */
  first(result: { data?: AvailabilityMessage; errors?: unknown }): void;
  /** Each later `next` message as it came off the socket, unparsed. */
  next(message: Buffer): void;
  fail(reason: string): void;
}

/**
 * One subscriber speaking graphql-transport-ws over `ws`. Not graphql-ws' client: that one parses
 * and validates every message as JSON, and with 1,000 subscribers of a seat rush (~27 KB per batch,
 * ~9 batches a second each) that parse was the generator's largest cost (12 % of its profile) on the
 * same two cores as the servers. This one parses the handshake, the first result and anything with
 * "errors" in full, and hands other `next` messages on as bytes. Returns its closer.
 */
export function openSubscriber(url: string, query: string, variables: object, on: SubscriberEvents): () => void {
  const socket = new WebSocket(url, 'graphql-transport-ws', { skipUTF8Validation: true });
  let closing = false;
  let first = true;
  const fail = (reason: string) => {
    if (!closing) on.fail(reason);
    closing = true;
    socket.terminate();
  };
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
  socket.on('message', (raw: Buffer) => {
    if (!first && raw.subarray(0, 48).includes(NEXT) && !raw.includes(ERRORS)) return on.next(raw);
    const message = JSON.parse(raw.toString('utf8')) as { type: string; payload?: unknown };
    switch (message.type) {
      case 'connection_ack':
        return socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      case 'ping':
        return socket.send(JSON.stringify({ type: 'pong' }));
      case 'pong':
        return;
      case 'next': {
        const result = message.payload as { data?: AvailabilityMessage; errors?: unknown };
        if (result.errors) return fail(reasonOf(result.errors));
        if (first) {
          first = false;
          return on.first(result);
        }
        return on.next(raw);
      }
      case 'error':
        return fail(reasonOf(message.payload));
      default:
        return fail(`unexpected ${message.type}`);
    }
  });
  socket.on('error', (error) => fail(error.message));
  socket.on('close', (code, reason) => fail(`closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`));
  return () => {
    closing = true;
    socket.close(1000);
  };
}

function reasonOf(error: unknown): string {
  if (Array.isArray(error)) return String((error[0] as { message?: string })?.message ?? 'GraphQL error');
  return String((error as { message?: string })?.message ?? error);
}

/**
 * Opens `count` subscribers in batches of 100 and waits (at most 60 s) until each has its first
 * message, so the load starts only when everyone is watching.
 */
export async function startSubscribers(urls: string[], eventGlobalId: string, count: number): Promise<Subscribers> {
  const latency = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const closers: Array<() => void> = [];
  let connected = 0;
  let messages = 0;
  let measuring = false;
  let measureFrom = 0;

  // Every subscriber gets the same stamps: parse each text once (Date.parse per ticket per
  // subscriber was ~5 % of the generator's CPU with 1,000 subscribers).
  const stamps = new Map<string, number>();
  const stampOf = (text: string): number => {
    let ms = stamps.get(text);
    if (ms === undefined) {
      if (stamps.size >= 100_000) stamps.clear();
      ms = Date.parse(text);
      stamps.set(text, ms);
    }
    return ms;
  };
  // Each changed ticket's statusChangedAt, found by its key rather than by parsing the message.
  const onMessage = (message: Buffer) => {
    const now = Date.now();
    if (!measuring) return;
    messages++;
    for (let at = message.indexOf(STAMP); at >= 0; at = message.indexOf(STAMP, at)) {
      const from = at + STAMP.length;
      at = message.indexOf(QUOTE, from);
      if (at < 0) break;
      latency.record(now - stampOf(message.toString('latin1', from, at)));
    }
  };
  const fail = (reason: string) => {
    failures[reason] = (failures[reason] ?? 0) + 1;
  };

  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const url = (urls[i % urls.length] ?? '').replace(/^http/, 'ws');
      const timer = setTimeout(resolve, 60_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      closers.push(
        openSubscriber(
          url,
          AVAILABILITY_SUBSCRIPTION,
          { id: eventGlobalId },
          {
            first: (result) => {
              if (result.data?.ticketAvailability) connected++;
              else fail('first message without ticketAvailability');
              done();
            },
            next: onMessage,
            fail: (reason) => {
              fail(reason);
              done();
            },
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
      for (const close of closers) close();
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

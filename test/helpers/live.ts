import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** The subscription a live seat map sends. */
export const AVAILABILITY = /* GraphQL */ `
  subscription Availability($eventId: ID!) {
    ticketAvailability(eventId: $eventId) {
      eventId available held sold total
      changedTickets { id status version statusChangedAt }
    }
  }
`;

export interface AvailabilityPayload {
  eventId: string;
  available: number;
  held: number;
  sold: number;
  total: number;
  changedTickets: Array<{ id: string; status: string; version: number; statusChangedAt: string | null }>;
}

/** What a subscription has received so far, from either transport. */
export interface LiveSubscription {
  messages: AvailabilityPayload[];
  errors: unknown[];
  /** Resolves once `predicate` holds for the messages so far (polls; fails after `timeoutMs`). */
  until(predicate: (messages: AvailabilityPayload[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function collector(close: () => Promise<void> | void): LiveSubscription {
  const live: LiveSubscription = {
    messages: [],
    errors: [],
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(live.messages)) {
        if (live.errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(live.errors)}`);
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms with ${live.messages.length} messages`);
        }
        await sleep(10);
      }
    },
    close: async () => {
      await close();
    },
  };
  return live;
}

/** A graphql-ws client (`graphql-transport-ws`) for `ws://…/graphql`, optionally with a token. */
export function wsClient(httpUrl: string, token?: string): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    lazyCloseTimeout: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** Subscribes over graphql-ws and collects every message. */
export function subscribeWs(client: Client, eventId: string): LiveSubscription {
  let live: LiveSubscription | undefined;
  const unsubscribe = client.subscribe<{ ticketAvailability: AvailabilityPayload }>(
    { query: AVAILABILITY, variables: { eventId } },
    {
      next: (result) => {
        if (result.errors) live?.errors.push(...result.errors);
        if (result.data) live?.messages.push(result.data.ticketAvailability);
      },
      error: (error) => live?.errors.push(error),
      complete: () => {},
    },
  );
  live = collector(unsubscribe);
  return live;
}

/** Subscribes over server-sent events (`Accept: text/event-stream`) and collects every message. */
export function subscribeSse(httpUrl: string, eventId: string, token?: string): LiveSubscription {
  const abort = new AbortController();
  const live = collector(() => abort.abort());
  const read = async () => {
    const response = await fetch(httpUrl, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: AVAILABILITY, variables: { eventId } }),
    });
    if (!response.body) throw new Error(`no SSE body (status ${response.status})`);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('');
        if (frame.includes('event: next') && data) {
          const result = JSON.parse(data) as { data?: { ticketAvailability: AvailabilityPayload }; errors?: unknown[] };
          if (result.errors) live.errors.push(...result.errors);
          if (result.data) live.messages.push(result.data.ticketAvailability);
        }
        end = buffer.indexOf('\n\n');
      }
    }
  };
  read().catch((error: unknown) => {
    if (!abort.signal.aborted) live.errors.push(error);
  });
  return live;
}

/** The newest status of every ticket seen across messages, by version. */
export function latestStatuses(messages: AvailabilityPayload[]): Map<string, { status: string; version: number }> {
  const seen = new Map<string, { status: string; version: number }>();
  for (const message of messages) {
    for (const ticket of message.changedTickets) {
      const known = seen.get(ticket.id);
      if (!known || known.version < ticket.version) seen.set(ticket.id, ticket);
    }
  }
  return seen;
}

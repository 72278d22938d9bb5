import { AVAILABILITY_SUBSCRIPTION, openSubscriber } from '../live.js';
import { sleep } from '../services.js';

/** A seat as a seat map knows it: status and version (the higher version is newer). */
export interface SeatState {
  status: string;
  version: number;
}

/** A seat in a subscriber's map: its state, and when and how the subscriber learned it. */
export interface KnownSeat extends SeatState {
  /** Epoch ms when this version reached the map. */
  at: number;
  via: 'page' | 'message';
}

/** One step of a subscriber's connection: lost, subscribed again, map loaded, or an attempt that failed. */
export interface ConnectionEvent {
  at: number;
  what: 'lost' | 'subscribed' | 'loaded' | 'attempt failed';
  detail?: string;
}

const SEAT_MAP = `query Map($id: ID!, $after: String) { event(id: $id) { tickets(first: 1000, after: $after) { edges { node { id status version } } pageInfo { hasNextPage endCursor } } } }`;

interface TicketPagePart {
  edges?: Array<{ node?: { id: string; status: string; version: number } }>;
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
}

interface TicketPage {
  data?: { event?: { tickets?: TicketPagePart } | null };
}

/**
 * One live seat map, as a client app keeps it: subscribe to `ticketAvailability` over graphql-ws, load
 * the whole map over HTTP once the subscription answers, and apply every change whose version is
 * newer than what it has. When the socket closes or fails (an instance killed, a fault), it subscribes
 * again to the same instance and reloads the map, as a client would.
 */
export class LiveSeatMap {
  readonly seats = new Map<string, KnownSeat>();
  /** Times it had to subscribe again, by reason. */
  readonly reconnects: Record<string, number> = {};
  /** Its connection's history after the first load (to tell a map still reloading from one that missed a message). */
  readonly events: ConnectionEvent[] = [];
  messages = 0;
  /** Epoch ms of the last live message. */
  lastMessageAt = 0;
  private close: (() => void) | null = null;
  private stopped = false;
  /** Set once the first load is done: only later connection steps are noted. */
  private started = false;

  constructor(
    readonly url: string,
    private readonly eventGlobalId: string,
  ) {}

  private apply(id: string, status: string, version: number, via: KnownSeat['via']): void {
    const known = this.seats.get(id);
    if (!known || known.version < version) this.seats.set(id, { status, version, at: Date.now(), via });
  }

  private note(what: ConnectionEvent['what'], detail?: string): void {
    if (this.started) this.events.push({ at: Date.now(), what, ...(detail ? { detail } : {}) });
  }

  private async loadMap(): Promise<void> {
    let after: string | null = null;
    do {
      const response: Response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SEAT_MAP, variables: { id: this.eventGlobalId, after } }),
        signal: AbortSignal.timeout(5000),
      });
      const page: TicketPagePart | undefined = ((await response.json()) as TicketPage).data?.event?.tickets;
      if (!page) throw new Error(`seat map: HTTP ${response.status}`);
      for (const edge of page.edges ?? [])
        if (edge.node) this.apply(edge.node.id, edge.node.status, edge.node.version, 'page');
      after = page.pageInfo?.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
    } while (after);
  }

  /**
   * Subscribes, then loads the map; resolves once both are done, rejects if either failed. A failure
   * after that starts the reconnection ({@link lost}).
   */
  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error('no first message in 10 s')), 10_000);
      this.close = openSubscriber(
        this.url.replace(/^http/, 'ws'),
        AVAILABILITY_SUBSCRIPTION,
        { id: this.eventGlobalId },
        {
          first: (result) => {
            if (!result.data?.ticketAvailability) return settle(new Error('the subscription failed'));
            this.note('subscribed');
            this.loadMap().then(
              () => {
                this.note('loaded');
                settle();
              },
              (error: Error) => settle(error),
            );
          },
          next: (raw) => this.hear(raw),
          fail: (reason) => {
            if (settled) this.lost(reason);
            else settle(new Error(reason));
          },
        },
      );
    });
  }

  private hear(raw: Buffer): void {
    this.messages++;
    this.lastMessageAt = Date.now();
    const message = JSON.parse(raw.toString('utf8')) as {
      payload?: {
        data?: { ticketAvailability?: { changedTickets?: Array<{ id: string; status: string; version: number }> } };
      };
    };
    for (const t of message.payload?.data?.ticketAvailability?.changedTickets ?? [])
      this.apply(t.id, t.status, t.version, 'message');
  }

  /** The socket went: subscribe again (every 200 ms until it works), unless stopped. */
  private lost(reason: string): void {
    if (this.stopped) return;
    const short = reason.replace(/\d{4,}/g, 'N').slice(0, 60);
    this.reconnects[short] = (this.reconnects[short] ?? 0) + 1;
    this.note('lost', reason);
    void (async () => {
      while (!this.stopped) {
        await sleep(200);
        this.close?.();
        if (this.stopped) return;
        try {
          await this.connect();
          return;
        } catch (error) {
          // the instance is not back yet (or the reload failed): try again
          this.note('attempt failed', (error as Error).message);
        }
      }
    })();
  }

  /** Subscribes and loads the map for the first time. */
  async start(): Promise<void> {
    await this.connect();
    this.started = true;
  }

  stop(): void {
    this.stopped = true;
    this.close?.();
  }
}

/**
 * Seats where `map` is behind `truth` (the tickets as the database had them at one moment): missing,
 * at an older version, or at the same version with another status. A map ahead of `truth` (it heard
 * of a later change) is right.
 */
export function differences(map: ReadonlyMap<string, SeatState>, truth: ReadonlyMap<string, SeatState>): string[] {
  const wrong: string[] = [];
  for (const [id, seat] of truth) {
    const known = map.get(id);
    if (!known || known.version < seat.version || (known.version === seat.version && known.status !== seat.status))
      wrong.push(id);
  }
  return wrong;
}

const since = (at: number, from: number) => `${at >= from ? '+' : ''}${((at - from) / 1000).toFixed(1)} s`;

/**
 * A subscriber's connection steps since `after`, times relative to `from` (a fault's end): lost,
 * subscribed, loaded, with repeated failed attempts counted rather than listed; empty if none.
 */
export function connectionSteps(events: readonly ConnectionEvent[], from: number, after: number): string[] {
  const steps: string[] = [];
  let failed = 0;
  let lastFailure = '';
  const flushFailures = () => {
    if (failed > 0) steps.push(`${failed} attempts failed (${lastFailure.slice(0, 40)})`);
    failed = 0;
  };
  for (const event of events) {
    if (event.at < after) continue;
    if (event.what === 'attempt failed') {
      failed++;
      lastFailure = event.detail ?? '';
      continue;
    }
    flushFailures();
    steps.push(`${event.what} ${since(event.at, from)}${event.detail ? ` (${event.detail.slice(0, 40)})` : ''}`);
  }
  flushFailures();
  return steps;
}

/**
 * Why a map is wrong, in one line, times relative to `from` (a fault's end): its connection's steps
 * since `after`, its last live message, and a few wrong seats with the version it holds against the
 * database's. A map still reloading and a map that missed a message read differently here.
 */
export function explainWrong(
  map: { seats: ReadonlyMap<string, KnownSeat>; events: readonly ConnectionEvent[]; lastMessageAt: number },
  truth: ReadonlyMap<string, SeatState & { changedAt: number }>,
  wrong: readonly string[],
  from: number,
  after: number,
): string {
  const steps = connectionSteps(map.events, from, after);
  const seats = wrong.slice(0, 3).map((id) => {
    const known = map.seats.get(id);
    const db = truth.get(id);
    const mine = known ? `v${known.version} ${known.status} (${known.via} ${since(known.at, from)})` : 'missing';
    return `seat ${Buffer.from(id, 'base64').toString('utf8').slice(-8)}: map ${mine}, database v${db?.version} ${db?.status} changed ${since(db?.changedAt ?? 0, from)}`;
  });
  return `${wrong.length} wrong; ${steps.length ? steps.join(', ') : 'connected throughout'}; last message ${map.lastMessageAt ? since(map.lastMessageAt, from) : 'none'}; e.g. ${seats.join('; ')}`;
}

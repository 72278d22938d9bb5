import { AVAILABILITY_SUBSCRIPTION, openSubscriber } from '../live.js';
import { sleep } from '../services.js';

/** A seat as a seat map knows it: status and version (the higher version is newer). */
export interface SeatState {
  status: string;
  version: number;
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
  readonly seats = new Map<string, SeatState>();
  /** Times it had to subscribe again, by reason. */
  readonly reconnects: Record<string, number> = {};
  messages = 0;
  private close: (() => void) | null = null;
  private stopped = false;

  constructor(
    readonly url: string,
    private readonly eventGlobalId: string,
  ) {}

  private apply(id: string, status: string, version: number): void {
    const known = this.seats.get(id);
    if (!known || known.version < version) this.seats.set(id, { status, version });
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
      for (const edge of page.edges ?? []) if (edge.node) this.apply(edge.node.id, edge.node.status, edge.node.version);
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
            this.loadMap().then(
              () => settle(),
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
    const message = JSON.parse(raw.toString('utf8')) as {
      payload?: {
        data?: { ticketAvailability?: { changedTickets?: Array<{ id: string; status: string; version: number }> } };
      };
    };
    for (const t of message.payload?.data?.ticketAvailability?.changedTickets ?? [])
      this.apply(t.id, t.status, t.version);
  }

  /** The socket went: subscribe again (every 200 ms until it works), unless stopped. */
  private lost(reason: string): void {
    if (this.stopped) return;
    const short = reason.replace(/\d{4,}/g, 'N').slice(0, 60);
    this.reconnects[short] = (this.reconnects[short] ?? 0) + 1;
    void (async () => {
      while (!this.stopped) {
        await sleep(200);
        this.close?.();
        if (this.stopped) return;
        try {
          await this.connect();
          return;
        } catch {
          // the instance is not back yet
        }
      }
    })();
  }

  /** Subscribes and loads the map for the first time. */
  async start(): Promise<void> {
    await this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.close?.();
  }
}

/** Seats where `map` disagrees with the database (`truth`), ignoring seats whose last change is in `fresh`. */
export function differences(
  map: ReadonlyMap<string, SeatState>,
  truth: ReadonlyMap<string, SeatState & { changedAt: number }>,
  changedSince = Number.POSITIVE_INFINITY,
): string[] {
  const wrong: string[] = [];
  for (const [id, seat] of truth) {
    if (seat.changedAt >= changedSince) continue;
    const known = map.get(id);
    if (!known || known.version < seat.version || (known.version === seat.version && known.status !== seat.status))
      wrong.push(id);
  }
  return wrong;
}

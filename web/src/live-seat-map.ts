import { createClient } from 'graphql-ws';
import { RequestError, request } from './graphql.js';
import {
  type Counts,
  type EventSummary,
  LIVE,
  type LiveData,
  SEAT_PAGE,
  type Seat,
  type SeatPageData,
} from './operations.js';
import { measure, measureToNextFrame } from './perf.js';

/** What a watched seat map tells the page. */
export interface SeatMapHandlers {
  /**
   * Seats not handed over before, as each page of the first load arrives: in seat-map order, each at its
   * newest known version (a message may have brought a newer one than the page).
   */
  onSeats(seats: Seat[], event: EventSummary): void;
  /** Every page has arrived: the map is whole. Once. */
  onLoaded(): void;
  /** Seats already handed over that changed: each carries a version above the one the page had. */
  onChange(seats: Seat[]): void;
  onCounts(counts: Counts): void;
  onConnection(state: 'connecting' | 'live' | 'reconnecting'): void;
  /** A failure the page should show; the watcher keeps retrying unless the event does not exist. */
  onError(error: unknown): void;
}

/** A watched seat map: stop it, or offer it seats learned another way. */
export interface SeatMapWatch {
  /** Stops watching and closes the socket. */
  stop(): void;
  /**
   * Seats as a mutation of this buyer answered them (a hold, a purchase, a release), applied by the same
   * version rule as pages and messages: a drawn seat newer than the one held changes at once, through
   * `onChange`; a later message with a higher version still wins, an older or equal one is ignored.
   */
  offer(seats: readonly Seat[]): void;
}

/** How long to wait before subscribing again after the server ended the subscription. */
const RESUBSCRIBE_MS = 1000;

/**
 * Keeps an event's seat map live by the README's gap-free recipe: subscribe to `ticketAvailability`
 * over graphql-ws, wait for the first message (from then on no change can be missed), then load the
 * map page by page while buffering messages, and apply every seat, from a page or a message, only if
 * its `version` is above the one held. After a reconnect (graphql-ws reconnects and subscribes again
 * by itself) the first message triggers a reload, applied by the same rule, so what a lost message
 * left out comes back. Seats the caller {@link SeatMapWatch.offer | offers} (its own mutations'
 * answers) go through the same rule, so the buyer sees a confirmed change before its message arrives.
 */
export function watchSeatMap(eventId: string, handlers: SeatMapHandlers): SeatMapWatch {
  const started = performance.now();
  const seats = new Map<string, Seat>();
  /** Seats the page has drawn; a message's other seats wait in `seats` for their page. */
  const handedOver = new Set<string>();
  let loaded = false;
  let awaitingFirstMessage = true;
  let loading = false;
  let loadAgain = false;
  let stopped = false;
  let unsubscribe = () => {};

  const client = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    keepAlive: 15_000,
    on: {
      connected: () => {
        awaitingFirstMessage = true;
      },
      closed: () => {
        if (!stopped) handlers.onConnection('reconnecting');
      },
    },
  });

  /** Keeps `seat` if it is newer than what is held; says whether it was. */
  const merge = (seat: Seat): boolean => {
    const known = seats.get(seat.id);
    if (known && known.version >= seat.version) return false;
    seats.set(seat.id, seat);
    return true;
  };

  /** Keeps the newer of `incoming` and hands over, and returns, those the page has drawn. */
  const apply = (incoming: readonly Seat[]): Seat[] => {
    // Seats whose page has not come yet wait in `seats`; their page hands them over at their newest.
    const drawn = incoming.filter(merge).filter((seat) => handedOver.has(seat.id));
    if (drawn.length > 0) handlers.onChange(drawn);
    return drawn;
  };

  const load = async () => {
    if (loading) {
      loadAgain = true;
      return;
    }
    loading = true;
    try {
      do {
        loadAgain = false;
        await loadPages();
      } while (loadAgain && !stopped);
    } catch (error) {
      handlers.onError(error);
      if (!stopped) setTimeout(() => void load(), RESUBSCRIBE_MS);
    } finally {
      loading = false;
    }
  };

  const loadPages = async () => {
    let after: string | null = null;
    for (;;) {
      const data: SeatPageData = await request<SeatPageData>(SEAT_PAGE, { id: eventId, after }, { retry: true });
      if (stopped) return;
      if (!data.event) throw new Error('This event does not exist.');
      const { tickets, ...event } = data.event;
      const fresh: Seat[] = [];
      const changed: Seat[] = [];
      for (const { node } of tickets.edges) {
        const newer = merge(node);
        if (!handedOver.has(node.id)) {
          handedOver.add(node.id);
          fresh.push(seats.get(node.id) as Seat);
        } else if (newer) changed.push(node);
      }
      if (fresh.length > 0) handlers.onSeats(fresh, event);
      if (changed.length > 0) handlers.onChange(changed);
      if (!tickets.pageInfo.hasNextPage) break;
      after = tickets.pageInfo.endCursor;
    }
    if (!loaded) {
      loaded = true;
      handlers.onLoaded();
      measure('seat-map:loaded', started, handedOver.size);
      measureToNextFrame('seat-map:first-render', started, handedOver.size);
    }
  };

  const onMessage = ({ ticketAvailability: message }: LiveData) => {
    const start = performance.now();
    handlers.onCounts(message);
    if (awaitingFirstMessage) {
      awaitingFirstMessage = false;
      handlers.onConnection('live');
      void load();
    }
    const drawn = apply(message.changedTickets);
    if (drawn.length > 0) {
      measure('seat-map:update', start, drawn.length);
      measureToNextFrame('seat-map:update-frame', start, drawn.length);
    }
  };

  const subscribe = () => {
    handlers.onConnection('connecting');
    awaitingFirstMessage = true;
    unsubscribe = client.subscribe<LiveData>(
      { query: LIVE, variables: { eventId } },
      {
        next: (result) => {
          if (result.data) onMessage(result.data);
          else if (result.errors) handlers.onError(asRequestError(result.errors));
        },
        error: (error) => {
          const failure = asRequestError(error);
          handlers.onError(failure);
          // The server ended this subscription (a slow reader is cut off, say): subscribe again.
          if (!stopped && failure.code !== 'NOT_FOUND') setTimeout(() => !stopped && subscribe(), RESUBSCRIBE_MS);
        },
        complete: () => {},
      },
    );
  };
  subscribe();

  return {
    stop: () => {
      stopped = true;
      unsubscribe();
      void client.dispose();
    },
    offer: (offered) => {
      if (!stopped) apply(offered);
    },
  };
}

/** A subscription's failure (GraphQL errors, or a socket that gave up) as a {@link RequestError}. */
function asRequestError(error: unknown): RequestError {
  const first = Array.isArray(error) ? (error[0] as { message?: string; extensions?: { code?: string } }) : undefined;
  if (first)
    return new RequestError(first.message ?? 'The live seat map failed.', first.extensions?.code ?? 'INTERNAL');
  return new RequestError('The live connection failed.', 'NETWORK');
}

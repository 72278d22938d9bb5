import { ticketBlockTotals, ticketsOfEvent } from '../catalog/storage.js';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { Db } from '../db/client.js';
import type { TicketRow } from '../db/schema.js';
import type { TicketChangeBus } from '../infra/ticket-change-bus.js';
import { CHECK_BLOCK, EventTickets } from './event-tickets.js';
import { availabilityBatch, SubscriberStream } from './subscriber-stream.js';

/** Tuning of the live stream. */
export interface AvailabilityHubOptions {
  /** Changes arriving within this window become one message, shared by the event's subscribers. */
  windowMs: number;
  /** How often a watched event's copy is checked against the database, for changes whose message was lost. */
  resyncMs: number;
  /** A subscriber whose unread backlog passes this many tickets is disconnected. */
  maxPendingTickets: number;
  onError: (error: unknown) => void;
}

/** Live availability for the subscribers connected to this instance. */
export interface AvailabilityHub {
  /** Publishes committed changes to every instance; call after the commit. */
  publish(eventId: string, changes: TicketChange[]): void;
  /** A subscriber's stream; its first message (current counts) is ready when this resolves. */
  subscribe(eventId: string): Promise<SubscriberStream>;
  /** Events with a live bus subscription here, and subscribers, for leak checks. */
  stats(): { events: number; subscribers: number };
  /** Blocks of tickets read again so far, by checks that found them different from the copy. */
  blocksRead(): number;
  /** Completes every stream and drops every bus subscription. */
  close(): void;
}

interface Feed {
  eventId: string;
  subscribers: Set<SubscriberStream>;
  /** The event's tickets and counts; undefined until the first read. */
  tickets: EventTickets | undefined;
  /** Changes heard before that read, applied after it. */
  early: TicketChange[];
  /** Whether a change heard before that read could not be read (see ChangeListener). */
  earlyIncomplete: boolean;
  changed: Set<string>;
  timer: NodeJS.Timeout | undefined;
  resyncTimer: NodeJS.Timeout | undefined;
  resyncing: boolean;
  resyncAgain: boolean;
  closed: boolean;
  unlisten: (() => void) | undefined;
  ready: Promise<void>;
}

/**
 * Each instance holds one bus subscription per watched event, however many seat maps watch it, and a
 * copy of the event's tickets and counts, read once when the first seat map subscribes. Changes from
 * the bus carry everything that changed, so a window's message is built from the copy without a
 * database read, once for every local subscriber of the event. Redis pub/sub delivers at most once, so
 * the copy is also checked against the database every `resyncMs` (by the count and sum of versions of
 * each block of seats; only blocks that differ are read again), and at once when a change names a
 * ticket it does not hold (or lacks a field); whatever it missed goes out in the next message.
 */
export function createAvailabilityHub(db: Db, bus: TicketChangeBus, options: AvailabilityHubOptions): AvailabilityHub {
  const feeds = new Map<string, Feed>();
  let blocksRead = 0;

  const closeFeed = (feed: Feed) => {
    feed.closed = true;
    clearTimeout(feed.timer);
    clearInterval(feed.resyncTimer);
    if (feeds.get(feed.eventId) === feed) feeds.delete(feed.eventId);
    feed.unlisten?.();
    feed.unlisten = undefined;
  };

  const flush = (feed: Feed) => {
    if (!feed.tickets || feed.changed.size === 0) return;
    const rows: TicketRow[] = [];
    for (const id of feed.changed) {
      const row = feed.tickets.row(id);
      if (row) rows.push(row);
    }
    feed.changed.clear();
    // One message object for everyone: in-step subscribers pass it on as is, and the GraphQL layer
    // executes a message once per operation rather than once per subscriber.
    const batch = availabilityBatch(feed.eventId, feed.tickets.counts(), rows);
    for (const stream of feed.subscribers) stream.push(batch);
  };

  const schedule = (feed: Feed) => {
    if (feed.timer || feed.closed || feed.changed.size === 0) return;
    feed.timer = setTimeout(() => {
      feed.timer = undefined;
      flush(feed);
    }, options.windowMs);
  };

  // Called only once the feed has its copy (after `load`).
  const resync = async (feed: Feed) => {
    const tickets = feed.tickets;
    if (!tickets) return;
    if (feed.resyncing) {
      feed.resyncAgain = true;
      return;
    }
    feed.resyncing = true;
    try {
      do {
        feed.resyncAgain = false;
        // The copy's totals, taken before the query starts: every version in them was committed
        // before its snapshot, so a block whose totals differ is one the copy has missed a change of.
        const held = tickets.blockTotals();
        const current = await ticketBlockTotals(db, feed.eventId, CHECK_BLOCK);
        if (feed.closed) return;
        const differ = [...current]
          .filter(([block, totals]) => {
            const mine = held.get(block);
            return mine?.tickets !== totals.tickets || mine.versionSum !== totals.versionSum;
          })
          .map(([block]) => block);
        if (differ.length === 0) continue;
        blocksRead += differ.length;
        const rows = await ticketsOfEvent(db, feed.eventId, { size: CHECK_BLOCK, ids: differ });
        if (feed.closed) return;
        for (const row of rows) if (tickets.merge(row) === 'changed') feed.changed.add(row.id);
      } while (feed.resyncAgain && !feed.closed);
    } catch (error) {
      options.onError(error);
    } finally {
      feed.resyncing = false;
      schedule(feed);
    }
  };

  const hear = (feed: Feed, changes: readonly TicketChange[], incomplete: boolean) => {
    const tickets = feed.tickets;
    if (!tickets) {
      feed.early.push(...changes);
      feed.earlyIncomplete ||= incomplete;
      return;
    }
    let missing = incomplete;
    for (const change of changes) {
      const applied = tickets.apply(change);
      if (applied === 'changed') feed.changed.add(change.id);
      else if (applied === 'unknown') missing = true;
    }
    if (missing) void resync(feed);
    schedule(feed);
  };

  const load = async (feed: Feed) => {
    const unlisten = await bus.listen(feed.eventId, (changes, incomplete) => hear(feed, changes, incomplete));
    if (feed.closed) return unlisten();
    feed.unlisten = unlisten;
    // Read only once the bus subscription is live: whatever commits after the read is sure to arrive.
    const rows = await ticketsOfEvent(db, feed.eventId);
    if (feed.closed) return;
    feed.tickets = new EventTickets(rows);
    hear(feed, feed.early.splice(0), feed.earlyIncomplete);
    feed.resyncTimer = setInterval(() => void resync(feed), options.resyncMs);
    feed.resyncTimer.unref();
  };

  const openFeed = (eventId: string): Feed => {
    const feed: Feed = {
      eventId,
      subscribers: new Set(),
      tickets: undefined,
      early: [],
      earlyIncomplete: false,
      changed: new Set(),
      timer: undefined,
      resyncTimer: undefined,
      resyncing: false,
      resyncAgain: false,
      closed: false,
      unlisten: undefined,
      ready: Promise.resolve(),
    };
    feed.ready = load(feed).catch((error: unknown) => {
      // Leave nothing half open: the next subscriber starts again.
      closeFeed(feed);
      throw error;
    });
    feeds.set(eventId, feed);
    return feed;
  };

  const leave = (feed: Feed) => (stream: SubscriberStream) => {
    feed.subscribers.delete(stream);
    if (feed.subscribers.size === 0) closeFeed(feed);
  };

  return {
    publish: (eventId, changes) => bus.publish(eventId, changes),
    async subscribe(eventId) {
      const feed = feeds.get(eventId) ?? openFeed(eventId);
      const stream = new SubscriberStream(eventId, options.maxPendingTickets, leave(feed));
      feed.subscribers.add(stream);
      try {
        await feed.ready;
        if (!feed.tickets) throw new Error(`live availability of event ${eventId} closed while starting`);
        stream.start(feed.tickets.counts());
        return stream;
      } catch (error) {
        await stream.return();
        throw error;
      }
    },
    blocksRead: () => blocksRead,
    stats: () => ({
      events: feeds.size,
      subscribers: [...feeds.values()].reduce((sum, feed) => sum + feed.subscribers.size, 0),
    }),
    close() {
      for (const feed of [...feeds.values()]) {
        for (const stream of [...feed.subscribers]) void stream.return();
        closeFeed(feed);
      }
    },
  };
}

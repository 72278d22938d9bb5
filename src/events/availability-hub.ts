import { availabilityByEventIds, ticketsByIds } from '../catalog/storage.js';
import type { Db } from '../db/client.js';
import { availabilityBatch, SubscriberStream } from './subscriber-stream.js';
import type { TicketChange, TicketChangeBus } from './ticket-change-bus.js';

/** Tuning of the live stream. */
export interface AvailabilityHubOptions {
  /** Changes arriving within this window become one message, shared by the event's subscribers. */
  windowMs: number;
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
  /** Completes every stream and drops every bus subscription. */
  close(): void;
}

interface Feed {
  eventId: string;
  subscribers: Set<SubscriberStream>;
  changed: Set<string>;
  timer: NodeJS.Timeout | undefined;
  flushing: boolean;
  closed: boolean;
  unlisten: (() => void) | undefined;
  ready: Promise<void>;
}

/**
 * Each instance holds one bus subscription per watched event, however many seat maps watch it, and
 * turns a burst of changes into one database read (changed rows and counts) per window, shared by
 * every local subscriber of that event.
 */
export function createAvailabilityHub(db: Db, bus: TicketChangeBus, options: AvailabilityHubOptions): AvailabilityHub {
  const feeds = new Map<string, Feed>();

  const closeFeed = (feed: Feed) => {
    feed.closed = true;
    clearTimeout(feed.timer);
    if (feeds.get(feed.eventId) === feed) feeds.delete(feed.eventId);
    feed.unlisten?.();
    feed.unlisten = undefined;
  };

  const schedule = (feed: Feed) => {
    if (feed.timer || feed.flushing || feed.closed) return;
    feed.timer = setTimeout(() => {
      feed.timer = undefined;
      flush(feed).catch(options.onError);
    }, options.windowMs);
  };

  const flush = async (feed: Feed) => {
    const ids = [...feed.changed];
    feed.changed.clear();
    // Only subscribers present now get this batch; later ones read counts after it anyway.
    const targets = [...feed.subscribers];
    feed.flushing = true;
    try {
      const [tickets, counts] = await Promise.all([ticketsByIds(db, ids), availabilityByEventIds(db, [feed.eventId])]);
      const eventCounts = counts.get(feed.eventId);
      if (!eventCounts) return;
      // One message object for everyone: in-step subscribers pass it on as is, and the GraphQL layer
      // executes a message once per operation rather than once per subscriber.
      const batch = availabilityBatch(feed.eventId, eventCounts, tickets);
      for (const stream of targets) stream.push(batch);
    } catch (error) {
      for (const id of ids) feed.changed.add(id); // try again next window rather than send wrong counts
      options.onError(error);
    } finally {
      feed.flushing = false;
      if (feed.changed.size > 0) schedule(feed);
    }
  };

  const openFeed = (eventId: string): Feed => {
    const feed: Feed = {
      eventId,
      subscribers: new Set(),
      changed: new Set(),
      timer: undefined,
      flushing: false,
      closed: false,
      unlisten: undefined,
      ready: Promise.resolve(),
    };
    feed.ready = bus
      .listen(eventId, (changes) => {
        for (const change of changes) feed.changed.add(change.id);
        schedule(feed);
      })
      .then((unlisten) => {
        if (feed.closed) unlisten();
        else feed.unlisten = unlisten;
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
        const counts = (await availabilityByEventIds(db, [eventId])).get(eventId);
        if (!counts) throw new Error(`no counts for event ${eventId}`);
        stream.start(counts);
        return stream;
      } catch (error) {
        await stream.return();
        throw error;
      }
    },
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

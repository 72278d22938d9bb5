import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Cluster, type Redis } from 'ioredis';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { TicketStatus } from '../db/schema.js';
import type { RedisConnection } from './redis-client.js';
import { availabilityChannel, saleSettingsChannel } from './redis-keys.js';

/**
 * Hears an event's changes. `incomplete` is true when the message also held changes this instance
 * could not read (a field missing, as from an older instance); those are left out, and the listener
 * should read the event's tickets again.
 */
export type ChangeListener = (changes: TicketChange[], incomplete: boolean) => void;

/**
 * Carries ticket changes between instances, on one typed channel per event. `listen` resolves only
 * once the subscription is live, so whatever is committed after that moment is sure to arrive.
 */
export interface TicketChangeBus {
  /** Fire-and-forget: call after the commit. Delivery is at most once (Redis pub/sub). */
  publish(eventId: string, changes: TicketChange[]): void;
  /** Subscribes to an event's changes; resolves with the function that unsubscribes. */
  listen(eventId: string, listener: ChangeListener): Promise<() => void>;
  /** Tells every instance that an event's sale window or limit changed. */
  publishSaleChanged(eventId: string): void;
  /** Hears {@link publishSaleChanged} from any instance, this one included. */
  onSaleChanged(listener: (eventId: string) => void): Promise<() => void>;
}

type Listener = (event: Event) => void;

/** A change as JSON carries it: the channel names the event, and the time is ISO 8601. */
interface WireChange {
  id: string;
  status: TicketStatus;
  version: number;
  statusChangedAt: string | null;
}

function toWire(changes: readonly TicketChange[]): string {
  const wire: WireChange[] = changes.map((c) => ({
    id: c.id,
    status: c.status,
    version: c.version,
    statusChangedAt: c.statusChangedAt === null ? null : c.statusChangedAt.toISOString(),
  }));
  return JSON.stringify(wire);
}

/** The changes of a message (already parsed by the event target), and whether any had to be left out. */
function fromWire(eventId: string, message: unknown, listener: ChangeListener): void {
  const changes: TicketChange[] = [];
  let incomplete = !Array.isArray(message);
  for (const raw of Array.isArray(message) ? (message as Partial<WireChange>[]) : []) {
    const { id, status, version, statusChangedAt } = raw;
    const when = typeof statusChangedAt === 'string' ? new Date(statusChangedAt) : statusChangedAt;
    if (typeof id !== 'string' || typeof version !== 'number' || !status || when === undefined) incomplete = true;
    else changes.push({ id, eventId, status, version, statusChangedAt: when });
  }
  listener(changes, incomplete);
}

// The channel names live with every other Redis name, in redis-keys.ts.
export { availabilityChannel, saleSettingsChannel } from './redis-keys.js';

/**
 * The commands the bus sends, in one of two dialects: classic pub/sub on one server
 * (`PUBLISH`/`SUBSCRIBE`, any Redis from 6.2), sharded pub/sub on a cluster (`SPUBLISH`/`SSUBSCRIBE`,
 * Redis 7). Classic pub/sub on a cluster would copy every message to every node over the cluster
 * bus, so each node would carry every event's traffic; a sharded message stays on the shard that owns
 * its channel's slot, where only the instances watching that event hear it.
 */
interface PubSubDialect {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  onMessage(listener: (channel: string, message: string) => void): void;
}

function dialectOf(connections: { publisher: RedisConnection; subscriber: RedisConnection }): PubSubDialect {
  const { publisher, subscriber } = connections;
  if (publisher instanceof Cluster) {
    return {
      publish: (channel, message) => publisher.spublish(channel, message),
      subscribe: (channel) => subscriber.ssubscribe(channel),
      unsubscribe: (channel) => subscriber.sunsubscribe(channel),
      onMessage: (listener) => subscriber.on('smessage', listener),
    };
  }
  return {
    publish: (channel, message) => publisher.publish(channel, message),
    subscribe: (channel) => subscriber.subscribe(channel),
    unsubscribe: (channel) => subscriber.unsubscribe(channel),
    onMessage: (listener) => subscriber.on('message', listener),
  };
}

/**
 * The event target of `@graphql-yoga/redis-event-target` (one Redis subscription per channel with a
 * listener, JSON messages), spoken in the connection's dialect: the library only calls `publish`,
 * `subscribe`, `unsubscribe` and `on('message')`, which the adapters below map onto the dialect.
 */
function eventTarget(dialect: PubSubDialect, onError: (error: unknown) => void) {
  const publishClient = {
    publish: (channel: string, message: string) => dialect.publish(channel, message).catch(onError),
  };
  const subscribeClient = {
    subscribe: (channel: string) => dialect.subscribe(channel).catch(onError),
    unsubscribe: (channel: string) => dialect.unsubscribe(channel).catch(onError),
    on: (_event: 'message', listener: (channel: string, message: string) => void) => dialect.onMessage(listener),
  };
  return createRedisEventTarget({
    publishClient: publishClient as unknown as Redis,
    subscribeClient: subscribeClient as unknown as Redis,
  });
}

/**
 * The bus over Redis pub/sub: `@graphql-yoga/redis-event-target` on separate publisher and
 * subscriber connections, classic on one server and sharded on a cluster ({@link PubSubDialect}). It
 * subscribes a channel on its first listener and unsubscribes on its last.
 */
export function createRedisTicketChangeBus(
  connections: { publisher: RedisConnection; subscriber: RedisConnection },
  prefix: string,
  onError: (error: unknown) => void,
): TicketChangeBus {
  const dialect = dialectOf(connections);
  const target = eventTarget(dialect, onError);
  return {
    publish(eventId, changes) {
      dialect.publish(availabilityChannel(prefix, eventId), toWire(changes)).catch(onError);
    },
    async listen(eventId, listener) {
      const channel = availabilityChannel(prefix, eventId);
      const callback: Listener = (event) => fromWire(eventId, (event as CustomEvent<unknown>).detail, listener);
      target.addEventListener(channel, callback);
      // The event target does not await its SUBSCRIBE; subscribing again (a no-op for Redis) gives a
      // reply that arrives only once the channel is live.
      await dialect.subscribe(channel);
      return () => target.removeEventListener(channel, callback);
    },
    publishSaleChanged(eventId) {
      dialect.publish(saleSettingsChannel(prefix), JSON.stringify(eventId)).catch(onError);
    },
    async onSaleChanged(listener) {
      const channel = saleSettingsChannel(prefix);
      const callback: Listener = (event) => listener((event as CustomEvent<string>).detail);
      target.addEventListener(channel, callback);
      await dialect.subscribe(channel);
      return () => target.removeEventListener(channel, callback);
    },
  };
}

/** The embedded mode's bus: an in-process EventTarget. */
export function createMemoryTicketChangeBus(): TicketChangeBus {
  const target = new EventTarget();
  return {
    publish(eventId, changes) {
      target.dispatchEvent(new CustomEvent(eventId, { detail: changes }));
    },
    async listen(eventId, listener) {
      const callback: Listener = (event) => listener((event as CustomEvent<TicketChange[]>).detail, false);
      target.addEventListener(eventId, callback);
      return () => target.removeEventListener(eventId, callback);
    },
    publishSaleChanged(eventId) {
      target.dispatchEvent(new CustomEvent(SALE_SETTINGS, { detail: eventId }));
    },
    async onSaleChanged(listener) {
      const callback: Listener = (event) => listener((event as CustomEvent<string>).detail);
      target.addEventListener(SALE_SETTINGS, callback);
      return () => target.removeEventListener(SALE_SETTINGS, callback);
    },
  };
}

/** Event ids are UUIDs, so this name never collides with one. */
const SALE_SETTINGS = 'sale-settings';

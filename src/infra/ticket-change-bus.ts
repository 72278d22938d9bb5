import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis } from 'ioredis';
import type { TicketChange } from '../catalog/ticket-change.js';
import type { TicketStatus } from '../db/schema.js';
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
 * The bus over Redis pub/sub: `@graphql-yoga/redis-event-target` on separate publisher and
 * subscriber connections. It subscribes a channel on its first listener and unsubscribes on its last.
 */
export function createRedisTicketChangeBus(
  connections: { publisher: Redis; subscriber: Redis },
  prefix: string,
  onError: (error: unknown) => void,
): TicketChangeBus {
  const target = createRedisEventTarget({
    publishClient: connections.publisher,
    subscribeClient: connections.subscriber,
  });
  return {
    publish(eventId, changes) {
      const channel = availabilityChannel(prefix, eventId);
      connections.publisher.publish(channel, toWire(changes)).catch(onError);
    },
    async listen(eventId, listener) {
      const channel = availabilityChannel(prefix, eventId);
      const callback: Listener = (event) => fromWire(eventId, (event as CustomEvent<unknown>).detail, listener);
      target.addEventListener(channel, callback);
      // The event target does not await its SUBSCRIBE; subscribing again (a no-op for Redis) gives a
      // reply that arrives only once the channel is live.
      await connections.subscriber.subscribe(channel);
      return () => target.removeEventListener(channel, callback);
    },
    publishSaleChanged(eventId) {
      connections.publisher.publish(saleSettingsChannel(prefix), JSON.stringify(eventId)).catch(onError);
    },
    async onSaleChanged(listener) {
      const channel = saleSettingsChannel(prefix);
      const callback: Listener = (event) => listener((event as CustomEvent<string>).detail);
      target.addEventListener(channel, callback);
      await connections.subscriber.subscribe(channel);
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

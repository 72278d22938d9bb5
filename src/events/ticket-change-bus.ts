import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis } from 'ioredis';
import type { TicketStatus } from '../db/schema.js';

/**
 * A committed status change of one ticket, as published between instances: all of the ticket that a
 * change can touch, so a listener needs no database read to pass it on.
 */
export interface TicketChange {
  id: string;
  status: TicketStatus;
  version: number;
  /** ISO 8601, as JSON carries it. */
  statusChangedAt: string | null;
}

/**
 * Carries ticket changes between instances, on one typed channel per event. `listen` resolves only
 * once the subscription is live, so whatever is committed after that moment is sure to arrive.
 */
export interface TicketChangeBus {
  /** Fire-and-forget: call after the commit. Delivery is at most once (Redis pub/sub). */
  publish(eventId: string, changes: TicketChange[]): void;
  /** Subscribes to an event's changes; resolves with the function that unsubscribes. */
  listen(eventId: string, listener: (changes: TicketChange[]) => void): Promise<() => void>;
  /** Tells every instance that an event's sale window or limit changed. */
  publishSaleChanged(eventId: string): void;
  /** Hears {@link publishSaleChanged} from any instance, this one included. */
  onSaleChanged(listener: (eventId: string) => void): Promise<() => void>;
}

type Listener = (event: Event) => void;

/** The channel that carries sale-settings changes of every event. */
export function saleSettingsChannel(prefix: string): string {
  return `${prefix}sale-settings`;
}

/** The channel of one event's changes. */
export function availabilityChannel(prefix: string, eventId: string): string {
  return `${prefix}availability:${eventId}`;
}

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
      connections.publisher.publish(channel, JSON.stringify(changes)).catch(onError);
    },
    async listen(eventId, listener) {
      const channel = availabilityChannel(prefix, eventId);
      const callback: Listener = (event) => listener((event as CustomEvent<TicketChange[]>).detail);
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
      const callback: Listener = (event) => listener((event as CustomEvent<TicketChange[]>).detail);
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

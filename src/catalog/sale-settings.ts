import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../db/client.js';
import { eventsTable } from '../db/schema.js';

/** What decides whether an event is on sale, and for how many seats per customer. */
export interface SaleSettings {
  saleOpensAt: Date | null;
  saleClosesAt: Date | null;
  perCustomerLimit: number | null;
}

/** Where a sale stands at `now`. */
export type SaleState = { open: true } | { open: false; opensAt: Date } | { open: false; closedAt: Date };

/** Evaluates a sale window at an instant; the window is [opensAt, closesAt). */
export function saleStateAt(settings: SaleSettings, now: Date): SaleState {
  if (settings.saleClosesAt && now >= settings.saleClosesAt) return { open: false, closedAt: settings.saleClosesAt };
  if (settings.saleOpensAt && now < settings.saleOpensAt) return { open: false, opensAt: settings.saleOpensAt };
  return { open: true };
}

/** Reads one event's sale settings, or null when there is no such event. */
export async function readSaleSettings(db: Db, eventId: string): Promise<SaleSettings | null> {
  const [row] = await db
    .select({
      saleOpensAt: eventsTable.saleOpensAt,
      saleClosesAt: eventsTable.saleClosesAt,
      perCustomerLimit: eventsTable.perCustomerLimit,
    })
    .from(eventsTable)
    .where(eq(eventsTable.id, eventId));
  return row ?? null;
}

/**
 * Sale settings cached in process, so the window and limit checks in front of the lock cost no
 * query per buyer: one read per event per instance per `ttlMs`, and at once after `invalidate`
 * (which every instance hears when an organizer opens or closes a sale). The purchase transaction
 * checks the window again in SQL, so a stale entry can delay a refusal, never allow a sale.
 */
export interface SaleSettingsCache {
  get(eventId: string): Promise<SaleSettings | null>;
  invalidate(eventId: string): void;
  /** Events cached now; never more than `maxEvents`. */
  readonly size: number;
}

/** How many events' settings an instance keeps at most: event ids come from clients, any number of them. */
export const SALE_SETTINGS_CACHE_EVENTS = 10_000;

/** Options of {@link createSaleSettingsCache}; `now` is injectable for tests. */
export interface SaleSettingsCacheOptions {
  maxEvents?: number;
  now?: () => number;
}

/** Builds the cache over `db`. */
export function createSaleSettingsCache(
  db: Db,
  ttlMs: number,
  options: SaleSettingsCacheOptions = {},
): SaleSettingsCache {
  return cacheSaleSettings((eventId) => readSaleSettings(db, eventId), ttlMs, options);
}

/**
 * The cache over any reader. Unknown ids are cached too (as null), so the least recently used entries
 * go once `maxEvents` is reached: a client naming endless made-up events costs reads, not memory.
 */
export function cacheSaleSettings(
  read: (eventId: string) => Promise<SaleSettings | null>,
  ttlMs: number,
  { maxEvents = SALE_SETTINGS_CACHE_EVENTS, now = Date.now }: SaleSettingsCacheOptions = {},
): SaleSettingsCache {
  const entries = new LRUCache<string, { settings: Promise<SaleSettings | null>; expiresAt: number }>({
    max: maxEvents,
  });
  return {
    get(eventId) {
      const cached = entries.get(eventId);
      if (cached && cached.expiresAt > now()) return cached.settings;
      const entry = { settings: read(eventId), expiresAt: now() + ttlMs };
      entries.set(eventId, entry);
      // A failed read is forgotten (unless a newer one has replaced it), so the next buyer reads again.
      entry.settings.catch(() => {
        if (entries.peek(eventId) === entry) entries.delete(eventId);
      });
      return entry.settings;
    },
    invalidate(eventId) {
      entries.delete(eventId);
    },
    get size() {
      return entries.size;
    },
  };
}

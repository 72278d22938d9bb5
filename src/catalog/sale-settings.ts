import { eq } from 'drizzle-orm';
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
}

/** Builds the cache over `db`; `now` is injectable for tests. */
export function createSaleSettingsCache(db: Db, ttlMs: number, now: () => number = Date.now): SaleSettingsCache {
  const entries = new Map<string, { settings: Promise<SaleSettings | null>; expiresAt: number }>();
  return {
    get(eventId) {
      const cached = entries.get(eventId);
      if (cached && cached.expiresAt > now()) return cached.settings;
      const settings = readSaleSettings(db, eventId);
      entries.set(eventId, { settings, expiresAt: now() + ttlMs });
      settings.catch(() => entries.delete(eventId));
      return settings;
    },
    invalidate(eventId) {
      entries.delete(eventId);
    },
  };
}

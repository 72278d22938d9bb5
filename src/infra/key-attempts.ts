import { randomUUID } from 'node:crypto';

/**
 * How an attempt with an idempotency key began, from what Redis remembers of the key (see
 * sales/idempotency.ts for the rule these serve):
 * - `first`: no earlier attempt is remembered, and this one holds the key's in-flight lease;
 * - `again`: an earlier attempt is remembered (it may still be running, or stalled);
 * - `made`: an attempt made the key's result (an order or hold) for the request `made` names;
 * - `refused`: an attempt was answered `refusal`, which is the key's answer from now on.
 */
export type KeyAttempt =
  | {
      state: 'first' | 'again' | 'made';
      /** This attempt's token: it names the attempt in the key's record, and its lease. */
      token: string;
      /** This attempt holds the key's in-flight lease (until it ends, or for the lock TTL). */
      leased: boolean;
      /** `made`: the fingerprint of the request whose result the key made. */
      made?: string | undefined;
    }
  | { state: 'refused'; refusal: string };

/** What an ending attempt leaves in the key's record. */
export type KeyAttemptEnd =
  /** The key made its result, for the request with this fingerprint. */
  | { made: string }
  /**
   * The attempt answers `refused` (as recorded). With `onlyIfAlone`, only if no other attempt of the
   * key has begun since this one (the record still names this attempt alone); otherwise nothing is
   * recorded, the lease is kept, and `end` returns false.
   */
  | { refused: string; onlyIfAlone?: boolean };

/**
 * What Redis remembers of each idempotency key: its in-flight lease (the lock TTL) and a record of
 * its attempts, kept for the idempotency window. Both change in one step per call, so an attempt
 * that ends can tell whether another began meanwhile. Redis may forget (a flush, a restart, the
 * window): Postgres's unique index on each key stays the last word.
 */
export interface KeyAttempts {
  /** How long a key's record is kept after its last attempt: the idempotency window. */
  readonly windowMs: number;
  /** Registers an attempt of the key `name` and tries for its lease, in one round trip. */
  begin(name: string): Promise<KeyAttempt>;
  /** Ends the attempt `token`: records `record`, if any, and frees its lease, in one round trip. */
  end(name: string, token: string, record?: KeyAttemptEnd): Promise<boolean>;
  close(): Promise<void>;
}

/** How long a key's lease and its record last. */
export interface KeyAttemptTimings {
  /** The in-flight lease: a stalled attempt's lease is free again after this. */
  lockTtlMs: number;
  /** The record: how long after its last attempt a key's attempts and answer are remembered. */
  windowMs: number;
}

/**
 * The record's values, spelled once for both implementations: the token of the only attempt so
 * far, {@link SEVERAL} attempts, {@link MADE} and the request's fingerprint, or {@link REFUSED} and the
 * refusal. Tokens are UUIDs, so they never look like the others.
 */
export const KEY_RECORD = { SEVERAL: '*', MADE: 'm:', REFUSED: 'r:' } as const;
const { SEVERAL, MADE, REFUSED } = KEY_RECORD;

/** The embedded mode's key attempts: the same contract over a Map, for one process. `now` is injectable. */
export function createMemoryKeyAttempts(timings: KeyAttemptTimings, now: () => number = Date.now): KeyAttempts {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const get = (key: string): string | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now()) return entry.value;
    entries.delete(key);
    return undefined;
  };
  const set = (key: string, value: string, ttlMs: number) => entries.set(key, { value, expiresAt: now() + ttlMs });
  const sweep = setInterval(() => {
    for (const key of entries.keys()) get(key);
  }, 60_000);
  sweep.unref();

  return {
    windowMs: timings.windowMs,
    async begin(name) {
      const [recordKey, leaseKey] = [`record/${name}`, `lease/${name}`];
      const record = get(recordKey);
      if (record?.startsWith(REFUSED)) return { state: 'refused', refusal: record.slice(REFUSED.length) };
      const token = randomUUID();
      const leased = get(leaseKey) === undefined;
      if (leased) set(leaseKey, token, timings.lockTtlMs);
      if (record?.startsWith(MADE)) {
        set(recordKey, record, timings.windowMs);
        return { state: 'made', token, leased, made: record.slice(MADE.length) };
      }
      const first = record === undefined && leased;
      set(recordKey, first ? token : SEVERAL, timings.windowMs);
      return { state: first ? 'first' : 'again', token, leased };
    },
    async end(name, token, record) {
      const [recordKey, leaseKey] = [`record/${name}`, `lease/${name}`];
      if (record && 'refused' in record && record.onlyIfAlone && get(recordKey) !== token) return false;
      if (record) set(recordKey, 'made' in record ? MADE + record.made : REFUSED + record.refused, timings.windowMs);
      if (get(leaseKey) === token) entries.delete(leaseKey);
      return true;
    },
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}

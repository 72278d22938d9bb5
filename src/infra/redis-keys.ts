/**
 * Every Redis key and channel name the server uses, in one place (the key map in ARCHITECTURE.md).
 *
 * Everything about one event's seats lives under ONE Redis Cluster hash tag, `{ev:<eventId>}`: the
 * seat locks and marks, and the free-seat index. So one Lua script may read and write them all,
 * and on a cluster they all sit on one node. Keys that belong to no event (an idempotency key's
 * lease and record, the attempt budget) carry tags of their own.
 */

/** The hash tag of an event: every seat key and index key of the event starts with it. */
export function eventTag(prefix: string, eventId: string): string {
  return `${prefix}{ev:${eventId}}:`;
}

/** A seat's lock, hold mark or sold mark: `<prefix>{ev:<eventId>}:seat:<ticketId>`. */
export function seatKey(prefix: string, eventId: string, ticketId: string): string {
  return `${eventTag(prefix, eventId)}seat:${ticketId}`;
}

/**
 * The event's marks epoch (infra/ticket-lock.ts, `marks`): `0` from the event's creation, or the Redis
 * time at which it was found missing, after which its marks are kept again.
 * In the event's hash tag, so a loss of the event's marks (a flush, a restart, a failover onto an
 * empty node) takes it too.
 */
export function marksSinceKey(prefix: string, eventId: string): string {
  return `${eventTag(prefix, eventId)}marks-since`;
}

/**
 * The marks epoch (see {@link marksSinceKey}) that a reload from Postgres has vouched for: every sold
 * and held seat of the event has had its mark since (sales/marks.ts). `0` for an event opened at its
 * creation. In the event's hash tag, so it is lost with the marks.
 */
export function marksWholeKey(prefix: string, eventId: string): string {
  return `${eventTag(prefix, eventId)}marks-whole`;
}

/** An idempotency key's in-flight lease (infra/key-attempts.ts): `<prefix>lease:{<name>}`. */
export function keyLeaseKey(prefix: string, name: string): string {
  return `${prefix}lease:{${name}}`;
}

/**
 * An idempotency key's record of its attempts (infra/key-attempts.ts): `<prefix>seen:{<name>}`. Its
 * hash tag is the lease's, so one script may touch both (on a cluster they share a slot).
 */
export function keyRecordKey(prefix: string, name: string): string {
  return `${prefix}seen:{${name}}`;
}

/**
 * The free-seat index of one event (see infra/redis-seat-index.ts). The suffixes are appended to
 * {@link eventTag} inside the Lua scripts too, so they are spelled once, here.
 */
export const INDEX_KEYS = {
  /** Hash {rows, builtAt}: the sentinel. Its absence means the index was lost (or never built). */
  meta: 'ix:meta',
  /** Sorted set of row numbers that still have a free seat, scored by row number (= rank). */
  open: 'ix:open',
  /** Hash row → free seats in that row, as the index believes. */
  free: 'ix:free',
  /** Hash row → `kind|priceCents|length|section` (`s` seated, `g` general admission). */
  rows: 'ix:rows',
  /** Hash ticketId → `row:offset`, to free a seat given back by the per-seat paths. */
  where: 'ix:where',
  /** String per seated row, one byte a seat in seat order: `0` free, `1` taken. Suffix `:<row>`. */
  bits: 'ix:bits',
  /** String per seated row: its ticket ids (36 characters each) in seat order. Suffix `:<row>`. */
  ids: 'ix:ids',
  /** Sorted set per general-admission row of its free unit ids, scored by unit. Suffix `:<row>`. */
  ga: 'ix:ga',
  /** Set with a TTL while one instance rebuilds the index from Postgres. */
  building: 'ix:building',
  /** Set with a short TTL after Postgres was asked whether the index undercounts. */
  checked: 'ix:checked',
} as const;

/** An index key of an event. */
export function indexKey(prefix: string, eventId: string, key: keyof typeof INDEX_KEYS, row?: number): string {
  return `${eventTag(prefix, eventId)}${INDEX_KEYS[key]}${row === undefined ? '' : `:${row}`}`;
}

/**
 * Where the attempt budget keeps its counters: rate-limiter-flexible appends `:` and
 * {@link attemptsKey}, giving `<prefix>attempts:{cu:<customerId>}`.
 */
export function attemptsKeyPrefix(prefix: string): string {
  return `${prefix}attempts`;
}

/**
 * The customer's part of its budget's key: the hash tag names the customer, so on a cluster each
 * customer's budget lives in one slot and the customers spread.
 */
export function attemptsKey(customerId: string): string {
  return `{cu:${customerId}}`;
}

/**
 * The channel that carries sale-settings changes of every event (a window or limit changed). Its
 * hash tag puts it on one shard of a cluster: every instance listens to it, and it carries a message
 * per organizer edit, not per sale.
 */
export function saleSettingsChannel(prefix: string): string {
  return `${prefix}{sale-settings}`;
}

/**
 * The channel of one event's committed ticket changes. Its hash tag is the event's, as for the
 * event's other keys, so on a cluster (sharded pub/sub) an event's messages go to the shard that
 * already holds the event: `<prefix>{ev:<eventId>}:availability`.
 */
export function availabilityChannel(prefix: string, eventId: string): string {
  return `${eventTag(prefix, eventId)}availability`;
}

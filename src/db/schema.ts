import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** AVAILABLE → HELD (a buyer's hold, while they pay) → SOLD; or AVAILABLE → SOLD in one step. */
export const ticketStatusEnum = pgEnum('ticket_status', ['AVAILABLE', 'HELD', 'SOLD']);

/**
 * Every ticket status change takes the next value, so a seat map can tell which of two states of a
 * ticket is newer (see the README's gap-free recipe).
 */
export const ticketVersionSequence = pgSequence('ticket_version_seq');

/** A customer is created the first time a signed-in `sub` buys; the id is the JWT `sub`. */
export const customersTable = pgTable('customers', {
  id: text('id').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The customer a row belongs to. */
const customerColumn = () =>
  text('customer_id')
    .notNull()
    .references(() => customersTable.id);

export const eventsTable = pgTable(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    venue: text('venue').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    /** Purchases are accepted from this instant (null: already open). */
    saleOpensAt: timestamp('sale_opens_at', { withTimezone: true }),
    /** …until this instant (null: until further notice). */
    saleClosesAt: timestamp('sale_closes_at', { withTimezone: true }),
    /** Most tickets one customer may hold for this event (null: no limit). */
    perCustomerLimit: integer('per_customer_limit'),
    /** How long a hold keeps its seats, in minutes (null: the server's HOLD_TTL_MS). */
    holdMinutes: integer('hold_minutes'),
    /**
     * The fence against seat locks Redis has lost (sales/marks.ts): a sale or hold whose locks were
     * taken under an older marks epoch than this changes nothing. Raised when the event's seat marks
     * are reloaded from here after a Redis loss.
     */
    marksEpoch: bigint('marks_epoch', { mode: 'number' }).notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_starts_at_idx').on(t.startsAt, t.id),
    check('events_limit_positive', sql`${t.perCustomerLimit} is null or ${t.perCustomerLimit} > 0`),
    check('events_hold_minutes_range', sql`${t.holdMinutes} is null or ${t.holdMinutes} between 1 and 60`),
  ],
);

export const ticketsTable = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => eventsTable.id, { onDelete: 'cascade' }),
    section: text('section').notNull(),
    row: text('row').notNull(),
    seat: text('seat').notNull(),
    /** Seat-map order within the event (section, row, seat as laid out, not as sorted text). */
    position: integer('position').notNull(),
    priceCents: integer('price_cents').notNull(),
    /** A unit of a general-admission section: any free unit will do, so it has no seat of its own to pick. */
    generalAdmission: boolean('general_admission').notNull().default(false),
    status: ticketStatusEnum('status').notNull().default('AVAILABLE'),
    version: bigint('version', { mode: 'number' }).notNull().default(sql`nextval('ticket_version_seq')`),
    /** When the status last changed (clock_timestamp() in the changing write); null if never. */
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true, precision: 3 }),
    /** The hold that keeps a HELD seat; null otherwise (a seat has one row, so at most one hold). */
    holdId: uuid('hold_id').references((): AnyPgColumn => holdsTable.id),
  },
  (t) => [
    uniqueIndex('tickets_event_seat_uq').on(t.eventId, t.section, t.row, t.seat),
    uniqueIndex('tickets_event_position_uq').on(t.eventId, t.position),
    index('tickets_event_status_idx').on(t.eventId, t.status),
    index('tickets_event_version_idx').on(t.eventId, t.version),
    check('tickets_price_nonnegative', sql`${t.priceCents} >= 0`),
    check('tickets_held_has_hold', sql`(${t.status} = 'HELD') = (${t.holdId} is not null)`),
  ],
);

/**
 * An idempotency key's refusal tombstone: a row of `orders` (purchase keys) or `holds` (hold keys)
 * whose `refusal` is the refusal the key was answered with (sales/refusal-record.ts), and which is
 * neither an order nor a hold. It exists so the key's unique index refuses a stalled twin of the
 * refused request, whose order or hold would otherwise be made after the buyer was told "no"
 * (sales/idempotency.ts). A tombstone holds no seats, counts for nothing, is CANCELLED (orders) or
 * RELEASED (holds), and every read of orders or holds leaves it out (`refusal is null`). Null on every
 * real order and hold.
 */
const refusalColumn = () => jsonb('refusal');

/** The columns of a line (of a hold or an order): the seat, and its price at the time. */
const seatLine = () => ({
  ticketId: uuid('ticket_id')
    .notNull()
    .references(() => ticketsTable.id),
  priceCents: integer('price_cents').notNull(),
});

/** ACTIVE until checked out, released by its buyer, or expired. */
export const holdStatusEnum = pgEnum('hold_status', ['ACTIVE', 'CHECKED_OUT', 'RELEASED', 'EXPIRED']);

/** Seats kept for one buyer while they pay, until `expires_at`. */
export const holdsTable = pgTable(
  'holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: customerColumn(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => eventsTable.id, { onDelete: 'cascade' }),
    status: holdStatusEnum('status').notNull().default('ACTIVE'),
    totalCents: integer('total_cents').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    /** When the hold stopped being ACTIVE. */
    endedAt: timestamp('ended_at', { withTimezone: true, precision: 3 }),
    /** The order its checkout made. */
    orderId: uuid('order_id').references(() => ordersTable.id),
    /** The buyer's retry key for holdSeats: the same key always names this one hold. */
    idempotencyKey: text('idempotency_key'),
    /** Set only on a key's refusal tombstone, which is not a hold: see {@link refusalColumn}. */
    refusal: refusalColumn(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('holds_customer_created_idx').on(t.customerId, t.createdAt, t.id),
    index('holds_active_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'ACTIVE'`),
    uniqueIndex('holds_customer_idempotency_uq')
      .on(t.customerId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    uniqueIndex('holds_order_uq').on(t.orderId),
  ],
);

/** The seats a hold was made of, whatever became of it. */
export const holdTicketsTable = pgTable(
  'hold_tickets',
  {
    holdId: uuid('hold_id')
      .notNull()
      .references(() => holdsTable.id, { onDelete: 'cascade' }),
    ...seatLine(),
  },
  (t) => [primaryKey({ columns: [t.holdId, t.ticketId] }), index('hold_tickets_ticket_idx').on(t.ticketId)],
);

/** CONFIRMED when bought; CANCELLED once its seats are released. */
export const orderStatusEnum = pgEnum('order_status', ['CONFIRMED', 'CANCELLED']);

export const ordersTable = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: customerColumn(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => eventsTable.id),
    totalCents: integer('total_cents').notNull(),
    status: orderStatusEnum('status').notNull().default('CONFIRMED'),
    /** The buyer's retry key: the same key always names this one order. */
    idempotencyKey: text('idempotency_key'),
    /** Set only on a key's refusal tombstone, which is not an order: see {@link refusalColumn}. */
    refusal: refusalColumn(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  },
  (t) => [
    index('orders_customer_created_idx').on(t.customerId, t.createdAt, t.id),
    uniqueIndex('orders_customer_idempotency_uq')
      .on(t.customerId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    check('orders_total_nonnegative', sql`${t.totalCents} >= 0`),
  ],
);

/**
 * The tickets of an order. The partial unique index is the database's own refusal of a second sale:
 * a ticket belongs to at most one live order. `released_at` leaves room for refunds that free a seat.
 */
export const orderTicketsTable = pgTable(
  'order_tickets',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => ordersTable.id, { onDelete: 'cascade' }),
    ...seatLine(),
    releasedAt: timestamp('released_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.ticketId] }),
    uniqueIndex('order_tickets_live_ticket_uq').on(t.ticketId).where(sql`${t.releasedAt} IS NULL`),
  ],
);

/**
 * How many live tickets each customer holds per event. The purchase raises it with a conditional
 * upsert in its own transaction, so the per-customer limit holds however many instances race; the
 * row lock also serialises one customer's concurrent purchases for one event.
 */
export const customerEventTicketsTable = pgTable(
  'customer_event_tickets',
  {
    customerId: customerColumn(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => eventsTable.id, { onDelete: 'cascade' }),
    tickets: integer('tickets').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.eventId] }),
    check('customer_event_tickets_nonnegative', sql`${t.tickets} >= 0`),
  ],
);

export type CustomerRow = typeof customersTable.$inferSelect;
export type EventRow = typeof eventsTable.$inferSelect;
export type TicketRow = typeof ticketsTable.$inferSelect;
export type OrderRow = typeof ordersTable.$inferSelect;
export type HoldRow = typeof holdsTable.$inferSelect;
export type HoldStatus = (typeof holdStatusEnum.enumValues)[number];
export type TicketStatus = (typeof ticketStatusEnum.enumValues)[number];
export type OrderStatus = (typeof orderStatusEnum.enumValues)[number];

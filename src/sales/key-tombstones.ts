import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { RefusalRecord } from './refusal-record.js';

/** Whose key, for which event (the tombstone's row names both, as an order or hold would). */
export interface KeyOwner {
  customerId: string;
  eventId: string;
}

/**
 * Writes a purchase key's refusal tombstone: a CANCELLED, seatless row of `orders` whose `refusal`
 * is set (db/schema.ts), unless the key already has a row there. The insert meets the key's unique
 * index, so a twin's order, committed or not, comes first (an uncommitted one is waited for) and a
 * later one is refused. Nothing is written when the event is gone.
 */
export async function refuseOrderKey(db: Db, owner: KeyOwner, key: string, refusal: RefusalRecord): Promise<void> {
  await db.execute(sql`
with ${buyerStep(owner)}
insert into orders (id, customer_id, event_id, total_cents, status, cancelled_at, idempotency_key, refusal)
select ${randomUUID()}::uuid, ${owner.customerId}::text, e.id, 0, 'CANCELLED', now(), ${key}::text,
  ${JSON.stringify(refusal)}::jsonb
from events e where e.id = ${owner.eventId}::uuid
on conflict (customer_id, idempotency_key) where idempotency_key is not null do nothing`);
}

/**
 * Writes a hold key's refusal tombstone: a RELEASED, seatless row of `holds` whose `refusal` is set,
 * unless the key already has a row there; as {@link refuseOrderKey} does for orders.
 */
export async function refuseHoldKey(db: Db, owner: KeyOwner, key: string, refusal: RefusalRecord): Promise<void> {
  await db.execute(sql`
with ${buyerStep(owner)}
insert into holds (id, customer_id, event_id, status, total_cents, expires_at, ended_at, idempotency_key, refusal)
select ${randomUUID()}::uuid, ${owner.customerId}::text, e.id, 'RELEASED', 0, clock_timestamp(), clock_timestamp(),
  ${key}::text, ${JSON.stringify(refusal)}::jsonb
from events e where e.id = ${owner.eventId}::uuid
on conflict (customer_id, idempotency_key) where idempotency_key is not null do nothing`);
}

/** Creates the customer, as a first purchase would (the row's foreign key is checked at the statement's end). */
function buyerStep(owner: KeyOwner) {
  return sql`buyer as (
  insert into customers (id) select ${owner.customerId}::text
  where exists (select 1 from events where id = ${owner.eventId}::uuid)
  on conflict do nothing
)`;
}

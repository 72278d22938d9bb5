import type { Operation, Outcome } from './history.js';

/** An order as the database holds it at the end, ids as the API writes them (global ids). */
export interface OrderRow {
  id: string;
  key: string | null;
  status: string;
  /** Ticket global ids of its live lines, sorted. */
  seats: string[];
  /** When its transaction started (epoch ms), to tell when an order was made relative to the answers. */
  createdAt?: number;
}

/** A hold as the database holds it at the end. */
export interface HoldRow {
  id: string;
  key: string | null;
  status: string;
  seats: string[];
  orderId: string | null;
  expiresAt: number;
  endedAt: number | null;
}

/** The database at the end of the drill, read once every operation had settled. */
export interface Snapshot {
  orders: OrderRow[];
  holds: HoldRow[];
  /** When it was read (epoch ms). */
  readAt: number;
  /** Refusals kept in Postgres as their keys' tombstones (a twin of the refused request was possible). */
  tombstones?: number;
}

/** A window in which a dependency (Redis or Postgres) was faulted: expiry may lag inside it. */
export interface Window {
  start: number;
  end: number;
}

/** One rule's verdict. */
export interface Verdict {
  rule: string;
  pass: boolean;
  /** Violations found (0 when it passes). */
  violations: number;
  detail: string;
  /** A few violations, spelled out. */
  examples: string[];
}

/** What became of the operations that met an unknown outcome. */
export interface Unknowns {
  /** Operations with at least one attempt that got no typed answer. */
  met: number;
  /** Of those, how many a retry with the same key settled with a typed answer. */
  resolved: number;
  /** How many never got one (their effect is read from the database instead). */
  stayed: number;
  /** Of those that stayed unknown, how many made an order or hold. */
  stayedAndMade: number;
}

/** How late a hold ended after its expiry; holds expiring inside a dependency fault are allowed to lag. */
export const EXPIRY_SLACK_MS = 1000;

const sameSeats = (a: readonly string[], b: readonly string[]) => [...a].sort().join() === [...b].sort().join();
const keyed = (op: Operation) => op.kind !== 'release';
const makesOrder = (op: Operation) => op.kind === 'purchase' || op.kind === 'purchase-many' || op.kind === 'checkout';
const oks = (op: Operation) =>
  op.attempts.map((a) => a.outcome).filter((o): o is Extract<Outcome, { type: 'ok' }> => o.type === 'ok');

function verdict(rule: string, problems: string[], detail: string): Verdict {
  return { rule, pass: problems.length === 0, violations: problems.length, detail, examples: problems.slice(0, 5) };
}

/** Acknowledged success ⇒ the order (or hold) it named exists, from this key, with exactly those seats. */
function acknowledgedSuccesses(ops: readonly Operation[], snapshot: Snapshot): Verdict {
  const orders = new Map(snapshot.orders.map((o) => [o.id, o]));
  const holds = new Map(snapshot.holds.map((h) => [h.id, h]));
  const problems: string[] = [];
  let checked = 0;
  for (const op of ops) {
    const acks = oks(op);
    if (acks.length === 0) continue;
    checked++;
    const first = acks[0] as (typeof acks)[number];
    const named = op.kind === 'hold' ? first.holdId : first.orderId;
    if (op.kind !== 'release' && acks.some((a) => (op.kind === 'hold' ? a.holdId : a.orderId) !== named))
      problems.push(`op ${op.op} (${op.kind}): its retries were acknowledged with different ids`);
    if (op.kind === 'release') {
      const hold = holds.get(op.holdId ?? '');
      if (!hold || (hold.status !== 'RELEASED' && hold.status !== 'EXPIRED'))
        problems.push(`op ${op.op}: release acknowledged, hold ${op.holdId} is ${hold?.status ?? 'missing'}`);
      continue;
    }
    if (op.kind === 'hold') {
      const hold = holds.get(named ?? '');
      if (!hold) problems.push(`op ${op.op}: hold ${named} acknowledged, not in the database`);
      else if (hold.key !== op.key || !sameSeats(hold.seats, op.seats) || !sameSeats(first.seats ?? [], op.seats))
        problems.push(
          `op ${op.op}: hold ${named} has key ${hold.key} and seats ${hold.seats.length}, asked ${op.seats.length}`,
        );
      continue;
    }
    const order = orders.get(named ?? '');
    if (!order) {
      problems.push(`op ${op.op} (${op.kind}): order ${named} acknowledged, not in the database`);
      continue;
    }
    if (order.status !== 'CONFIRMED' || order.key !== op.key)
      problems.push(`op ${op.op}: order ${named} is ${order.status} with key ${order.key}, not ${op.key}`);
    if (!sameSeats(order.seats, op.seats) || !sameSeats(first.seats ?? [], op.seats))
      problems.push(
        `op ${op.op} (${op.kind}): order ${named} has ${order.seats.length} live seats [${order.seats.join(' ')}], asked [${op.seats.join(' ')}]`,
      );
    if (op.kind === 'checkout') {
      const hold = holds.get(op.holdId ?? '');
      if (hold?.status !== 'CHECKED_OUT' || hold.orderId !== named)
        problems.push(
          `op ${op.op}: checkout acknowledged order ${named}, hold is ${hold?.status} with order ${hold?.orderId}`,
        );
    }
  }
  return verdict(
    'acknowledged success ⇒ the order (hold) exists with exactly those seats',
    problems,
    `${checked} acknowledged successes checked against the database`,
  );
}

/** Acknowledged refusal ⇒ the operation (its key) made no order, and no hold. */
function acknowledgedRefusals(ops: readonly Operation[], snapshot: Snapshot): Verdict {
  const orderKeys = new Map(snapshot.orders.filter((o) => o.key).map((o) => [o.key, o]));
  const holdKeys = new Map(snapshot.holds.filter((h) => h.key).map((h) => [h.key, h]));
  const problems: string[] = [];
  let checked = 0;
  for (const op of ops) {
    const last = op.attempts.at(-1)?.outcome;
    if (last?.type !== 'refused' || !keyed(op)) continue;
    checked++;
    const made = makesOrder(op) ? orderKeys.get(op.key) : holdKeys.get(op.key);
    if (!made) continue;
    const answered = op.attempts.at(-1)?.complete ?? 0;
    const createdAt = 'createdAt' in made ? made.createdAt : undefined;
    const when =
      createdAt === undefined
        ? ''
        : `, made ${createdAt - answered} ms ${createdAt >= answered ? 'after' : 'before'} the refusal was answered`;
    const earlier = op.attempts.filter((a) => a.outcome.type === 'unknown').length;
    problems.push(
      `op ${op.op} (${op.kind}, ${op.attempts.length} attempts, ${earlier} without an answer) was refused with ${last.typename}${last.reason ? ` ${last.reason}` : ''}, yet its key made ${makesOrder(op) ? 'order' : 'hold'} ${made.id}${when}`,
    );
  }
  const kept =
    snapshot.tombstones === undefined ? '' : `; ${snapshot.tombstones} refusals kept in Postgres (tombstones)`;
  return verdict(
    'acknowledged refusal ⇒ that op made no order',
    problems,
    `${checked} refused operations checked${kept}`,
  );
}

/** No ticket in two live orders, and every order and hold in the database came from an operation of the history. */
function noDoubleSaleNorStrays(ops: readonly Operation[], snapshot: Snapshot): Verdict {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  let lines = 0;
  for (const order of snapshot.orders) {
    if (order.status !== 'CONFIRMED') continue;
    for (const seat of order.seats) {
      lines++;
      const other = owner.get(seat);
      if (other) problems.push(`ticket ${seat} is in live orders ${other} and ${order.id}`);
      owner.set(seat, order.id);
    }
  }
  const orderKeys = new Set(ops.filter(makesOrder).map((op) => op.key));
  const holdKeys = new Set(ops.filter((op) => op.kind === 'hold').map((op) => op.key));
  for (const order of snapshot.orders)
    if (!orderKeys.has(order.key)) problems.push(`order ${order.id} (key ${order.key}) no operation asked for`);
  for (const hold of snapshot.holds)
    if (!holdKeys.has(hold.key)) problems.push(`hold ${hold.id} (key ${hold.key}) no operation asked for`);
  return verdict(
    'no ticket in two live orders; no order nobody asked for',
    problems,
    `${snapshot.orders.length} orders with ${lines} live lines, ${snapshot.holds.length} holds`,
  );
}

/**
 * Every hold that expired ended within EXPIRY_SLACK_MS of its expiry (unless it expired during a
 * dependency fault), and none is still ACTIVE that long past it.
 */
function holdsExpireOnTime(snapshot: Snapshot, dependencyFaults: readonly Window[]): Verdict {
  const problems: string[] = [];
  let expired = 0;
  let excused = 0;
  let worst = 0;
  for (const hold of snapshot.holds) {
    if (hold.status === 'ACTIVE' && hold.expiresAt < snapshot.readAt - EXPIRY_SLACK_MS)
      problems.push(`hold ${hold.id} is ACTIVE ${snapshot.readAt - hold.expiresAt} ms past its expiry`);
    if (hold.status !== 'EXPIRED' || hold.endedAt === null) continue;
    expired++;
    const lag = hold.endedAt - hold.expiresAt;
    if (lag <= EXPIRY_SLACK_MS) {
      worst = Math.max(worst, lag);
      continue;
    }
    if (
      dependencyFaults.some(
        (w) => hold.expiresAt <= w.end + EXPIRY_SLACK_MS && hold.endedAt !== null && hold.endedAt >= w.start,
      )
    ) {
      excused++;
      continue;
    }
    problems.push(`hold ${hold.id} ended ${lag} ms after its expiry`);
  }
  return verdict(
    "holds expire on time (≤ 1 s late), a killed or paused instance's too",
    problems,
    `${expired} holds expired, worst lag ${worst} ms outside dependency faults${excused ? `, ${excused} late across a Redis or Postgres fault` : ''}`,
  );
}

/** Counts what became of the operations that met an unknown outcome (see Unknowns). */
export function unknownsOf(ops: readonly Operation[], snapshot: Snapshot): Unknowns {
  const orderKeys = new Set(snapshot.orders.map((o) => o.key));
  const holdKeys = new Set(snapshot.holds.map((h) => h.key));
  const met = ops.filter((op) => op.attempts.some((a) => a.outcome.type === 'unknown'));
  const stayed = met.filter((op) => op.attempts.at(-1)?.outcome.type === 'unknown');
  const made = stayed.filter((op) =>
    makesOrder(op) ? orderKeys.has(op.key) : op.kind === 'hold' && holdKeys.has(op.key),
  );
  return { met: met.length, resolved: met.length - stayed.length, stayed: stayed.length, stayedAndMade: made.length };
}

/**
 * The history checked against the database: the rules that need only the two (the SQL invariants and
 * the subscribers' seat maps are judged beside these). Pure, so a hand-made bad history can prove each
 * rule fails when it should.
 */
export function checkHistory(
  ops: readonly Operation[],
  snapshot: Snapshot,
  dependencyFaults: readonly Window[],
): Verdict[] {
  return [
    acknowledgedSuccesses(ops, snapshot),
    acknowledgedRefusals(ops, snapshot),
    noDoubleSaleNorStrays(ops, snapshot),
    holdsExpireOnTime(snapshot, dependencyFaults),
  ];
}

import type { Pool } from 'undici';
import { RandomPool } from '../random-pool.js';
import type { Outcome, Target } from '../targets.js';

/** The hold a buyer asks for: the seats, a key of its own, and what a checkout page needs back. */
export const HOLD_MUTATION = `mutation Hold($ticketIds: [ID!]!, $key: String!) { holdSeats(input: { ticketIds: $ticketIds, idempotencyKey: $key }) { __typename ... on HoldSeatsSuccess { hold { id expiresAt } } ... on TicketsUnavailable { tickets { ticketId reason } } ... on Error { message } } }`;

/** Paying for a hold. */
export const CHECKOUT_MUTATION = `mutation Pay($holdId: ID!, $key: String!) { checkout(input: { holdId: $holdId, idempotencyKey: $key }) { __typename ... on CheckoutSuccess { order { id totalCents } } ... on HoldExpired { holdId expiredAt } ... on Error { message } } }`;

const HOLD_QUERY = JSON.stringify(HOLD_MUTATION);
const CHECKOUT_QUERY = JSON.stringify(CHECKOUT_MUTATION);

/** The request body that holds these seats under `key`. */
export const holdBody = (ticketGlobalIds: readonly string[], key: string): string =>
  `{"query":${HOLD_QUERY},"variables":{"ticketIds":${JSON.stringify(ticketGlobalIds)},"key":${JSON.stringify(key)}}}`;

export const checkoutBody = (holdGlobalId: string, key: string): string =>
  `{"query":${CHECKOUT_QUERY},"variables":{"holdId":${JSON.stringify(holdGlobalId)},"key":${JSON.stringify(key)}}}`;

/** `Hold:<uuid>` (or `Order:`) from a global id, lower case; anything else as it is. */
export function uuidOf(globalId: string, typename: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  return decoded.startsWith(`${typename}:`) ? decoded.slice(typename.length + 1).toLowerCase() : globalId;
}

/** One GraphQL POST; resolves with the answer's field `field`, or an error's kind. */
export async function post(
  pool: Pool,
  authorization: string,
  body: string,
  field: string,
): Promise<{ result?: Record<string, unknown> & { __typename?: string }; error?: string }> {
  try {
    const response = await pool.request({
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
    });
    const text = await response.body.text();
    let reply: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> };
    try {
      reply = JSON.parse(text);
    } catch {
      return { error: `HTTP ${response.statusCode} non-JSON` };
    }
    const first = reply.errors?.[0];
    if (first) return { error: `GraphQL ${first.extensions?.code ?? 'error'}` };
    if (response.statusCode !== 200) return { error: `HTTP ${response.statusCode}` };
    const result = reply.data?.[field] as (Record<string, unknown> & { __typename?: string }) | undefined;
    return result ? { result } : { error: 'empty result' };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? (error as Error).name ?? 'Error' };
  }
}

/**
 * What buyers know of the seat map: seats they believe free, and seats not yet seen sold. They learn
 * from their own answers (a hold takes its seats, a checkout sells them, a refusal names seats HELD
 * or SOLD) and from the subscriber's messages, newest version first, as a seat map does: an expired
 * hold's seats come back when its AVAILABLE message arrives.
 */
export class SeatMap {
  readonly free: RandomPool;
  readonly unsold: RandomPool;
  private readonly versions: Float64Array;

  constructor(seats: number) {
    this.free = new RandomPool(seats);
    this.unsold = new RandomPool(seats);
    this.versions = new Float64Array(seats);
  }

  heard(seat: number, status: string, version: number): void {
    if (!(version > (this.versions[seat] ?? 0))) return;
    this.versions[seat] = version;
    if (status === 'AVAILABLE') {
      if (this.unsold.has(seat)) this.free.add(seat);
    } else if (status === 'SOLD') this.sold(seat);
    else this.taken(seat);
  }

  taken(seat: number): void {
    this.free.remove(seat);
  }

  sold(seat: number): void {
    this.free.remove(seat);
    this.unsold.remove(seat);
  }
}

/** A hold a buyer saw made. */
export interface SeenHold {
  globalId: string;
  seats: number[];
  expiresAtMs: number;
  authorization: string;
}

/** One change of a seat as the subscriber heard it: status, its Postgres stamp, and when it arrived (both epoch ms). */
export interface Heard {
  status: string;
  changedAt: number;
  arrival: number;
}

/** A target whose bodies are written as buyers come (each hold needs a fresh idempotency key). */
export class GrowingTarget implements Target {
  readonly bodies: string[] = [];
  private readonly seatsOf: number[][] = [];

  constructor(
    private readonly pick: () => number[] | null,
    private readonly bodyOf: (seats: number[], index: number) => string,
    private readonly answered: (seats: number[], outcome: Outcome, authorization: string) => void,
  ) {}

  next(): number {
    const seats = this.pick();
    if (!seats) return -1;
    const index = this.bodies.length;
    this.seatsOf.push(seats);
    this.bodies.push(this.bodyOf(seats, index));
    return index;
  }

  observe(index: number, outcome: Outcome, authorization: string): void {
    const seats = this.seatsOf[index] ?? [];
    // Sent and answered: let the body and the seats go.
    this.bodies[index] = '';
    this.seatsOf[index] = [];
    this.answered(seats, outcome, authorization);
  }
}

/** Draws up to `want` distinct members of `pool`, leaving them in it. */
export function drawDistinct(pool: RandomPool, want: number): number[] {
  const drawn: number[] = [];
  while (drawn.length < want && pool.size > 0) {
    const member = pool.draw(Math.random);
    drawn.push(member);
    pool.remove(member);
  }
  for (const member of drawn) pool.add(member);
  return drawn;
}

/** A buyer holds 1 to this many seats. */
export const MOST_SEATS = 4;
/** Holds made before the refusal window, each of MOST_SEATS seats at the venue's end: what refused buyers ask for. */
export const BLOCKING_HOLDS = 10;
/** The hold statement's text, to count its executions among the statements (holds.ts, hold-storage.ts). */
export const HOLD_STATEMENT = /\binsert into holds\b/i;
/** Keep-alive connections per server for the checkouts and the blocking holds. */
export const CHECKOUT_CONNECTIONS = 16;

/** The options this scenario reads, defaults filled in. */
export interface Settings {
  seats: number;
  holdSeconds: number;
  thinkMs: number;
  checkoutShare: number;
}

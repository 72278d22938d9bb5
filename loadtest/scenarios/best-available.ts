import type postgres from 'postgres';
import type { SectionLayout } from '../../src/catalog/events.js';
import type { AssignedFigures, ContenderResult } from '../contender-result.js';
import { type GoalVerdict, met } from '../goals.js';
import type { InvariantResult } from '../invariants.js';
import type { Outcome, Target } from '../targets.js';
import { groupPurchaseBody } from './multi-seat-target.js';
import { type SalePlan, type SaleRun, type Scenario, SEATS_OPTION, type Venue, venueSeats } from './scenario.js';

const MOST = 4;

const BEST_MUTATION = `mutation Best($input: HoldBestAvailableInput!) { holdBestAvailable(input: $input) { __typename ... on HoldBestAvailableSuccess { hold { id expiresAt } } ... on NotEnoughSeats { requested available } ... on Error { message } } }`;
const BEST_QUERY = JSON.stringify(BEST_MUTATION);

/** The event's global id, read from a ticket's (`Ticket:<event>/<ticket>`); the floor's synthetic ids name none. */
export function eventGlobalIdOf(ticketGlobalId: string): string {
  const decoded = Buffer.from(ticketGlobalId, 'base64').toString('utf8');
  const slash = decoded.indexOf('/');
  const eventId = slash < 0 ? 'floor-event' : decoded.slice('Ticket:'.length, slash);
  return Buffer.from(`Event:${eventId}`).toString('base64');
}

/** The body asking for the best `quantity` seats of the event. */
export function bestBody(eventGlobalId: string, quantity: number, sections?: readonly string[]): string {
  const input = { eventId: eventGlobalId, quantity, together: true, ...(sections ? { sections } : {}) };
  return `{"query":${BEST_QUERY},"variables":${JSON.stringify({ input })}}`;
}

/**
 * Buyers ask for the best 1 to 4 seats (body index = quantity - 1), at random, until the server says
 * none are left. A NotEnoughSeats caps later asks at what is left (as a buyer would ask for fewer).
 */
class BestAvailableRun implements SaleRun {
  readonly target: Target;
  private most = MOST;
  private seats = 0;
  private holds = 0;
  private answered = 0;
  private refused = 0;
  private answeredAtLastWin = 0;
  private refusedAtLastWin = 0;
  private errors = 0;
  private readonly sent = performance.now();
  private lastWinMs = 0;

  constructor(
    venue: Venue,
    sections: readonly string[] | undefined,
    private readonly capacity: number,
  ) {
    const event = eventGlobalIdOf(venue.ticketGlobalIds[0] ?? '');
    const bodies = Array.from({ length: MOST }, (_, i) => bestBody(event, i + 1, sections));
    this.target = {
      bodies,
      next: () => (this.most <= 0 ? -1 : Math.floor(Math.random() * this.most)),
      observe: (index: number, outcome: Outcome) => this.observe(index, outcome),
    };
  }

  private observe(index: number, outcome: Outcome): void {
    this.answered++;
    if (outcome.kind === 'win') {
      this.seats += index + 1;
      this.holds++;
      this.answeredAtLastWin = this.answered;
      this.refusedAtLastWin = this.refused;
      this.lastWinMs = performance.now() - this.sent;
      return;
    }
    if (outcome.kind === 'error') {
      this.errors++;
      return;
    }
    this.refused++;
    // NotEnoughSeats: ask for fewer from now on; none left ends the load.
    if (outcome.reason === 'NotEnoughSeats') this.most = Math.min(this.most, index);
  }

  bought() {
    // Holds, not orders: nothing is SOLD, and the checks below count the held seats.
    return { orders: 0, seats: 0, unanswered: this.errors };
  }

  readonly checks = async (sql: postgres.Sql, eventId: string): Promise<InvariantResult[]> => {
    const [row] = await sql<{ held: number; free: number; twice: number }[]>`
      select (select count(*)::int from tickets where event_id = ${eventId} and status = 'HELD') as held,
        (select count(*)::int from tickets where event_id = ${eventId} and status = 'AVAILABLE') as free,
        (select count(*)::int from (select ht.ticket_id from hold_tickets ht join holds h on h.id = ht.hold_id
          where h.event_id = ${eventId} and h.status = 'ACTIVE' group by ht.ticket_id having count(*) > 1) x) as twice`;
    const held = row?.held ?? 0;
    return [
      {
        name: 'no seat in two active holds',
        pass: row?.twice === 0,
        detail: `${row?.twice ?? '?'} seats in 2+ active holds`,
      },
      {
        name: 'held seats equal the seats buyers were given',
        pass: this.errors > 0 ? held >= this.seats : held === this.seats,
        detail: `${held} HELD in SQL, ${this.seats} seats in ${this.holds} holds seen by the generator`,
      },
      {
        name: 'every seat assigned (no undersell when demand exceeds capacity)',
        pass: held === this.capacity,
        detail: `${held} of ${this.capacity} held, ${row?.free ?? '?'} left AVAILABLE`,
      },
    ];
  };

  figures(): { soldOut: boolean; assigned: AssignedFigures } {
    return {
      soldOut: this.seats === this.capacity,
      assigned: {
        seats: this.seats,
        holds: this.holds,
        seatsPerSecond: this.lastWinMs > 0 ? Math.round(this.seats / (this.lastWinMs / 1000)) : null,
        attemptsBeforeSellOut: this.answeredAtLastWin,
        refusedBeforeSellOut: this.refusedAtLastWin,
      },
    };
  }
}

const pct = (a: AssignedFigures | undefined) =>
  a && a.attemptsBeforeSellOut > 0 ? Math.round((1000 * a.refusedBeforeSellOut) / a.attemptsBeforeSellOut) / 10 : 0;

const perSeat = (r: ContenderResult) =>
  r.pg && r.sale.assigned && r.sale.assigned.seats > 0
    ? Math.round((100 * r.pg.transactions) / r.sale.assigned.seats) / 100
    : null;

const table = (results: readonly ContenderResult[]) => [
  '',
  '| strategy | seats assigned / capacity | seats/s to the last win | refused before sell-out | winner p50 / p99 from schedule | Postgres transactions per seat |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => {
    const a = r.sale.assigned;
    const wins = r.load.latency.fromSchedule.wins;
    return `| ${r.contender} | ${a?.seats ?? 0} / ${r.sale.seats} | ${a?.seatsPerSecond ?? '–'} | ${a?.refusedBeforeSellOut ?? 0} of ${a?.attemptsBeforeSellOut ?? 0} (${pct(a)} %) | ${wins.p50} / ${wins.p99} ms | ${perSeat(r) ?? '–'} |`;
  }),
];

const consoleLines = (r: ContenderResult) => {
  const a = r.sale.assigned;
  const wins = r.load.latency.fromSchedule.wins;
  return [
    `  seats assigned ${a?.seats ?? 0} / ${r.sale.seats} in ${a?.holds ?? 0} holds, ${a?.seatsPerSecond ?? '–'} seats/s, refused before sell-out ${pct(a)} %, winner p50 ${wins.p50} ms p99 ${wins.p99} ms, PG transactions/seat ${perSeat(r) ?? '–'}`,
  ];
};

/** The goals of issue 15, judged on the product's result. */
function judge(product: ContenderResult, ga: boolean): GoalVerdict[] {
  const a = product.sale.assigned;
  const wins = product.load.latency.fromSchedule.wins;
  const oversold = (product.invariants ?? []).filter((i) => !i.pass).map((i) => i.name);
  return [
    {
      goal: `0 oversells${ga ? ', 0 undersells' : ''} (every invariant holds)`,
      verdict: met(oversold.length === 0 && (!ga || product.sale.soldOut)),
      evidence: oversold.length === 0 ? `${a?.seats ?? 0} of ${product.sale.seats} assigned` : oversold.join('; '),
    },
    ...(ga
      ? []
      : [
          {
            goal: 'refusals before sell-out ≤ 1 % of attempts',
            verdict: met(pct(a) <= 1),
            evidence: `${a?.refusedBeforeSellOut ?? 0} of ${a?.attemptsBeforeSellOut ?? 0} (${pct(a)} %)`,
          },
        ]),
    {
      goal: '≥ 2,500 seats assigned per second',
      verdict: met((a?.seatsPerSecond ?? 0) >= 2500),
      evidence: `${a?.seatsPerSecond ?? 0} seats/s to the last win`,
    },
    {
      goal: 'winner p99 ≤ 50 ms from schedule',
      verdict: met(wins.p99 <= 50),
      evidence: `p50 ${wins.p50} ms, p99 ${wins.p99} ms`,
    },
  ];
}

function plan(
  name: string,
  seats: number,
  layout: ((seats: number) => SectionLayout[]) | undefined,
  sections: readonly string[] | undefined,
): SalePlan {
  return {
    settings: { seats },
    label: name,
    seats,
    perCustomerLimit: null,
    // The warm-up buys its own seats by id (best available cannot name them); its refusals go through Postgres.
    seatsPerPurchase: 1,
    bodyOf: (ids) => bestBody(eventGlobalIdOf(ids[0] ?? ''), 1, sections),
    warmUpBodyOf: groupPurchaseBody,
    layout,
    serverEnv: { FLOOR_CAPACITY: String(seats) },
    start: (venue) => new BestAvailableRun(venue, sections, seats),
    judge: (_options, product) => judge(product, layout !== undefined),
    reportLines: table,
    consoleLines,
  };
}

/** A seated venue of --seats; buyers ask for the best 1-4 seats together until none are left. */
export const bestAvailable: Scenario = {
  name: 'best-available',
  summary: 'a venue of --seats; each buyer asks the server for the best 1-4 seats together; ends at sell-out',
  options: [SEATS_OPTION],
  configure: (values) => plan('best-available', venueSeats(values), undefined, undefined),
};

/** One general-admission section of --seats units; buyers ask for 1-4 units until none are left. */
export const gaRush: Scenario = {
  name: 'ga-rush',
  summary: 'one general-admission section of --seats units (default 50000); buyers ask for 1-4 units; ends at sell-out',
  options: [{ name: 'seats', usage: 'N  units in the section (default 50000)' }],
  configure: (values) => {
    const seats = Number(values.seats ?? 50_000);
    if (!Number.isInteger(seats) || seats < 1) throw new Error('--seats must be a whole number of at least 1');
    const layout = (n: number): SectionLayout[] => [
      { name: 'Lawn', generalAdmission: true, capacity: n, priceCents: 3500 },
    ];
    return plan('ga-rush', seats, layout, ['Lawn']);
  },
};

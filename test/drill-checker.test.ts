import { describe, expect, it } from 'vitest';
import { checkHistory, type Snapshot, unknownsOf } from '../loadtest/drill/checker.js';
import { type Attempt, type Outcome, operationsOf } from '../loadtest/drill/history.js';
import { LatencyTimeline } from '../loadtest/drill/latency.js';
import { HELD_SEAT_AVOID_MS, SeatPicker } from '../loadtest/drill/load.js';
import { differences, explainWrong } from '../loadtest/drill/subscribers.js';
import { binsOf, faultFigures, quietRecovery } from '../loadtest/drill/timeline.js';

// The drill's checker on hand-made histories: a good one passes every rule, and each kind of bad one
// (a lost acknowledged order, a double-sold seat, a refusal that made an order, a late hold) fails
// exactly the rule that guards it. A checker that cannot fail would make every drill a PASS.

const T0 = 1_700_000_000_000;
let clock = 0;
const attempt = (
  op: number,
  kind: Attempt['kind'],
  seats: string[],
  outcome: Outcome,
  extra: Partial<Attempt> = {},
): Attempt => {
  clock += 10;
  return {
    op,
    worker: 0,
    kind,
    key: kind === 'release' ? null : `k${op}`,
    seats,
    attempt: 1,
    instance: 0,
    invoke: T0 + clock,
    complete: T0 + clock + 5,
    outcome,
    ...extra,
  };
};
const ok = (orderId: string, seats: string[]): Outcome => ({
  type: 'ok',
  typename: 'PurchaseTicketsSuccess',
  orderId,
  seats,
});
const refused: Outcome = { type: 'refused', typename: 'TicketsUnavailable', reason: 'SOLD' };
const timeout: Outcome = { type: 'unknown', error: 'timeout' };

/** Op 0 bought A+B; op 1 was refused; op 2 timed out, then its retry returned order O2 for C; op 3 held D; op 4 stayed unknown. */
function goodHistory(): Attempt[] {
  return [
    attempt(0, 'purchase-many', ['A', 'B'], ok('O0', ['A', 'B'])),
    attempt(1, 'purchase', ['A'], refused),
    attempt(2, 'purchase', ['C'], timeout),
    attempt(2, 'purchase', ['C'], ok('O2', ['C']), { attempt: 2, instance: 1 }),
    attempt(3, 'hold', ['D'], { type: 'ok', typename: 'HoldSeatsSuccess', holdId: 'H3', seats: ['D'] }),
    attempt(4, 'purchase', ['E'], timeout),
  ];
}

function goodSnapshot(): Snapshot {
  return {
    readAt: T0 + 60_000,
    orders: [
      { id: 'O0', key: 'k0', status: 'CONFIRMED', seats: ['A', 'B'] },
      { id: 'O2', key: 'k2', status: 'CONFIRMED', seats: ['C'] },
    ],
    holds: [
      { id: 'H3', key: 'k3', status: 'EXPIRED', seats: ['D'], orderId: null, expiresAt: T0 + 3000, endedAt: T0 + 3200 },
    ],
  };
}

const failing = (attempts: Attempt[], snapshot: Snapshot, windows: Array<{ start: number; end: number }> = []) =>
  checkHistory(operationsOf(attempts), snapshot, windows)
    .filter((v) => !v.pass)
    .map((v) => v.rule);

describe('the drill checker', () => {
  it('passes a history the database agrees with, and counts unknowns resolved by a retry and left unknown', () => {
    const verdicts = checkHistory(operationsOf(goodHistory()), goodSnapshot(), []);
    expect(verdicts.filter((v) => !v.pass)).toEqual([]);
    expect(unknownsOf(operationsOf(goodHistory()), goodSnapshot())).toEqual({
      met: 2,
      resolved: 1,
      stayed: 1,
      stayedAndMade: 0,
    });
  });

  it('fails "acknowledged success" when an acknowledged order is lost, or has other seats', () => {
    const lost = goodSnapshot();
    lost.orders = lost.orders.filter((o) => o.id !== 'O2');
    expect(failing(goodHistory(), lost)).toEqual([expect.stringMatching(/^acknowledged success/)]);
    const shrunk = goodSnapshot();
    shrunk.orders[0] = { id: 'O0', key: 'k0', status: 'CONFIRMED', seats: ['A'] };
    expect(failing(goodHistory(), shrunk)).toEqual([expect.stringMatching(/^acknowledged success/)]);
  });

  it('fails "no ticket in two live orders" on a double-sold seat', () => {
    const history = [...goodHistory(), attempt(5, 'purchase', ['A'], ok('O5', ['A']))];
    const snapshot = goodSnapshot();
    snapshot.orders.push({ id: 'O5', key: 'k5', status: 'CONFIRMED', seats: ['A'] });
    expect(failing(history, snapshot)).toEqual([expect.stringMatching(/^no ticket in two live orders/)]);
  });

  it('fails "acknowledged refusal" when a refused operation (after a lost first attempt) made an order', () => {
    const history = [
      ...goodHistory(),
      attempt(6, 'purchase', ['F'], timeout),
      attempt(6, 'purchase', ['F'], refused, { attempt: 2 }),
    ];
    const snapshot = goodSnapshot();
    snapshot.orders.push({ id: 'O6', key: 'k6', status: 'CONFIRMED', seats: ['F'] });
    expect(failing(history, snapshot)).toEqual([expect.stringMatching(/^acknowledged refusal/)]);
  });

  it('fails on an order no operation asked for', () => {
    const snapshot = goodSnapshot();
    snapshot.orders.push({ id: 'O9', key: 'nobody', status: 'CONFIRMED', seats: ['G'] });
    expect(failing(goodHistory(), snapshot)).toEqual([expect.stringMatching(/no order nobody asked for$/)]);
  });

  it('fails "holds expire on time" on a hold ended 2 s late, unless it expired during a Redis or Postgres fault', () => {
    const late = goodSnapshot();
    const hold = late.holds[0];
    if (!hold) throw new Error('no hold');
    hold.endedAt = hold.expiresAt + 2000;
    expect(failing(goodHistory(), late)).toEqual([expect.stringMatching(/^holds expire on time/)]);
    expect(failing(goodHistory(), late, [{ start: T0 + 2500, end: T0 + 3500 }])).toEqual([]);
    hold.status = 'ACTIVE';
    hold.endedAt = null;
    expect(failing(goodHistory(), late)).toEqual([expect.stringMatching(/^holds expire on time/)]);
  });
});

describe('the drill timeline and seat-map comparison', () => {
  it('measures the pre-fault rate and the time until throughput is back to 90 %', () => {
    const attempts: Attempt[] = [];
    // 10 answers per 100 ms for 3 s, nothing from 3.0 s to 4.0 s (the fault), 10 per 100 ms again from 4.5 s.
    for (let ms = 0; ms < 8000; ms += 10) {
      if (ms >= 3000 && ms < 4500) continue;
      attempts.push({ ...attempt(ms, 'purchase', ['A'], refused), invoke: T0 + ms, complete: T0 + ms });
    }
    const bins = binsOf(attempts, T0, T0 + 8000);
    const figures = faultFigures(bins, T0, { start: T0 + 3000, end: T0 + 4000 });
    expect(figures.before).toBe(100);
    expect(figures.during).toBe(0);
    expect(figures.recoveryMs).toBe(500);
  });

  it('picks seats not seen sold, leaves a seat it was told is held alone for a while, then offers it again', () => {
    let now = 1_000;
    const picker = new SeatPicker(['A', 'B', 'C'], 1, () => now);
    expect(picker.pick(1)).toEqual(['A']);
    picker.markSold('A');
    picker.markHeld('B');
    expect(picker.pick(1)).toEqual(['C']);
    expect(picker.pick(2)).toEqual(['B']); // no 2 seats free of both: the first seat not seen sold
    now += HELD_SEAT_AVOID_MS;
    expect(picker.pick(2)).toEqual(['B', 'C']);
    picker.markSold('B');
    picker.markSold('C');
    expect(picker.pick(1)).toBeNull();
  });

  it('reads the recovery measure where no fault was: 0 on a steady load, the dip where the load itself sags', () => {
    const steady: Attempt[] = [];
    for (let ms = 0; ms < 20_000; ms += 10)
      steady.push({ ...attempt(ms, 'purchase', ['A'], refused), invoke: T0 + ms, complete: T0 + ms });
    const fault = { start: T0 + 9000, end: T0 + 10_000 };
    const calm = quietRecovery(binsOf(steady, T0, T0 + 20_000), T0, [fault], T0 + 20_000);
    // 2.5 s to 16.5 s, every 500 ms, less 7 s on: points whose next 2.5 s meet the fault, or whose 2 s
    // before start less than 4 s after its backlog (as long as the fault) is worked off.
    expect(calm).toEqual({ points: 9, medianMs: 0, worstMs: 0 });
    // A burst of backlog answered just after the fault (10 to 11 s, three times the rate) is no level
    // to recover to: no quiet point's "before" covers it.
    const burst = [...steady];
    for (let ms = 10_000; ms < 11_000; ms += 5)
      burst.push({ ...attempt(ms, 'purchase', ['A'], refused), invoke: T0 + ms - 3000, complete: T0 + ms });
    expect(quietRecovery(binsOf(burst, T0, T0 + 20_000), T0, [fault], T0 + 20_000)).toEqual(calm);
    // From 4 s on (as a drill with 2 s of warm-up has it): 4 to 6.5 s.
    expect(quietRecovery(binsOf(steady, T0, T0 + 20_000), T0, [fault], T0 + 20_000, 4000).points).toBe(6);
    // Half the answers from 4.0 to 5.0 s, with no fault there: from the point at 4.0 s, the first 500 ms
    // at ≥ 90 % starts at 4.9 s (one half bin, four full ones).
    const sagging = steady.filter((a) => a.complete < T0 + 4000 || a.complete >= T0 + 5000 || a.complete % 20 === 0);
    const noisy = quietRecovery(binsOf(sagging, T0, T0 + 20_000), T0, [fault], T0 + 20_000);
    expect(noisy.worstMs).toBe(900);
    expect(noisy.medianMs).toBe(0);
  });

  it('reads latency by invocation: the p90 before a fault, and when newcomers are answered as fast again', () => {
    // An attempt every 10 ms taking 10 ms; those invoked from the fault's start to 1.2 s after its end take 1 s.
    const fault = { start: T0 + 5000, end: T0 + 6000 };
    const attempts: Attempt[] = [];
    for (let ms = 0; ms < 12_000; ms += 10) {
      const slow = ms >= 5000 && ms < 7200;
      attempts.push({
        ...attempt(ms, 'purchase', ['A'], refused),
        invoke: T0 + ms,
        complete: T0 + ms + (slow ? 1000 : 10),
      });
    }
    const timeline = new LatencyTimeline(attempts);
    // The throughput of answers is back at once (the backlog lands in a burst); latency is not.
    expect(timeline.recovery(fault, T0 + 12_000)).toEqual({ p90Before: 10, backMs: 1200 });
    // Where no fault was (the one quiet point, 2.5 s), it reads 0; with no window after the fault, nothing.
    expect(timeline.quiet(T0, [fault], T0 + 12_000, 2500)).toEqual({ points: 1, medianMs: 0, worstMs: 0 });
    expect(timeline.recovery(fault, T0 + 6400)).toEqual({ p90Before: 10, backMs: null });
  });

  it('tells a seat map behind the database from one that has every change, or a later one', () => {
    const truth = new Map([
      ['A', { status: 'SOLD', version: 5, changedAt: 1000 }],
      ['B', { status: 'HELD', version: 7, changedAt: 5000 }],
      ['C', { status: 'AVAILABLE', version: 2, changedAt: 500 }],
    ]);
    const map = new Map([
      ['A', { status: 'AVAILABLE', version: 2 }],
      ['B', { status: 'AVAILABLE', version: 3 }],
    ]);
    expect(differences(map, truth)).toEqual(['A', 'B', 'C']);
    map.set('A', { status: 'SOLD', version: 5 });
    map.set('B', { status: 'SOLD', version: 9 });
    map.set('C', { status: 'AVAILABLE', version: 2 });
    expect(differences(map, truth)).toEqual([]);
  });

  it('says why a map is wrong: still reloading after its socket went, or connected throughout', () => {
    const from = T0 + 10_000;
    const ticket = Buffer.from('Ticket:ev/5e1f8a2c-0b7d-4e11-9c3a-7d2fa1b2c3d4').toString('base64');
    const truth = new Map([[ticket, { status: 'SOLD', version: 9, changedAt: from - 4000 }]]);
    const seats = new Map([[ticket, { status: 'AVAILABLE', version: 3, at: from - 7000, via: 'page' as const }]]);
    const events = [
      { at: from - 6000, what: 'lost' as const, detail: 'closed 1006' },
      { at: from - 5800, what: 'attempt failed' as const, detail: 'connect ECONNREFUSED' },
      { at: from - 5600, what: 'attempt failed' as const, detail: 'connect ECONNREFUSED' },
      { at: from + 2600, what: 'subscribed' as const },
    ];
    expect(explainWrong({ seats, events, lastMessageAt: from + 5900 }, truth, [ticket], from, from - 6500)).toBe(
      '1 wrong; lost -6.0 s (closed 1006), 2 attempts failed (connect ECONNREFUSED), subscribed +2.6 s; last message +5.9 s; e.g. seat a1b2c3d4: map v3 AVAILABLE (page -7.0 s), database v9 SOLD changed -4.0 s',
    );
    expect(explainWrong({ seats, events: [], lastMessageAt: 0 }, truth, [ticket], from, from - 6500)).toMatch(
      /^1 wrong; connected throughout; last message none;/,
    );
  });
});

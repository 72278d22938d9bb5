import { statSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { DEMO_EVENT, seedDemoEvent } from '../src/catalog/demo.js';
import { projectPath } from '../src/db/project-root.js';
import { encodeGlobalId, ticketGlobalId } from '../src/graphql/global-id.js';
import { type TestApp, tokenFor } from './helpers/app.js';
import { launchBrowser } from './helpers/browser.js';
import { integrationTest } from './helpers/fixtures.js';
import { HOLD } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';
import { openSeatMap, seat, signInAsDemo } from './helpers/seat-map-page.js';

const it = integrationTest();
/** Written on every run; docs/seat-map.png, shown in the README, is a copy of one. */
const SCREENSHOT = projectPath('dist', 'seat-map.png');

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface DemoSeat {
  globalId: string;
  section: string;
  row: string;
  seat: string;
}

/** A deterministic pseudo-random number in [0, 1): the same sale on every run. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How much of a row is gone a while into the sale: the front of the floor most, the balcony least. */
const SOLD_SHARE: Record<string, (row: number) => number> = {
  Floor: (row) => 0.92 - row * 0.06,
  'Lower 101': (row) => 0.62 - row * 0.03,
  'Lower 102': (row) => 0.55 - row * 0.03,
  Balcony: () => 0.18,
};

/** Sells groups of 1-4 neighbours across the demo hall, as a sale in progress would have, through the API. */
async function sellLikeARealSale(api: TestApp, seats: DemoSeat[], keep: Set<string>) {
  const next = random(7);
  const sold: string[] = [];
  const rows = new Map<string, DemoSeat[]>();
  for (const s of seats) rows.set(`${s.section}/${s.row}`, [...(rows.get(`${s.section}/${s.row}`) ?? []), s]);
  for (const row of rows.values()) {
    const first = row[0] as DemoSeat;
    const rowNumber = [...new Set(seats.filter((s) => s.section === first.section).map((s) => s.row))].indexOf(
      first.row,
    );
    const share = SOLD_SHARE[first.section]?.(rowNumber) ?? 0.3;
    for (let i = 0; i < row.length; ) {
      const group = row.slice(i, i + 1 + Math.floor(next() * 4));
      if (next() < share) sold.push(...group.map((s) => s.globalId).filter((id) => !keep.has(id)));
      i += group.length;
    }
  }
  for (let i = 0; i < sold.length; i += 10) {
    expect((await purchaseMany(api, `fan-${i}`, sold.slice(i, i + 10))).__typename).toBe('PurchaseTicketsSuccess');
  }
  return new Set(sold);
}

it('the demo hall mid-sale: the watcher saw every sale live and agrees with the database; a screenshot is saved', async ({
  api,
  database,
}) => {
  await seedDemoEvent(api.app.services.db);
  const eventId = encodeGlobalId('Event', DEMO_EVENT.id as string);
  const rows = await database.sql<{ id: string; section: string; row: string; seat: string }[]>`
    select id, section, row, seat from tickets where event_id = ${DEMO_EVENT.id as string} order by position`;
  const seats = rows.map((r) => ({ ...r, globalId: ticketGlobalId({ id: r.id, eventId: DEMO_EVENT.id as string }) }));
  const find = (section: string, row: string, numbers: number[]) =>
    numbers.map((n) => seats.find((s) => s.section === section && s.row === row && s.seat === String(n)) as DemoSeat);
  const buyerSeats = find('Floor', 'E', [9, 10, 11]);
  const othersHold = [find('Lower 101', '4', [6, 7]), find('Floor', 'H', [3, 4, 5, 6]), find('Balcony', 'L', [12, 13])];
  const keep = new Set([...buyerSeats, ...othersHold.flat()].map((s) => s.globalId));

  const watcher = await openSeatMap(browser, api, eventId);
  const sold = await sellLikeARealSale(api, seats, keep);
  for (const [n, group] of othersHold.entries()) {
    const ticketIds = group.map((s) => s.globalId);
    const held = await api.gql<{ holdSeats: { __typename: string } }>(
      HOLD,
      { ticketIds },
      { token: await tokenFor(`rival-${n}`) },
    );
    expect(held.data?.holdSeats.__typename).toBe('HoldSeatsSuccess');
  }

  const buyer = await openSeatMap(browser, api, eventId);
  await signInAsDemo(buyer);
  for (const s of buyerSeats) await seat(buyer, s.globalId).click();
  await buyer.getByRole('button', { name: 'Hold 3 seats' }).click();
  await buyer.locator('.countdown-value').waitFor();
  const free = seats.find(
    (s) => s.section === 'Floor' && !sold.has(s.globalId) && !keep.has(s.globalId) && s.row === 'G',
  );
  await seat(buyer, (free as DemoSeat).globalId).hover();

  // The watcher heard all of it live: each of its 760 seats matches the database.
  const heldCount = othersHold.flat().length + buyerSeats.length;
  await expect.poll(() => watcher.locator('.counts').textContent()).toContain(`${sold.size} sold`);
  await expect.poll(() => watcher.locator('.counts').textContent()).toContain(`${heldCount} held`);
  const statuses = await database.sql<{ id: string; status: string }[]>`
    select id, status from tickets where event_id = ${DEMO_EVENT.id as string}`;
  const drawn = new Map(
    await watcher.$$eval('.seat[data-id]', (cells) =>
      cells.map((c) => [c.getAttribute('data-id'), c.className] as const),
    ),
  );
  expect(drawn.size).toBe(760);
  for (const { id, status } of statuses) {
    expect(drawn.get(ticketGlobalId({ id, eventId: DEMO_EVENT.id as string })), id).toBe(
      `seat ${status.toLowerCase()}`,
    );
  }
  await expectSaleInvariants(api.app.services.db);

  await buyer.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  await Promise.all([watcher.close(), buyer.close()]);
}, 180_000);

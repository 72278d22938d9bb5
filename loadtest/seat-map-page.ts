/**
 * How the seat-map page fares in Chromium at 760 seats (the demo hall) and at 10,000: time to the first
 * full render, and the cost of each live update, while seats sell through the API. A benchmark that
 * prints figures, not a test. `npm run bench:seat-map [-- --runs 3]`; needs Postgres and Redis on
 * loopback (as the load test) and Debian's Chromium. The API runs in this process, on a database of its
 * own that is dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../src/app.js';
import { signToken } from '../src/auth/tokens.js';
import { DEMO_EVENT, seedDemoEvent } from '../src/catalog/demo.js';
import { createEvent, type SectionLayout } from '../src/catalog/events.js';
import { loadConfig } from '../src/config.js';
import { encodeGlobalId, ticketGlobalId } from '../src/graphql/global-id.js';
import { silentLogger } from '../src/logger.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { createLoadDatabase } from './database.js';
import { checkServices, REDIS_URL } from './services.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const SECRET = randomBytes(32).toString('hex');
const ARENA: SectionLayout[] = [
  { name: 'Floor', rows: 40, seatsPerRow: 50, priceCents: 15_000 },
  { name: 'Lower 101', rows: 30, seatsPerRow: 50, priceCents: 9_000 },
  { name: 'Lower 102', rows: 30, seatsPerRow: 50, priceCents: 9_000 },
  { name: 'Upper 201', rows: 25, seatsPerRow: 50, priceCents: 6_000 },
  { name: 'Upper 202', rows: 25, seatsPerRow: 50, priceCents: 6_000 },
  { name: 'Balcony', rows: 50, seatsPerRow: 50, priceCents: 3_500 },
];

const PURCHASE = `mutation Buy($ids: [ID!]!) { purchaseTickets(input: { ticketIds: $ids }) { __typename } }`;

interface Measure {
  name: string;
  duration: number;
  end: number;
  seats: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : Number.NaN;
};
const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] as number)
    : Number.NaN;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function measures(page: Page): Promise<Measure[]> {
  return page.evaluate(() =>
    performance.getEntriesByType('measure').map((m) => ({
      name: m.name,
      duration: m.duration,
      end: m.startTime + m.duration,
      seats: ((m as PerformanceMeasure).detail as { seats: number } | null)?.seats ?? 0,
    })),
  );
}

/** Main-thread time Chromium spent on script, style and layout, in ms, from its own counters. */
async function mainThreadMs(page: Page) {
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  return async () => {
    const { metrics } = await session.send('Performance.getMetrics');
    const get = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    return get('ScriptDuration') + get('RecalcStyleDuration') + get('LayoutDuration');
  };
}

async function firstRender(browser: Browser, origin: string, eventId: string) {
  const rows: Array<{ painted: number; fromSubscribe: number; draw: number }> = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${origin}/app/?event=${encodeURIComponent(eventId)}`);
    await page.waitForSelector('.seat-map[data-state="ready"]', { timeout: 120_000 });
    await page.waitForFunction(() => performance.getEntriesByName('seat-map:first-render').length > 0);
    const all = await measures(page);
    const first = all.find((m) => m.name === 'seat-map:first-render') as Measure;
    const draw = all.find((m) => m.name === 'seat-map:draw') as Measure;
    rows.push({ painted: first.end, fromSubscribe: first.duration, draw: draw.duration });
    await context.close();
  }
  return rows;
}

async function updates(
  browser: Browser,
  origin: string,
  eventId: string,
  ticketIds: string[],
  buy: (ids: string[]) => Promise<void>,
) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(`${origin}/app/?event=${encodeURIComponent(eventId)}`);
  await page.waitForSelector('.seat-map[data-state="ready"][data-connection="live"]', { timeout: 120_000 });
  const cpu = await mainThreadMs(page);
  const free = [...ticketIds].sort(() => Math.random() - 0.5);
  const phase = async (label: string, rounds: number, perRound: number, group: number) => {
    const since = await page.evaluate(() => performance.now());
    const cpuBefore = await cpu();
    for (let round = 0; round < rounds && free.length >= perRound; round++) {
      const ids = free.splice(0, perRound);
      const groups = Array.from({ length: perRound / group }, (_, i) => ids.slice(i * group, (i + 1) * group));
      await Promise.all(groups.map(buy));
      const last = ids.at(-1) as string;
      await page.waitForSelector(`.seat.sold[data-id="${last}"]`, { timeout: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const cpuMs = (await cpu()) - cpuBefore;
    const seen = (await measures(page)).filter((m) => m.end > since);
    const applied = seen.filter((m) => m.name === 'seat-map:update');
    const framed = seen.filter((m) => m.name === 'seat-map:update-frame');
    console.log(
      `  ${label}: ${applied.length} messages (median ${median(applied.map((m) => m.seats))} seats each); applied to the DOM p50 ${ms(median(applied.map((m) => m.duration)))}, p95 ${ms(p95(applied.map((m) => m.duration)))}; to the next painted frame p50 ${ms(median(framed.map((m) => m.duration)))}, p95 ${ms(p95(framed.map((m) => m.duration)))}; Chromium script+style+layout ${ms(cpuMs / Math.max(1, applied.length))} per message`,
    );
  };
  await phase('one seat per sale', 20, 1, 1);
  await phase('bursts of 100 seats (10 orders of 10 at once)', 6, 100, 10);
  await page.close();
}

await checkServices();
const database = await createLoadDatabase(`seat_map_page_${randomBytes(3).toString('hex')}`);
const app = await createApp({
  config: loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: `flux-bench:${randomBytes(4).toString('hex')}:`,
    JWT_SECRET: SECRET,
    PURCHASE_RATE_LIMIT: '0',
    SEED_DEMO: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
  }),
  logger: silentLogger,
});
const browser = await launchBrowser();
try {
  const { url } = await app.start();
  const origin = new URL(url).origin;
  const db = app.services.db;
  await seedDemoEvent(db);
  const arena = await createEvent(db, {
    name: 'Arena Night',
    venue: 'Big Arena',
    startsAt: new Date('2030-06-01T19:00:00Z'),
    sections: ARENA,
  });
  const token = await signToken(SECRET, { sub: 'bench-buyer' }, '1h');
  const buy = async (ids: string[]) => {
    const response = await app.yoga.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PURCHASE, variables: { ids } }),
    });
    const body = (await response.json()) as { data?: { purchaseTickets: { __typename: string } } };
    if (body.data?.purchaseTickets.__typename !== 'PurchaseTicketsSuccess') throw new Error(JSON.stringify(body));
  };
  for (const [name, eventId] of [
    ['demo hall, 760 seats', DEMO_EVENT.id as string],
    ['arena, 10,000 seats', arena.eventId],
  ] as const) {
    const tickets = await db.query.ticketsTable.findMany({
      columns: { id: true, eventId: true },
      where: (t, { eq }) => eq(t.eventId, eventId),
    });
    const globalId = encodeGlobalId('Event', eventId);
    console.log(`${name}:`);
    const renders = await firstRender(browser, origin, globalId);
    console.log(
      `  first full render over ${runs} runs: navigation to painted map p50 ${ms(median(renders.map((r) => r.painted)))} (${renders.map((r) => ms(r.painted)).join(', ')}); subscribe to painted p50 ${ms(median(renders.map((r) => r.fromSubscribe)))}; building the seats' DOM p50 ${ms(median(renders.map((r) => r.draw)))}`,
    );
    await updates(
      browser,
      origin,
      globalId,
      tickets.map((t) => ticketGlobalId(t)),
      buy,
    );
  }
} finally {
  await browser.close();
  await app.stop();
  await database.drop();
}

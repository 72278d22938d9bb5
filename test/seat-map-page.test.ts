import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { tokenFor } from './helpers/app.js';
import { launchBrowser } from './helpers/browser.js';
import { createEventWithTickets } from './helpers/events.js';
import { integrationTest } from './helpers/fixtures.js';
import { HOLD } from './helpers/holds.js';
import { expectSaleInvariants } from './helpers/invariants.js';
import { purchaseMany } from './helpers/sales.js';
import { alertText, freezableLiveFeed, lookOf, openSeatMap, seat, signInAsDemo } from './helpers/seat-map-page.js';

const it = integrationTest();
const FRONT = { name: 'Front', rows: ['A', 'B'], seatsPerRow: 8, priceCents: 5000 };
const BROWSER_TEST_MS = 120_000;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

it(
  'a buyer holds and checks out a seat on one instance, and a watcher on the other sees it sold within a second',
  async ({ pair, database }) => {
    const [first, second] = pair;
    const event = await createEventWithTickets(first, { seats: 16, sections: [FRONT] });
    const target = event.ticketGlobalIds[3] as string;
    const watcher = await openSeatMap(browser, second, event.eventGlobalId);
    const buyer = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const contacted = new Set<string>();
    buyer.on('request', (request) => contacted.add(new URL(request.url()).host));
    buyer.on('websocket', (socket) => contacted.add(new URL(socket.url()).host));
    await openSeatMap(browser, first, event.eventGlobalId, buyer);
    const customerId = await signInAsDemo(buyer);

    await seat(buyer, target).click();
    expect(await seat(buyer, target).getAttribute('aria-selected')).toBe('true');
    await buyer.getByRole('button', { name: 'Hold 1 seat' }).click();
    await expect.poll(() => buyer.locator('.countdown-value').textContent()).toMatch(/^\d+:\d\d$/);
    await watcher.waitForSelector(`.seat.held[data-id="${target}"]`, { timeout: 1000 });
    expect(await lookOf(buyer, target)).toBe('mine-held');

    await buyer.getByRole('button', { name: 'Check out' }).click();
    await buyer.getByRole('status').filter({ hasText: 'Bought!' }).waitFor();
    const boughtAt = performance.now();
    await watcher.waitForSelector(`.seat.sold[data-id="${target}"]`, { timeout: 1000 });
    expect(performance.now() - boughtAt).toBeLessThan(1000);
    expect(await lookOf(buyer, target)).toBe('mine-sold');
    await expect.poll(() => watcher.locator('.counts').textContent()).toContain('1 sold');

    const [owner] = await database.sql<{ customer_id: string }[]>`
      select o.customer_id from orders o join order_tickets ot on ot.order_id = o.id
      where ot.ticket_id = ${event.ticketIds[3] as string} and ot.released_at is null`;
    expect(owner?.customer_id).toBe(customerId);
    expect((await expectSaleInvariants(first.app.services.db)).soldTickets).toBe(1);
    // No CDN, no font, no beacon: the page reached nothing but its own server.
    expect([...contacted]).toEqual([new URL(await first.listen()).host]);
    await Promise.all([buyer.close(), watcher.close()]);
  },
  BROWSER_TEST_MS,
);

it(
  'seats the server refuses (held or sold by others meanwhile) show why, and leave the selection',
  async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 16, sections: [FRONT] });
    const [held, sold, free] = event.ticketGlobalIds as [string, string, string];
    const buyer = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const feed = await freezableLiveFeed(buyer);
    await openSeatMap(browser, api, event.eventGlobalId, buyer);
    await signInAsDemo(buyer);

    // The page has not heard yet (its live messages are held back) that two seats went to others.
    feed.freeze();
    const rival = await tokenFor('rival');
    const rivalHold = await api.gql<{ holdSeats: { __typename: string } }>(
      HOLD,
      { ticketIds: [held] },
      { token: rival },
    );
    expect(rivalHold.data?.holdSeats.__typename).toBe('HoldSeatsSuccess');
    expect((await purchaseMany(api, 'rival-2', [sold])).__typename).toBe('PurchaseTicketsSuccess');
    for (const id of [held, sold, free]) await seat(buyer, id).click();
    await buyer.getByRole('button', { name: 'Hold 3 seats' }).click();

    const text = await alertText(buyer);
    expect(text).toContain('Front, row A, seat 1 is held by another buyer');
    expect(text).toContain('Front, row A, seat 2 has just been sold');
    expect(text).toContain('Nothing was held');
    expect(await lookOf(buyer, free)).toBe('selected');
    expect(await lookOf(buyer, held)).toBe('available');

    // The held-back messages arrive: the map catches up.
    feed.thaw();
    await buyer.waitForSelector(`.seat.held[data-id="${held}"]`, { timeout: 2000 });
    await buyer.waitForSelector(`.seat.sold[data-id="${sold}"]`, { timeout: 2000 });
    // A seat that shows as sold says so when chosen, and is not selected.
    await seat(buyer, sold).click({ force: true });
    await expect
      .poll(() => buyer.locator('.notice.info').textContent())
      .toContain('Front, row A, seat 2 has just been sold');
    expect(await seat(buyer, sold).getAttribute('aria-disabled')).toBe('true');
    await expectSaleInvariants(api.app.services.db);
    await buyer.close();
  },
  BROWSER_TEST_MS,
);

it(
  "the buyer's own hold, purchase and release show at once, before their live messages; the messages then apply by version",
  async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 16, sections: [FRONT] });
    const [first, second, third] = event.ticketGlobalIds as [string, string, string];
    const buyer = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const feed = await freezableLiveFeed(buyer);
    await openSeatMap(browser, api, event.eventGlobalId, buyer);
    await signInAsDemo(buyer);
    const counts = () => buyer.locator('.counts').textContent();
    const sent = (id: string, status: string) => () =>
      feed.waitingSeats().some((state) => state.id === id && state.status === status);

    // No live message reaches the page now: only the mutations' answers can change the map.
    feed.freeze();
    await seat(buyer, first).click();
    await buyer.getByRole('button', { name: 'Hold 1 seat' }).click();
    await buyer.waitForSelector(`.seat.mine-held[data-id="${first}"]`, { timeout: 2000 });
    await buyer.getByRole('button', { name: 'Check out' }).click();
    await buyer.waitForSelector(`.seat.mine-sold[data-id="${first}"]`, { timeout: 2000 });
    // The counts still come only from messages: none has arrived.
    expect(await counts()).toContain('0 sold');
    await expect.poll(sent(first, 'SOLD'), { timeout: 2000 }).toBe(true);
    feed.thaw();
    await expect.poll(counts, { timeout: 2000 }).toContain('1 sold');
    expect(await lookOf(buyer, first)).toBe('mine-sold');

    // A message older than the answer the page applied is ignored: the seat was released after it. The
    // release's own message is lost, so only the stale one about the seat arrives.
    feed.freeze();
    await seat(buyer, second).click();
    await buyer.getByRole('button', { name: 'Hold 1 seat' }).click();
    await buyer.waitForSelector(`.seat.mine-held[data-id="${second}"]`, { timeout: 2000 });
    await expect.poll(sent(second, 'HELD'), { timeout: 2000 }).toBe(true);
    await buyer.getByRole('button', { name: 'Release seats' }).click();
    await buyer.waitForSelector(`.seat.available[data-id="${second}"]`, { timeout: 2000 });
    await expect.poll(sent(second, 'AVAILABLE'), { timeout: 2000 }).toBe(true);
    feed.thaw((seats) => seats.some((state) => state.id === second && state.status === 'AVAILABLE'));
    // A newer message still wins. Messages arrive in order, so once the third seat shows held, the
    // held-back one (the second seat HELD) has been applied before it.
    const rival = await tokenFor('rival');
    const rivalHold = await api.gql<{ holdSeats: { __typename: string } }>(
      HOLD,
      { ticketIds: [third] },
      { token: rival },
    );
    expect(rivalHold.data?.holdSeats.__typename).toBe('HoldSeatsSuccess');
    await buyer.waitForSelector(`.seat.held[data-id="${third}"]`, { timeout: 2000 });
    expect(await lookOf(buyer, second)).toBe('available');
    expect(await lookOf(buyer, first)).toBe('mine-sold');
    await expectSaleInvariants(api.app.services.db);
    await buyer.close();
  },
  BROWSER_TEST_MS,
);

it(
  'works from the keyboard: Tab into the map, arrows between seats and rows, Enter and Space choose, Enter holds',
  async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 16, sections: [FRONT] });
    const page = await openSeatMap(browser, api, event.eventGlobalId);
    await signInAsDemo(page);
    const focused = () =>
      page.evaluate(() => ({
        label: document.activeElement?.getAttribute('aria-label') ?? '',
        text: document.activeElement?.textContent ?? '',
        visible: document.activeElement?.matches(':focus-visible') ?? false,
        seat: document.activeElement?.classList.contains('seat') ?? false,
      }));

    for (let presses = 0; !(await focused()).seat; presses++) {
      expect(presses, 'Tab never reached the seat map').toBeLessThan(30);
      await page.keyboard.press('Tab');
    }
    expect(await focused()).toMatchObject({
      label: expect.stringMatching(/^Front, row A, seat 1, .*: available$/),
      visible: true,
    });
    const moves: Array<[string, string]> = [
      ['ArrowRight', 'row A, seat 2'],
      ['ArrowRight', 'row A, seat 3'],
      ['ArrowDown', 'row B, seat 3'],
      ['End', 'row B, seat 8'],
      ['Home', 'row B, seat 1'],
      ['ArrowUp', 'row A, seat 1'],
    ];
    for (const [key, where] of moves) {
      await page.keyboard.press(key);
      expect((await focused()).label, `after ${key}`).toContain(where);
    }
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    // Preact repaints after the key's event handler returns: wait for the frame, not the instant.
    const repaint = { timeout: 2000 };
    await expect.poll(() => lookOf(page, event.ticketGlobalIds[0] as string), repaint).toBe('selected');
    await expect.poll(() => lookOf(page, event.ticketGlobalIds[1] as string), repaint).toBe('selected');
    await expect.poll(async () => (await focused()).label, repaint).toContain('row A, seat 2, 50.00: selected');

    for (let presses = 0; !(await focused()).text.startsWith('Hold 2 seats'); presses++) {
      expect(presses, 'Tab never reached the hold button').toBeLessThan(40);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.locator('.countdown-value').waitFor();
    // The hold's answer turns the seat held for this buyer (its live message, when it comes, agrees).
    await expect.poll(() => lookOf(page, event.ticketGlobalIds[0] as string), { timeout: 2000 }).toBe('mine-held');
    await page.getByRole('button', { name: 'Release seats' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`.seat.available[data-id="${event.ticketGlobalIds[0]}"]`, { timeout: 2000 });
    await expectSaleInvariants(api.app.services.db);
    await page.close();
  },
  BROWSER_TEST_MS,
);

it(
  '"best available" lets the server choose: the best two seats side by side are held and shown as yours',
  async ({ api }) => {
    const event = await createEventWithTickets(api, { seats: 16, sections: [FRONT] });
    const page = await openSeatMap(browser, api, event.eventGlobalId);
    await signInAsDemo(page);
    const form = page.getByRole('form', { name: 'Best available' });
    await form.getByRole('combobox').selectOption('2');
    await form.getByRole('button', { name: 'Hold the best 2 seats' }).click();
    await page.locator('.countdown-value').waitFor();
    // The rule: front row first, nearest the middle of the row (seats 4 and 5 of 8).
    const mine = async () => {
      const looks = await Promise.all(event.ticketGlobalIds.map((id) => lookOf(page, id)));
      return looks.flatMap((look, index) => (look === 'mine-held' ? [index] : []));
    };
    await expect.poll(mine, { timeout: 2000 }).toEqual([3, 4]);
    expect(await page.locator('.notice.success').textContent()).toMatch(/^Held the best 2 for you: /);

    // Fewer seats left than asked: a sentence, nothing held.
    await page.getByRole('button', { name: 'Release seats' }).click();
    await page.waitForSelector(`.seat.available[data-id="${event.ticketGlobalIds[3]}"]`, { timeout: 2000 });
    await form.getByRole('combobox').selectOption('10');
    await form.getByRole('button', { name: 'Hold the best 10 seats' }).click();
    expect(await alertText(page)).toMatch(/^No 10 seats side by side are free \(16 are, apart\)/);
    await expectSaleInvariants(api.app.services.db);
    await page.close();
  },
  BROWSER_TEST_MS,
);

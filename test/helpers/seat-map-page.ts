import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import type { TestApp } from './app.js';

/** The seat-map page of `api` (which must listen) on `eventId` (a GraphQL id), loaded and live. */
export async function openSeatMap(browser: Browser, api: TestApp, eventId: string, page?: Page): Promise<Page> {
  const graphqlUrl = await api.listen();
  const tab = page ?? (await browser.newPage({ viewport: { width: 1440, height: 1000 } }));
  await tab.goto(`${new URL(graphqlUrl).origin}/app/?event=${encodeURIComponent(eventId)}`);
  await waitUntilLive(tab);
  return tab;
}

/** Waits until the page's map has loaded and its subscription has had its first message. */
export async function waitUntilLive(page: Page): Promise<void> {
  await page.waitForSelector('.seat-map[data-state="ready"][data-connection="live"]', { timeout: 20_000 });
}

/** A seat of the page's map, by its GraphQL ticket id. */
export function seat(page: Page, ticketId: string) {
  return page.locator(`.seat[data-id="${ticketId}"]`);
}

/** How the page draws a seat now: available, selected, held, sold, mine-held or mine-sold. */
export async function lookOf(page: Page, ticketId: string): Promise<string> {
  const classes = (await seat(page, ticketId).getAttribute('class')) ?? '';
  return classes.replace('seat', '').trim();
}

/** Signs the page in as a new demo customer and answers the customer id shown. */
export async function signInAsDemo(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Sign in as a demo customer' }).click();
  const who = page.locator('.sign-in .who strong');
  await who.waitFor();
  return (await who.textContent()) ?? '';
}

/** A seat's state as a live message carries it. */
export interface LiveSeat {
  id: string;
  status: string;
  version: number;
}

/** The seats a graphql-ws `next` message of `ticketAvailability` carries (none for any other frame). */
function seatsOf(message: string | Buffer): LiveSeat[] {
  const frame = JSON.parse(message.toString()) as {
    type?: string;
    payload?: { data?: { ticketAvailability?: { changedTickets?: LiveSeat[] } } };
  };
  return frame.type === 'next' ? (frame.payload?.data?.ticketAvailability?.changedTickets ?? []) : [];
}

/**
 * Lets a test hold back the live messages a page receives, as a network that delays them would: while
 * frozen, the server's messages wait; `thaw` delivers them in order (less those `lose` picks, as a lost
 * message would be), and `waitingSeats` tells what the waiting ones say. Call before the page opens.
 */
export async function freezableLiveFeed(page: Page) {
  let frozen = false;
  const waiting: Array<{ deliver: () => void; seats: LiveSeat[] }> = [];
  await page.routeWebSocket(/\/graphql$/, (socket: WebSocketRoute) => {
    const server = socket.connectToServer();
    socket.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (frozen) waiting.push({ deliver: () => socket.send(message), seats: seatsOf(message) });
      else socket.send(message);
    });
  });
  return {
    freeze() {
      frozen = true;
    },
    thaw(lose: (seats: LiveSeat[]) => boolean = () => false) {
      frozen = false;
      for (const { deliver, seats } of waiting.splice(0)) if (!lose(seats)) deliver();
    },
    /** Every seat state in the messages held back now, in the order the server sent them. */
    waitingSeats(): LiveSeat[] {
      return waiting.flatMap((message) => message.seats);
    },
  };
}

/** The text of the page's alert (errors for the buyer), once it shows. */
export async function alertText(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  return (await alert.textContent()) ?? '';
}

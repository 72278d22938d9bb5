import { expect } from 'vitest';
import { launchBrowser } from './helpers/browser.js';
import { integrationTest } from './helpers/fixtures.js';

const it = integrationTest({ kind: 'embedded' });

it('GraphiQL renders with its title in Chromium with the network closed, loading nothing from elsewhere', async ({
  api,
}) => {
  const url = await api.listen();
  const html = await (await fetch(url, { headers: { accept: 'text/html' } })).text();
  // No script, style, font or image from another host: every asset is inside the page.
  expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i);
  expect(html).not.toMatch(/@import/i);

  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    const elsewhere: string[] = [];
    const origin = new URL(url).origin;
    // The network is closed: anything not to this server (or in the page itself) is refused and noted.
    await context.route('**/*', (route) => {
      const target = route.request().url();
      if (target.startsWith(origin) || target.startsWith('blob:') || target.startsWith('data:')) {
        return route.continue();
      }
      elsewhere.push(target);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('.graphiql-container', { timeout: 120_000 });
    expect(await page.title()).toBe('Flux-Order');
    // The schema arrived (the docs explorer lists the query type) and the title is no placeholder.
    await page.waitForFunction(() => document.body.innerText.includes('Flux-Order'), undefined, { timeout: 15_000 });
    expect(await page.evaluate(() => document.body.innerText)).not.toMatch(/Loading|__TITLE__/);
    expect(elsewhere).toEqual([]);
  } finally {
    await browser.close();
  }
  // Chromium parses a 9 MB page: on a busy 2-core machine that alone can pass the default minute.
}, 180_000);

import { expect } from 'vitest';
import type { TestApp } from './helpers/app.js';
import { integrationTest } from './helpers/fixtures.js';

const development = integrationTest();
const production = integrationTest({ app: { env: { NODE_ENV: 'production' } } });

const origin = async (api: TestApp) => new URL(await api.listen()).origin;

development(
  'serves the page at / and /app/*, its hashed assets for good, and the API where it was',
  async ({ api }) => {
    const base = await origin(api);
    for (const path of ['/', '/app', '/app/', '/app/events/whatever?event=x']) {
      const page = await fetch(`${base}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('data-demo-sign-in="on"');
    const assets = [...html.matchAll(/(?:src|href)="(\/app\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const file = await fetch(`${base}${asset}`);
      expect(file.status).toBe(200);
      expect(file.headers.get('cache-control')).toContain('immutable');
      expect(file.headers.get('content-type')).toMatch(/^text\/(javascript|css)/);
    }
    expect((await fetch(`${base}/app/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/app/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    const api_ = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await api_.json()).toEqual({ data: { __typename: 'Query' } });
  },
);

development('outside production, demo sign-in signs a new customer whose token the API accepts', async ({ api }) => {
  const base = await origin(api);
  expect((await fetch(`${base}/app/demo-sign-in`)).status).toBe(405);
  const signIns = await Promise.all([1, 2].map(() => fetch(`${base}/app/demo-sign-in`, { method: 'POST' })));
  const [first, second] = (await Promise.all(signIns.map((r) => r.json()))) as Array<{
    token: string;
    customerId: string;
  }>;
  expect(first?.customerId).toMatch(/^demo-[0-9a-f]{8}$/);
  expect(first?.customerId).not.toBe(second?.customerId);
  const me = await api.gql<{ me: { id: string } }>('{ me { id } }', {}, { token: first?.token });
  expect(me.data?.me.id).toBe(first?.customerId);
});

production('in production there is no demo sign-in, and the page does not offer it', async ({ api }) => {
  const base = await origin(api);
  expect((await fetch(`${base}/app/demo-sign-in`, { method: 'POST' })).status).toBe(404);
  expect(await (await fetch(`${base}/`)).text()).toContain('data-demo-sign-in="off"');
});

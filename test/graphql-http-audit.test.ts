import { auditServer } from 'graphql-http';
import { expect } from 'vitest';
import { integrationTest } from './helpers/fixtures.js';

const it = integrationTest({ kind: 'embedded' });

/** The audit's MUST and SHOULD items that did not pass, by name, with why. */
async function shortcomings(url: string, fetchFn: typeof fetch = fetch) {
  const results = await auditServer({ url, fetchFn });
  const failing = results.filter(
    (result) => result.status !== 'ok' && (result.name.startsWith('MUST') || result.name.startsWith('SHOULD')),
  );
  return {
    audited: results.length,
    failing: await Promise.all(
      failing.map(async (result) => `${result.name}: ${result.status === 'ok' ? '' : result.reason}`),
    ),
  };
}

it('the GraphQL-over-HTTP audit finds no MUST failure and no SHOULD warning', async ({ api }) => {
  const { audited, failing } = await shortcomings(await api.listen());
  expect(audited).toBeGreaterThan(30);
  expect(failing).toEqual([]);
});

it('…nor when every request that names no Accept asks for application/graphql-response+json', async ({ api }) => {
  const graphqlResponseJson: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/graphql-response+json');
    return fetch(input, { ...init, headers });
  };
  const { failing } = await shortcomings(await api.listen(), graphqlResponseJson);
  // The one item about a request with no Accept cannot hold once every such request has one.
  expect(failing.filter((item) => !item.includes('when accept is missing'))).toEqual([]);
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { allowOrigins } from '../src/transport/cors.js';
import { integrationTest } from './helpers/fixtures.js';

const anyOrigin = integrationTest({ kind: 'embedded' });
const listed = integrationTest({ kind: 'embedded', app: { env: { CORS_ORIGINS: 'https://tickets.example' } } });

const QUERY = JSON.stringify({ query: '{ __typename }' });

describe('CORS', () => {
  anyOrigin(
    'in development any origin may read answers, never with credentials, and may read Retry-After',
    async ({ api }) => {
      const url = await api.listen();
      const response = await fetch(url, {
        method: 'POST',
        headers: { origin: 'https://anywhere.example', 'content-type': 'application/json' },
        body: QUERY,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('access-control-expose-headers')).toContain('retry-after');
    },
  );

  listed('an allow-listed origin is named back; another origin gets no CORS headers at all', async ({ api }) => {
    const url = await api.listen();
    const ask = (origin: string) =>
      fetch(url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: QUERY });
    const allowed = await ask('https://tickets.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await ask('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-credentials')).toBeNull();
  });

  listed('a preflight is answered once for a day: methods, the headers asked for, Max-Age', async ({ api }) => {
    const url = await api.listen();
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://tickets.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(Number(preflight.headers.get('access-control-max-age'))).toBeGreaterThanOrEqual(7200);
    const refused = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
  });

  listed('413, 411 and 403 answers carry the CORS headers too, so a page can read why', async ({ api }) => {
    const url = await api.listen();
    const headers = { origin: 'https://tickets.example', 'content-type': 'application/json' };
    const tooBig = await fetch(url, { method: 'POST', headers, body: 'x'.repeat(200_000) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
    const chunked = await fetch(url, {
      method: 'POST',
      headers,
      body: new Blob([QUERY]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    expect(chunked.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
    const form = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: QUERY,
    });
    expect(form.status).toBe(403);
    expect(form.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
  });

  test('an answer written with writeHead, as the drain writes its 503, keeps them and exposes Retry-After', async () => {
    const server = createServer(
      allowOrigins(
        (_request, response) => {
          response.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' });
          response.end('{}');
        },
        ['https://tickets.example'],
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        headers: { origin: 'https://tickets.example' },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
      expect(response.headers.get('access-control-expose-headers')).toContain('retry-after');
    } finally {
      server.close();
    }
  });
});

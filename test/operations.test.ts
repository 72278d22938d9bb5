import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEvent, purchase, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { get } from './helpers/http.js';
import { expectSaleInvariants } from './helpers/invariants.js';

describe('health, readiness and metrics', () => {
  let database: TestDatabase;
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ kind: 'real', databaseUrl: database.url, env: { METRICS: 'true' } });
    url = await api.listen();
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('answers /health and /ready, and counts purchases by outcome and reason in /metrics', async () => {
    expect(await get(url, '/health')).toEqual({ status: 200, text: '{"status":"ok"}' });
    const ready = await get(url, '/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });

    const { ticketIds } = await createTestEvent(api.app, { seats: 1 });
    expect((await purchase(api, 'metered', ticketIds[0] as string)).__typename).toBe('PurchaseTicketSuccess');
    expect((await purchase(api, 'late', ticketIds[0] as string)).__typename).toBe('TicketUnavailable');
    const metrics = await get(url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('flux_attempts_total{operation="purchase",outcome="ok",reason=""} 1');
    expect(metrics.text).toContain(
      'flux_attempts_total{operation="purchase",outcome="TicketUnavailable",reason="SOLD"} 1',
    );
    expect(metrics.text).toMatch(/flux_lock_seconds_count 2\b/);
    expect(metrics.text).toContain('flux_live_subscribers 0');
    expect(metrics.text).toContain('flux_live_messages_published_total 1');
    await expectSaleInvariants(api.app.services.db);
  });

  it('serves no /metrics when METRICS is off (the production default)', async () => {
    const quiet = await startTestApp({ kind: 'real', databaseUrl: database.url, env: { METRICS: 'false' } });
    try {
      const quietUrl = await quiet.listen();
      expect((await get(quietUrl, '/metrics')).status).toBe(404);
      expect((await get(quietUrl, '/health')).status).toBe(200);
    } finally {
      await quiet.stop();
    }
  });
});

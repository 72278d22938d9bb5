import { describe, expect, it } from 'vitest';
import { unavailableDependency } from '../src/infra/unavailable.js';

/** An error as postgres.js makes them: a message plus a `code`. */
function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('which dependency an error says is down', () => {
  it("names Redis for ioredis' connection, timeout and cluster-failover messages", () => {
    for (const message of [
      'Connection is closed.',
      'Command timed out',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
    ])
      expect(unavailableDependency(new Error(message)), message).toBe('redis');
    expect(unavailableDependency(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }))).toBe('redis');
  });

  it("names Postgres for postgres.js' connection codes, SQLSTATE 08/57P0x/53300 and raw socket errors", () => {
    for (const code of ['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])
      expect(unavailableDependency(withCode('lost', code)), code).toBe('postgres');
    for (const code of ['08006', '57P01', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'])
      expect(unavailableDependency(withCode('down', code)), code).toBe('postgres');
  });

  it('follows the cause chain, and leaves every other error alone', () => {
    const wrapped = new Error('commit failed', {
      cause: new Error('wrapper', { cause: new Error('Command timed out') }),
    });
    expect(unavailableDependency(wrapped)).toBe('redis');
    expect(unavailableDependency(withCode('duplicate key value', '23505'))).toBeUndefined();
    expect(unavailableDependency(withCode('serialization failure', '40001'))).toBeUndefined();
    expect(unavailableDependency(new Error('MOVED 3999 127.0.0.1:6381'))).toBeUndefined();
    expect(unavailableDependency(new Error('Cluster redirections are fine'))).toBeUndefined();
    expect(unavailableDependency('not an error')).toBeUndefined();
    expect(unavailableDependency(undefined)).toBeUndefined();
  });
});

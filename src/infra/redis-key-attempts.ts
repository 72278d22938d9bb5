import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import { KEY_RECORD, type KeyAttempt, type KeyAttempts, type KeyAttemptTimings } from './key-attempts.js';
import type { RedisConnection } from './redis-client.js';
import { keyLeaseKey, keyRecordKey } from './redis-keys.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    fluxKeyBegin(
      record: string,
      lease: string,
      token: string,
      lockTtlMs: number,
      windowMs: number,
    ): Result<[string, string, number], Context>;
    fluxKeyEnd(
      record: string,
      lease: string,
      token: string,
      mode: string,
      payload: string,
      windowMs: number,
    ): Result<number, Context>;
  }
}

const { SEVERAL, MADE, REFUSED } = KEY_RECORD;

/**
 * KEYS: the record, the lease (one slot: they share the key's hash tag). ARGV: the attempt's
 * token, the lock TTL, the window. Returns {state, payload, leased}: a refused key takes no lease.
 */
const BEGIN = `
local record = redis.call('GET', KEYS[1])
if record and string.sub(record, 1, 2) == '${REFUSED}' then return {'refused', string.sub(record, 3), 0} end
local leased = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
if record and string.sub(record, 1, 2) == '${MADE}' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'made', string.sub(record, 3), leased}
end
if not record and leased == 1 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return {'first', '', leased}
end
redis.call('SET', KEYS[1], '${SEVERAL}', 'PX', ARGV[3])
return {'again', '', leased}`;

/**
 * KEYS: the record, the lease. ARGV: the token, the mode (`made`, `refused`, `alone`: refused only
 * if the record still names this attempt alone, or empty: record nothing), the payload, the window.
 */
const END = `
if ARGV[2] == 'alone' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'made' then
  redis.call('SET', KEYS[1], '${MADE}' .. ARGV[3], 'PX', ARGV[4])
elseif ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], '${REFUSED}' .. ARGV[3], 'PX', ARGV[4])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

/**
 * The product's key attempts ({@link KeyAttempts}): one script per call, over the key's lease
 * (`<prefix>lease:{<name>}`) and its record (`<prefix>seen:{<name>}`), which share a hash tag so a
 * cluster keeps them in one slot.
 */
export function createRedisKeyAttempts(
  redis: RedisConnection,
  prefix: string,
  timings: KeyAttemptTimings,
): KeyAttempts {
  redis.defineCommand('fluxKeyBegin', { numberOfKeys: 2, lua: BEGIN });
  redis.defineCommand('fluxKeyEnd', { numberOfKeys: 2, lua: END });
  const keys = (name: string) => [keyRecordKey(prefix, name), keyLeaseKey(prefix, name)] as const;
  return {
    windowMs: timings.windowMs,
    async begin(name): Promise<KeyAttempt> {
      const token = randomUUID();
      const [state, payload, leased] = await redis.fluxKeyBegin(
        ...keys(name),
        token,
        timings.lockTtlMs,
        timings.windowMs,
      );
      if (state === 'refused') return { state, refusal: payload };
      if (state !== 'first' && state !== 'again' && state !== 'made') throw new Error(`key attempt: state ${state}`);
      return { state, token, leased: leased === 1, made: state === 'made' ? payload : undefined };
    },
    async end(name, token, record) {
      const [mode, payload] = !record
        ? ['', '']
        : 'made' in record
          ? ['made', record.made]
          : [record.onlyIfAlone ? 'alone' : 'refused', record.refused];
      return (await redis.fluxKeyEnd(...keys(name), token, mode, payload, timings.windowMs)) === 1;
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
}

import { createSigner } from 'fast-jwt';
import { describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, InvalidTokenError, signToken } from '../src/auth/tokens.js';

const SECRET = 'verifier-secret-verifier-secret-0123456789';

/** How many tokens fast-jwt has checked (signature and claims) in this file. */
const fastJwt = vi.hoisted(() => ({ checks: 0 }));
vi.mock('fast-jwt', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fast-jwt')>();
  const createVerifier = (options: Parameters<typeof actual.createVerifier>[0]) => {
    const verify = actual.createVerifier(options) as (token: string) => unknown;
    return (token: string) => {
      fastJwt.checks++;
      return verify(token);
    };
  };
  return { ...actual, createVerifier };
});

describe('the token verifier', () => {
  it('remembers a verified token only until its exp, by the one clock it is given', async () => {
    // A clock set years back: by the wall clock this token expired long ago, so every answer below
    // that accepts it was reached on the given clock, in the cache and in fast-jwt alike.
    let now = Date.parse('2020-01-01T00:00:00Z');
    const verify = createTokenVerifier(SECRET, 100, () => now);
    const exp = now / 1000 + 60;
    const token = await signToken(SECRET, { sub: 'ada' }, exp);
    const checks = fastJwt.checks;
    expect(verify(token)).toEqual({ customerId: 'ada', role: 'customer' });
    expect(fastJwt.checks).toBe(checks + 1);

    now = exp * 1000 - 1;
    expect(verify(token)).toEqual({ customerId: 'ada', role: 'customer' });
    expect(fastJwt.checks).toBe(checks + 1); // from the cache

    now = exp * 1000 + 1;
    expect(() => verify(token)).toThrow('The token has expired.');
    expect(fastJwt.checks).toBe(checks + 2); // the cache let go at exp; fast-jwt refused it
  });

  it('checks every token it has not verified itself, however close to a good one', async () => {
    const verify = createTokenVerifier(SECRET);
    const token = await signToken(SECRET, { sub: 'ada' });
    verify(token);
    const [header, payload] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 9e9 })).toString('base64url');
    expect(() => verify(`${header}.${forgedPayload}.${token.split('.')[2]}`)).toThrow(InvalidTokenError);
    expect(() => verify(`${header}.${payload}.AAAA`)).toThrow(InvalidTokenError);
    const other = await signToken('another-secret-another-secret-0123456789', { sub: 'ada' });
    expect(() => verify(other)).toThrow(InvalidTokenError);
  });

  it('refuses an unsigned token, another algorithm, and a token without exp', async () => {
    const verify = createTokenVerifier(SECRET);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = part({ sub: 'mallory', role: 'organizer', exp: 9e9 });
    expect(() => verify(`${part({ alg: 'none', typ: 'JWT' })}.${claims}.`)).toThrow(InvalidTokenError);
    const hs512 = createSigner({ key: SECRET, algorithm: 'HS512' })({ sub: 'mallory', exp: 9e9 });
    expect(() => verify(hs512)).toThrow(InvalidTokenError);
    const noExp = createSigner({ key: SECRET, algorithm: 'HS256' })({ sub: 'mallory' });
    expect(() => verify(noExp)).toThrow(InvalidTokenError);
  });

  it('signs spans with a unit, and refuses a bare number of seconds rather than guess its unit', async ({
    onTestFinished,
  }) => {
    // The signer reads the wall clock; a still one makes each span exact.
    const now = Date.parse('2030-01-01T00:00:00Z');
    vi.useFakeTimers({ now, toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const verify = createTokenVerifier(SECRET);
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims(await signToken(SECRET, { sub: 'ada' }, '2h')).exp).toBe(now / 1000 + 7200);
    expect(claims(await signToken(SECRET, { sub: 'ada' }, '30m')).exp).toBe(now / 1000 + 1800);
    expect(verify(await signToken(SECRET, { sub: 'ada', role: 'organizer' }, '7d'))).toEqual({
      customerId: 'ada',
      role: 'organizer',
    });
    await expect(signToken(SECRET, { sub: 'ada' }, '3600')).rejects.toThrow(RangeError);
    await expect(signToken(SECRET, { sub: 'ada' }, '10x')).rejects.toThrow(RangeError);
  });

  it('keeps at most maxEntries tokens', async () => {
    const verify = createTokenVerifier(SECRET, 3);
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((sub) => signToken(SECRET, { sub })));
    for (const token of tokens) verify(token);
    // Still correct for every token, cached or evicted.
    for (const [i, token] of tokens.entries()) expect(verify(token).customerId).toBe(['a', 'b', 'c', 'd'][i]);
  });
});

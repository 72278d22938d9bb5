import { setTimeout as sleep } from 'node:timers/promises';
import { createSigner } from 'fast-jwt';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, InvalidTokenError, signToken } from '../src/auth/tokens.js';

const SECRET = 'verifier-secret-verifier-secret-0123456789';

describe('the token verifier', () => {
  it('remembers a verified token only until its exp', async () => {
    const verify = createTokenVerifier(SECRET);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await signToken(SECRET, { sub: 'ada' }, exp);
    expect(verify(token)).toEqual({ customerId: 'ada', role: 'customer' });
    expect(verify(token)).toEqual({ customerId: 'ada', role: 'customer' }); // from the cache
    await sleep(exp * 1000 - Date.now() + 50);
    expect(() => verify(token)).toThrow('The token has expired.');
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

  it('signs spans with a unit, and refuses a bare number of seconds rather than guess its unit', async () => {
    const verify = createTokenVerifier(SECRET);
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    expect(claims(await signToken(SECRET, { sub: 'ada' }, '2h')).exp - now).toBeGreaterThanOrEqual(7199);
    expect(claims(await signToken(SECRET, { sub: 'ada' }, '2h')).exp - now).toBeLessThanOrEqual(7201);
    expect(claims(await signToken(SECRET, { sub: 'ada' }, '30m')).exp - now).toBeLessThanOrEqual(1801);
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

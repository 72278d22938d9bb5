import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../src/auth/token-verifier.js';
import { InvalidTokenError, signToken } from '../src/auth/tokens.js';

const SECRET = 'verifier-secret-verifier-secret-0123456789';

describe('the token verifier', () => {
  it('remembers a verified token only until its exp', async () => {
    const verify = createTokenVerifier(SECRET);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await signToken(SECRET, { sub: 'ada' }, exp);
    expect(await verify(token)).toEqual({ customerId: 'ada', role: 'customer' });
    expect(await verify(token)).toEqual({ customerId: 'ada', role: 'customer' }); // from the cache
    await sleep(exp * 1000 - Date.now() + 50);
    await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('checks every token it has not verified itself, however close to a good one', async () => {
    const verify = createTokenVerifier(SECRET);
    const token = await signToken(SECRET, { sub: 'ada' });
    await verify(token);
    const [header, payload] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 9e9 })).toString('base64url');
    await expect(verify(`${header}.${forgedPayload}.${token.split('.')[2]}`)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verify(`${header}.${payload}.AAAA`)).rejects.toBeInstanceOf(InvalidTokenError);
    const other = await signToken('another-secret-another-secret-0123456789', { sub: 'ada' });
    await expect(verify(other)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('keeps at most maxEntries tokens', async () => {
    const verify = createTokenVerifier(SECRET, 3);
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((sub) => signToken(SECRET, { sub })));
    for (const token of tokens) await verify(token);
    // Still correct for every token, cached or evicted.
    for (const [i, token] of tokens.entries()) expect((await verify(token)).customerId).toBe(['a', 'b', 'c', 'd'][i]);
  });
});

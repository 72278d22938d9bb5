import { type Viewer, verifyToken } from './tokens.js';

/** Verifies bearer tokens; {@link createTokenVerifier} makes one per app instance. */
export type TokenVerifier = (token: string) => Promise<Viewer>;

/**
 * Verifies with the HMAC key imported once, and remembers tokens it has verified until their `exp`
 * (at most `maxEntries`, oldest dropped first). In a flash sale the same buyers retry many times a
 * second; re-verifying each attempt spent ~15% of the API's CPU in WebCrypto key imports. Only
 * verified tokens are remembered, keyed by the whole token (signature included), so a forged or
 * altered one is always checked, and an expired one is refused as before.
 */
export function createTokenVerifier(secret: string, maxEntries = 50_000, now: () => number = Date.now): TokenVerifier {
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const verified = new Map<string, { viewer: Viewer; expiresAt: number }>();
  return async (token) => {
    const known = verified.get(token);
    if (known && known.expiresAt > now()) return known.viewer;
    const { viewer, expiresAt } = await verifyToken(await key, token);
    if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
    verified.set(token, { viewer, expiresAt });
    return viewer;
  };
}

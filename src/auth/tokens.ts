import { createSigner, createVerifier, TOKEN_ERROR_CODES, TokenError } from 'fast-jwt';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

/** Who is calling, as proven by a verified token. */
export interface Viewer {
  customerId: string;
  role: 'customer' | 'organizer';
}

/** A token was sent but cannot be trusted: forged, expired, or with bad claims. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  role: z.enum(['customer', 'organizer']).default('customer'),
  exp: z.number(),
});

/** Checks a bearer token and says who sent it; see {@link createTokenVerifier}. */
export type TokenVerifier = (token: string) => Viewer;

/**
 * Verifies HS256 tokens (signature, `exp` required and honoured) signed with `secret`, synchronously
 * through node:crypto (fast-jwt), which costs far less CPU per token than WebCrypto (jose); in a
 * flash sale nearly every buyer arrives with a token not yet seen.
 * Verified tokens are remembered until their `exp` (at most `cacheSize`, least recently used
 * dropped first); failures never are. The cache is ours, keyed by the whole token string, signature
 * included, so only the exact bytes once verified are trusted again and any altered token is checked.
 * fast-jwt's own cache keys by a SHA-256 of the token, which showed in hot-seat CPU profiles; giving
 * it the token itself as the key makes it print a security warning at every start. Figures: the
 * results log (loadtest/results/LOG.md).
 *
 * `now` (ms since the epoch; the wall clock by default) is the one clock that decides expiry, in the
 * cache and in fast-jwt's `exp` check alike; tests pass their own. fast-jwt takes its clock as a
 * fixed instant when a verifier is made, so a clock of one's own gets a fast-jwt verifier per check.
 */
export function createTokenVerifier(secret: string, cacheSize = 50_000, now?: () => number): TokenVerifier {
  const options = { key: secret, algorithms: ['HS256' as const], requiredClaims: ['exp'] };
  const verify = now
    ? (token: string) => createVerifier({ ...options, clockTimestamp: now() })(token)
    : createVerifier(options);
  const clock = now ?? Date.now;
  const verified = new LRUCache<string, { viewer: Viewer; expiresAtMs: number }>({ max: cacheSize });
  return (token) => {
    const known = verified.get(token);
    if (known && clock() < known.expiresAtMs) return known.viewer;
    let payload: unknown;
    try {
      payload = verify(token);
    } catch (error) {
      verified.delete(token);
      if (!(error instanceof TokenError)) throw error;
      throw new InvalidTokenError(
        error.code === TOKEN_ERROR_CODES.expired ? 'The token has expired.' : 'The token is invalid.',
      );
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new InvalidTokenError('The token has invalid claims.');
    const viewer: Viewer = { customerId: claims.data.sub, role: claims.data.role };
    verified.set(token, { viewer, expiresAtMs: claims.data.exp * 1000 });
    return viewer;
  };
}

const SPAN = /^(\d+)(s|m|h|d|w)$/;
const SPAN_UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** `exp` for a span like '30m', '12h' or '7d' from now; anything else (a bare '3600' too) is an error. */
function expiryOf(span: string, nowSeconds: number): number {
  const match = SPAN.exec(span.trim());
  if (!match) throw new RangeError(`An expiry must look like 30m, 12h or 7d, not "${span}".`);
  return nowSeconds + Number(match[1]) * SPAN_UNIT_SECONDS[match[2] as keyof typeof SPAN_UNIT_SECONDS];
}

/**
 * Signs an HS256 token for `sub`; used by `npm run token`, the demo banner and tests. `expiresIn` is
 * a span ('30m', '12h', '7d') or, as a number, the `exp` instant in seconds since the epoch.
 */
export async function signToken(
  secret: string,
  claims: { sub: string; role?: Viewer['role'] },
  expiresIn: string | number = '12h',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const exp = typeof expiresIn === 'number' ? expiresIn : expiryOf(expiresIn, now);
  return createSigner({ key: secret, algorithm: 'HS256' })({ sub: claims.sub, role: claims.role ?? 'customer', exp });
}

/** The token from an `Authorization: Bearer …` value; undefined when absent, an error when malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (header == null || header.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new InvalidTokenError('The Authorization header must be "Bearer <token>".');
  return match[1];
}

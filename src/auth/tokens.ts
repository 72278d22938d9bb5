import { errors, jwtVerify, SignJWT } from 'jose';
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

const ALGORITHMS = ['HS256'];

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * Verifies an HS256 token (signature, `exp` required and honoured) and returns its viewer and when
 * it expires. Pass a CryptoKey imported once (see token-verifier.ts) rather than the raw secret.
 */
export async function verifyToken(
  key: CryptoKey | string,
  token: string,
): Promise<{ viewer: Viewer; expiresAt: number }> {
  try {
    const { payload } = await jwtVerify(token, typeof key === 'string' ? keyOf(key) : key, {
      algorithms: ALGORITHMS,
      requiredClaims: ['exp'],
    });
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new InvalidTokenError('The token has invalid claims.');
    return { viewer: { customerId: claims.data.sub, role: claims.data.role }, expiresAt: claims.data.exp * 1000 };
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error;
    if (error instanceof errors.JWTExpired) throw new InvalidTokenError('The token has expired.');
    if (error instanceof errors.JOSEError) throw new InvalidTokenError('The token is invalid.');
    throw error;
  }
}

/** Signs an HS256 token for `sub`; used by `npm run token`, the demo banner and tests. */
export async function signToken(
  secret: string,
  claims: { sub: string; role?: Viewer['role'] },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ role: claims.role ?? 'customer' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(keyOf(secret));
}

/** The token from an `Authorization: Bearer …` value; undefined when absent, an error when malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (header == null || header.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new InvalidTokenError('The Authorization header must be "Bearer <token>".');
  return match[1];
}

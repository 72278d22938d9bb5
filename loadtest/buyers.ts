import { signToken } from '../src/auth/tokens.js';

/**
 * `Authorization` values for `count` distinct customers (`<runId>-buyer-<n>`), signed before the load
 * starts so signing never competes with the servers for CPU. Valid for 2 hours.
 */
export async function signBuyers(secret: string, runId: string, count: number): Promise<string[]> {
  const headers: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) =>
      signToken(secret, { sub: `${runId}-buyer-${start + i}` }, '2h'),
    );
    for (const token of await Promise.all(batch)) headers.push(`Bearer ${token}`);
  }
  return headers;
}

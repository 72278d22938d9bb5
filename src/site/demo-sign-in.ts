import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { signToken } from '../auth/tokens.js';

/** How long a demo customer's token lasts. */
const DEMO_TOKEN_LIFETIME = '12h';

/** What `POST /app/demo-sign-in` answers: a customer token, as `npm run token` would print. */
export interface DemoSignIn {
  token: string;
  customerId: string;
}

/**
 * Signs a token for a new demo customer (`demo-<random>`), so each browser that signs in is a buyer of
 * its own and two windows can compete for a seat. Only ever wired outside production: anyone who can
 * reach the endpoint gets a customer token, which is the point of a demo and the opposite of sign-in.
 */
export async function demoSignIn(secret: string): Promise<DemoSignIn> {
  const customerId = `demo-${randomBytes(4).toString('hex')}`;
  return { token: await signToken(secret, { sub: customerId }, DEMO_TOKEN_LIFETIME), customerId };
}

/** Answers a demo sign-in request. */
export async function answerDemoSignIn(response: ServerResponse, secret: string): Promise<void> {
  const body = JSON.stringify(await demoSignIn(secret));
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(body);
}

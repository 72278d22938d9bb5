import { RequestError, request } from './graphql.js';
import { ME, type MeData } from './operations.js';

/** Who the buyer is on this tab: their token and the customer id it names. */
export interface Session {
  token: string;
  customerId: string;
}

const KEY = 'flux-order.session';

/** Whether this server offers demo sign-in (it writes that into the page; never in production). */
export const demoSignInOffered = document.documentElement.dataset.demoSignIn === 'on';

/** The session this tab signed in with, if any (kept per tab, so two tabs can be two buyers). */
export function savedSession(): Session | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return saved?.token && saved.customerId ? saved : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** Signs in as a new demo customer (development and embedded mode only). */
export async function demoSignIn(): Promise<Session> {
  let response: Response;
  try {
    response = await fetch('/app/demo-sign-in', { method: 'POST' });
  } catch {
    throw new RequestError('No answer from the server.', 'NETWORK');
  }
  if (!response.ok) throw new RequestError('Demo sign-in is not offered by this server.', 'FORBIDDEN');
  return (await response.json()) as Session;
}

/** Checks a pasted token with the API and says whose it is; UNAUTHENTICATED if it is not valid. */
export async function sessionFromToken(token: string): Promise<Session> {
  const data = await request<MeData>(ME, {}, { token, retry: true });
  if (!data.me) throw new RequestError('The token names nobody.', 'UNAUTHENTICATED');
  return { token, customerId: data.me.id };
}

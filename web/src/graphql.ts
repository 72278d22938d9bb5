/** The API over HTTP: POST /graphql with a JSON body, as every GraphQL client sends it. */

/** A request that brought no usable answer: a GraphQL error's code, or NETWORK when nothing came back. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; retryAfterSeconds?: number } }>;
}

/** How many times a request that may be repeated safely is sent again after a lost answer or a 503. */
const RETRIES = 2;

/**
 * Sends one operation and returns its `data`; throws {@link RequestError} for GraphQL errors (with
 * their `extensions.code`) and for a network failure. Set `retry` only for operations safe to repeat:
 * reads, and mutations that carry an idempotency key, which the server answers the same way twice.
 */
export async function request<T>(
  query: string,
  variables: Record<string, unknown>,
  options: { token?: string | undefined; retry?: boolean } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send<T>(query, variables, options.token);
    } catch (error) {
      const again = error instanceof RequestError && (error.code === 'NETWORK' || error.code === 'SERVICE_UNAVAILABLE');
      if (!options.retry || !again || attempt >= RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300 * (attempt + 1)));
    }
  }
}

async function send<T>(query: string, variables: Record<string, unknown>, token: string | undefined): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new RequestError('No answer from the server.', 'NETWORK');
  }
  let body: GraphQLBody<T>;
  try {
    body = (await response.json()) as GraphQLBody<T>;
  } catch {
    throw new RequestError(`The server answered ${response.status} without GraphQL.`, 'NETWORK');
  }
  const error = body.errors?.[0];
  if (error || !body.data) {
    const code = error?.extensions?.code ?? (response.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
    throw new RequestError(error?.message ?? 'No data.', code, error?.extensions?.retryAfterSeconds);
  }
  return body.data;
}

/** A new idempotency key: one per action the buyer means, reused only when that action is retried. */
export function newKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

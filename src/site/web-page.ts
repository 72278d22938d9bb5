import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { answerDemoSignIn } from './demo-sign-in.js';

/** What {@link withWebPage} serves. */
export interface WebPageOptions {
  /** The folder `npm run build` writes the page to (`dist/web`): `index.html` and `assets/`. */
  root: string;
  /** The token secret when demo sign-in is on (never in production); absent turns it off. */
  demoSignInSecret?: string | undefined;
}

/** In index.html, the build leaves this where the server says whether demo sign-in is on. */
export const DEMO_SIGN_IN_MARK = '%DEMO_SIGN_IN%';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The page may load and connect to nothing but this origin ('self' covers its own ws:// and wss://),
 * run no inline script, and be framed by no one.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * Serves the seat-map page in front of `next` (the API): `/`, `/app` and any `/app/…` path that is not
 * an asset answer index.html (the page reads its event from the query string); `/app/assets/<name>`
 * answers a built file, named by its content hash, so it is cached for good; `POST /app/demo-sign-in`
 * signs a demo customer's token when `demoSignInSecret` is given. Everything else goes to `next`.
 * The files are read once, at the first request: the build is done before the server starts.
 */
export function withWebPage(next: RequestListener, options: WebPageOptions): RequestListener {
  let files: { index: Buffer; assets: Map<string, Asset> } | undefined;
  const load = () => {
    files ??= readBuild(options.root, options.demoSignInSecret !== undefined);
    return files;
  };
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path !== '/' && path !== '/app' && !path.startsWith('/app/')) return next(request, response);
    if (path === '/app/demo-sign-in') return signIn(request, response, options.demoSignInSecret);
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(response, 405, 'Use GET.');
    let built: ReturnType<typeof load>;
    try {
      built = load();
    } catch {
      return plain(response, 503, 'The seat-map page is not built: run `npm run build`.');
    }
    if (path.startsWith('/app/assets/')) {
      const asset = built.assets.get(path.slice('/app/assets/'.length));
      if (!asset) return plain(response, 404, 'No such file.');
      return send(request, response, asset.body, {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      });
    }
    send(request, response, built.index, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      ...PAGE_HEADERS,
    });
  };
}

function readBuild(root: string, demoSignIn: boolean) {
  const html = readFileSync(join(root, 'index.html'), 'utf8');
  const index = Buffer.from(html.replace(DEMO_SIGN_IN_MARK, demoSignIn ? 'on' : 'off'));
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(join(root, 'assets'))) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(root, 'assets', name)), type });
  }
  return { index, assets };
}

function signIn(request: IncomingMessage, response: ServerResponse, secret: string | undefined) {
  request.resume();
  if (secret === undefined) return plain(response, 404, 'Demo sign-in is off (it is never on in production).');
  if (request.method !== 'POST') return plain(response, 405, 'Use POST.');
  answerDemoSignIn(response, secret).catch(() => plain(response, 500, 'Could not sign a demo token.'));
}

function send(request: IncomingMessage, response: ServerResponse, body: Buffer, headers: Record<string, string>) {
  response.writeHead(200, { ...headers, 'content-length': String(body.length) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function plain(response: ServerResponse, status: number, text: string) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * Paths the single-page app answers with its shell; the client-side router takes over
 * from there. Every API, auth, SCIM, tracking and embed path stays with its own routes.
 */
export const WEB_PAGE_PREFIXES = ['/login', '/setup', '/invitation', '/reports', '/dashboards', '/collections', '/admin', '/platform', '/account'] as const;

// The HTML shell only ever loads our own hashed bundles; nothing inline, nothing foreign.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** dist/client beside the package root, whether we run from src/ (tsx) or dist/ (compiled). */
export function defaultWebDir(): string {
  if (process.env.PLURA_WEB_DIR) return resolve(process.env.PLURA_WEB_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'client');
}

/** True for a browser navigation to one of the app's pages (used to answer errors as HTML). */
export function isWebPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept ?? '';
  if (!accept.includes('text/html')) return false;
  const path = request.url.split('?')[0] ?? '/';
  if (path === '/' || path === '/index.php') return !hasModuleParam(request);
  return WEB_PAGE_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** `/` and `/index.php` belong to the Matomo API when a `module` is named, to the app otherwise. */
export function hasModuleParam(request: FastifyRequest): boolean {
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.['module'] === 'string' && query['module'] !== '';
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A small self-contained page for errors met before the app can load (unknown host, deactivated tenant). */
export function renderErrorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not available' : 'Something went wrong';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>body{font:16px system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f5f6f8;color:#1d2433}
main{max-width:32rem;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.3rem;margin-top:0}</style></head>
<body><main role="alert"><h1>${title}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

export interface WebPages {
  /** Answers a navigation with the app's HTML shell. */
  readonly sendShell: (request: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

/**
 * The web interface: hashed bundles under `/assets/` (cached for a year) and the HTML
 * shell for every page path. Registered inside the tenant scope, so an unknown host or a
 * deactivated tenant is refused before the shell is served.
 */
export async function webRoutes(app: FastifyInstance, options: { webDir?: string } = {}): Promise<WebPages> {
  const webDir = options.webDir ?? defaultWebDir();
  const indexFile = join(webDir, 'index.html');
  const built = existsSync(indexFile);
  // Read once: a rebuilt client is picked up on restart, like the server code itself.
  const shell = built ? readFileSync(indexFile, 'utf8') : null;

  if (built) {
    await app.register(fastifyStatic, {
      root: join(webDir, 'assets'),
      prefix: '/assets/',
      index: false,
      wildcard: true,
      immutable: true,
      maxAge: '365d',
    });
  }

  const sendShell = (_request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (shell === null) {
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(renderErrorPage(503, 'The web interface is not built yet: run "npm run build" (or "npm run build:web") and restart the server.'));
    }
    return reply
      .type('text/html; charset=utf-8')
      .headers({ 'cache-control': 'no-cache', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' })
      .send(shell);
  };

  for (const prefix of WEB_PAGE_PREFIXES) {
    app.get(prefix, sendShell);
    app.get(`${prefix}/*`, sendShell);
  }
  return { sendShell };
}

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { Redis } from 'ioredis';
import proxyAddr from 'proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import { PluraError, isPluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { HostResolver } from '../tenancy/host-resolver.js';
import { normalizeHost } from '../tenancy/hosts.js';
import type { Tenant } from '../tenancy/tenant.js';
import { tenancyRoutes } from '../tenancy/tenancy.routes.js';
import { accessRoutes } from '../access/access.routes.js';
import { authRoutes } from '../access/auth.routes.js';
import { ssoRoutes } from '../sso/sso.routes.js';
import { workspaceRoutes } from '../workspace/workspace.routes.js';
import { subscriptionRoutes } from '../workspace/subscriptions.routes.js';
import { policyRoutes } from '../workspace/policy.routes.js';
import { collectionOpsRoutes } from '../workspace/collections-ops.routes.js';
import { ApiRateLimiter } from '../access/rate-limit.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { matomoApiRoutes } from '../matomo-api/matomo-api.routes.js';
import { sitesRoutes } from '../sites/sites.routes.js';
import type { RequestContextDeps } from './request-context.js';
import { LazyChildLogger } from './lazy-logger.js';
import { trackingRoutes } from '../tracking/tracking.routes.js';
import { trackerScriptRoutes } from '../tracking/tracker-script.routes.js';
import { isWebPageRequest, renderErrorPage, webRoutes } from '../web/web.routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant the request's host resolved to; set on every tenant-scoped route. */
    tenant: Tenant | null;
  }
}

export interface BuildAppOptions {
  readonly platform: Platform;
  readonly resolver: HostResolver;
  readonly logger: FastifyBaseLogger | false;
  /** Built web interface (index.html and assets/); default dist/client, or PLURA_WEB_DIR. */
  readonly webDir?: string;
}

/** Builds the HTTP app without listening, so tests can inject requests or listen on port 0. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { platform, resolver } = options;
  const trusted = platform.settings.get('General.trusted_proxies');
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Forwarded headers count only from the peers the operator named.
    trustProxy: trusted.length > 0 ? proxyAddr.compile([...trusted]) : false,
    bodyLimit: 1024 * 1024,
    // Per-request loggers are made only when a request actually logs.
    childLoggerFactory: (logger, bindings, options) => new LazyChildLogger(logger, bindings, options),
  });
  app.decorateRequest('tenant', null);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  const redisUrl = platform.settings.get('database.redis_url');
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  if (redis) app.addHook('onClose', async () => void (await redis.quit()));
  const deps: RequestContextDeps = { platform, rateLimiter: new ApiRateLimiter({ redis }) };
  const platformHost = normalizeHost(platform.settings.get('General.platform_host'));
  const writer = platform.tracking;
  // Replays what a previous process left in the tracking journal before serving.
  await writer.start({ error: (message) => app.log.error(message) });
  // Acknowledged hits reach their stores before the app reports closed.
  app.addHook('onClose', () => writer.drain());

  app.setErrorHandler((error, request, reply) => {
    // A browser navigating to a page gets a readable page, not JSON (unknown host, deactivated tenant, ...).
    if (isWebPageRequest(request)) {
      const status = isPluraError(error) ? error.status : 500;
      const message = isPluraError(error) && status < 500 ? error.message : 'The server failed to answer this request.';
      if (status >= 500) request.log.error({ err: error }, 'page failed');
      return reply.code(status).type('text/html; charset=utf-8').send(renderErrorPage(status, message));
    }
    if (isPluraError(error)) {
      if (error.status >= 500) request.log.error({ err: error }, error.message);
      return reply.code(error.status).headers(error.headers).send({ error: { code: error.code, message: error.message } });
    }
    const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'payload_too_large' : 'invalid_input';
      const message = error instanceof Error ? error.message : 'Bad request.';
      return reply.code(status).send({ error: { code, message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal_error', message: 'The server failed to answer this request.' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}.` } }),
  );

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await platform.registry.ping();
      if (!writer.healthy) return await reply.code(503).send({ status: 'unavailable', message: 'The tracking applier has stopped; restart the server (acknowledged hits are safe in the journal).' });
      return { status: 'ready', tenants: resolver.tenantCount, tracking: { queuedHits: writer.queuedHits, appliedHits: writer.appliedHits } };
    } catch {
      return reply.code(503).send({ status: 'unavailable', message: 'The registry is not reachable.' });
    }
  });

  // Every route registered inside this scope belongs to the tenant the Host names.
  await app.register(async (tenantScope) => {
    tenantScope.addHook('onRequest', async (request, reply) => {
      // The platform host serves platform users; every other host names a tenant.
      if (platformHost && normalizeHost(request.host ?? '') === platformHost) {
        request.tenant = null;
        request.log = request.log.child({ tenant: '(platform)' });
        reply.log = request.log;
        return;
      }
      const tenant = resolveTenant(request, resolver);
      request.tenant = tenant;
      request.log = request.log.child({ tenant: tenant.slug });
      reply.log = request.log;
    });
    await tenantScope.register(tenancyRoutes, { platform, deps, refreshTenants: () => resolver.refresh() });
    await tenantScope.register(async (scoped) => {
      const pages = await webRoutes(scoped, options.webDir !== undefined ? { webDir: options.webDir } : {});
      await authRoutes(scoped, deps);
      await ssoRoutes(scoped, deps, { refreshTenants: () => resolver.refresh() });
      await accessRoutes(scoped, deps);
      await sitesRoutes(scoped, deps);
      await auditRoutes(scoped, deps);
      await matomoApiRoutes(scoped, deps, pages);
      await workspaceRoutes(scoped, deps);
      await subscriptionRoutes(scoped, deps);
      await policyRoutes(scoped, deps);
      await collectionOpsRoutes(scoped, deps);
    });
    await tenantScope.register(async (tracking) => trackingRoutes(tracking, { platform, writer }));
    await tenantScope.register(trackerScriptRoutes);
  });

  return app;
}

/** Host → tenant, refusing unknown hosts (404) and deactivated tenants (403). */
export function resolveTenant(request: FastifyRequest, resolver: HostResolver): Tenant {
  const raw = request.host ?? '';
  const host = normalizeHost(raw);
  const tenant = host ? resolver.resolve(host) : undefined;
  if (!tenant) throw new PluraError('unknown_host', `No analytics tenant is configured for the host "${raw}".`);
  if (tenant.status !== 'active') {
    throw new PluraError('tenant_deactivated', `The tenant for "${host}" is deactivated; contact the platform operator.`);
  }
  return tenant;
}

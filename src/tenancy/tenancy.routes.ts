import { createReadStream, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { ApiRateLimiter } from '../access/rate-limit.js';
import { authorize } from '../access/users.service.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import { assignUser } from './assignment.js';
import { activateTenant, deactivateTenant } from './deactivation.js';
import { parseStrategy, readStrategy, switchStrategy } from './strategy.js';
import { presentTenantPublicFace, type Tenant } from './tenant.js';
import {
  AssignUserBodySchema,
  ErrorResponseSchema,
  LoginParamsSchema,
  StrategyBodySchema,
  TenantParamsSchema,
  TenantPublicFaceSchema,
  type TenantPublicFaceResponse,
} from './tenancy.schema.js';

const logoTypes: Record<string, string> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

function requireTenant(tenant: Tenant | null): Tenant {
  if (!tenant) throw new PluraError('unknown_host', 'This request names no tenant.');
  return tenant;
}

export interface TenancyRoutesOptions {
  readonly platform: Platform;
  /** The app's shared request dependencies (rate limits); a private in-process limiter otherwise. */
  readonly deps?: RequestContextDeps;
  /** Reloads the host map at once, so a tenant's status change applies on this node without waiting for the poll. */
  readonly refreshTenants?: () => Promise<void>;
}

/** Platform-level acts: platform admins only, decided by the policy module (manage_platform). */
function requirePlatformAdmin(auth: RequestAuth, what: string): void {
  authorize(auth.ctx, 'manage_platform', { kind: 'platform' }, what);
}

/**
 * The tenant's public face (what a login page needs, nothing secret), and the platform
 * admin's tenancy routes: deactivating and activating tenants, the tenant strategy, and
 * moving users between the platform and tenants.
 */
export const tenancyRoutes: FastifyPluginAsync<TenancyRoutesOptions> = async (root, options) => {
  const { platform } = options;
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const deps: RequestContextDeps = options.deps ?? { platform, rateLimiter: new ApiRateLimiter() };
  const refreshTenants = options.refreshTenants ?? (async () => undefined);
  const api = <T>(request: FastifyRequest, reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, fn);

  app.get(
    '/api/v1/tenant',
    { schema: { response: { 200: TenantPublicFaceSchema, '4xx': ErrorResponseSchema, '5xx': ErrorResponseSchema } } },
    async (request): Promise<TenantPublicFaceResponse> => {
    const tenant = requireTenant(request.tenant);
      return presentTenantPublicFace(tenant, platform.settings.forTenant(tenant.slug).get('General.default_language'));
    },
  );

  app.get('/api/v1/tenant/logo', async (request, reply) => {
    const tenant = requireTenant(request.tenant);
    const file = tenant.branding.logoFile;
    const path = file ? join(platform.paths.tenantFilesDir(tenant.slug), file) : null;
    if (!file || !path || !existsSync(path)) throw new PluraError('not_found', 'This tenant has no logo.');
    return reply.type(logoTypes[extname(file)] ?? 'application/octet-stream').send(createReadStream(path));
  });

  app.post('/api/v1/tenants/:slug/deactivate', { schema: { params: TenantParamsSchema } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requirePlatformAdmin(auth, 'deactivate a tenant');
      const result = await deactivateTenant(platform, auth.ctx.actor, request.params.slug, auth.ctx.ip);
      await refreshTenants();
      return { slug: result.tenant.slug, status: result.tenant.status, changed: result.changed, usersDeactivated: result.deactivated };
    }),
  );

  app.post('/api/v1/tenants/:slug/activate', { schema: { params: TenantParamsSchema } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requirePlatformAdmin(auth, 'activate a tenant');
      const result = await activateTenant(platform, auth.ctx.actor, request.params.slug, auth.ctx.ip);
      await refreshTenants();
      return { slug: result.tenant.slug, status: result.tenant.status, changed: result.changed, usersReactivated: result.reactivated, stillDeactivated: result.stillDeactivated };
    }),
  );

  app.get('/api/v1/platform/strategy', async (request, reply) =>
    api(request, reply, async (auth) => {
      requirePlatformAdmin(auth, 'see the tenant strategy');
      return readStrategy(platform);
    }),
  );

  app.put('/api/v1/platform/strategy', { schema: { body: StrategyBodySchema } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requirePlatformAdmin(auth, 'switch the tenant strategy');
      return switchStrategy(platform, auth.ctx.actor, parseStrategy(request.body.strategy), auth.ctx.ip);
    }),
  );

  // {"tenant":"acme"} assigns a platform user to acme; {"tenant":null} with X-Plura-Tenant (or "from") moves a tenant user back.
  app.post('/api/v1/platform/users/:login/assign', { schema: { params: LoginParamsSchema, body: AssignUserBodySchema } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      requirePlatformAdmin(auth, 'move users between the platform and tenants');
      if (request.tenant) throw new PluraError('forbidden', 'Users are moved between the platform and tenants on the platform host only.');
      const header = request.headers['x-plura-tenant'];
      const from = request.body.from ?? (typeof header === 'string' && header !== '' ? header : null);
      return assignUser(platform, auth.ctx.actor, { login: request.params.login, from, to: request.body.tenant }, auth.ctx.ip);
    }),
  );
};

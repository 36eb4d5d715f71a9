import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { ApiRateLimiter } from '../access/rate-limit.js';
import { authorize } from '../access/users.service.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import type { Platform } from '../platform/platform.js';
import {
  createTenantAsAdmin,
  getTenantForAdmin,
  listTenantsForAdmin,
  LOGO_MAX_BYTES,
  LOGO_MEDIA_TYPES,
  removeOwnTenantLogo,
  setOwnTenantLogo,
  getOwnTenant,
  updateOwnTenant,
  updateTenantAsAdmin,
} from './administration.js';
import { assignUser } from './assignment.js';
import { activateTenant, deactivateTenant } from './deactivation.js';
import { parseStrategy, readStrategy, switchStrategy } from './strategy.js';
import { changeTenantSettings, listTenantSettings } from './tenant-settings.js';
import { presentPlatformPublicFace, presentTenantPublicFace, type Tenant } from './tenant.js';
import {
  AssignUserBodySchema,
  CreateTenantBodySchema,
  ErrorResponseSchema,
  LoginParamsSchema,
  LogoSchema,
  OwnTenantBodySchema,
  OwnTenantSchema,
  StrategyBodySchema,
  TenantAdminSchema,
  TenantListSchema,
  TenantParamsSchema,
  TenantPublicFaceSchema,
  TenantSettingsBodySchema,
  TenantSettingsSchema,
  UpdateTenantBodySchema,
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
      const tenant = request.tenant;
      // The platform host answers with the platform's own face, so its login page needs no second code path.
      if (!tenant) return presentPlatformPublicFace(platform.settings.get('General.default_language'));
      return presentTenantPublicFace(tenant, platform.settings.forTenant(tenant.slug).get('General.default_language'));
    },
  );

  // Public on the tenant's hosts; on the platform host, for a platform admin naming the tenant (X-Plura-Tenant or ?tenant=).
  app.get('/api/v1/tenant/logo', async (request, reply) => {
    const tenant = request.tenant ?? (await api(request, reply, async (auth) => (auth.ctx.scope.kind === 'tenant' ? auth.ctx.scope.tenant : null)));
    const file = requireTenant(tenant).branding.logoFile;
    let bytes: Buffer | null = null;
    if (file) {
      try {
        bytes = await readFile(join(platform.paths.tenantFilesDir(requireTenant(tenant).slug), basename(file)));
      } catch {
        bytes = null;
      }
    }
    if (!file || !bytes) throw new PluraError('not_found', 'This tenant has no logo.');
    const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
    void reply
      .header('Cache-Control', 'no-cache')
      .header('X-Content-Type-Options', 'nosniff')
      // An operator's SVG logo opened on its own must not run scripts on this origin.
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      .header('ETag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(logoTypes[extname(file).toLowerCase()] ?? 'application/octet-stream').send(bytes);
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

  // The administration routes below validate JSON with TypeBox itself, without Ajv's type coercion:
  // in their unions null, false and 0 mean what they say (Ajv turns null into "" and false into null).
  await app.register(async (strictScope) => {
    strictScope.setValidatorCompiler(TypeBoxValidatorCompiler);
    strictScope.setSchemaErrorFormatter((problems, dataVar) => {
      const [first] = problems;
      const where = `${dataVar}${first?.instancePath ?? ''}`;
      const message = first?.message ?? 'is not valid';
      if (message === 'Expected union value') return new Error(`${where} has a value of the wrong type.`);
      if (message === 'Unexpected property') return new Error(`${where} is not a field this route takes.`);
      return new Error(`${where}: ${message}.`);
    });
    const strict = strictScope.withTypeProvider<TypeBoxTypeProvider>();
    const errors = { '4xx': ErrorResponseSchema, '5xx': ErrorResponseSchema };

    /** Platform admins only, and on the platform host only (the check the services repeat, before anything is done). */
    const platformAdminHere = (request: FastifyRequest, auth: RequestAuth, what: string): void => {
      requirePlatformAdmin(auth, what);
      if (request.tenant) throw new PluraError('forbidden', `Tenants are managed on the platform host only (${what}).`);
    };

    strict.get('/api/v1/tenants', { schema: { response: { 200: TenantListSchema, ...errors } } }, async (request, reply) =>
      api(request, reply, async (auth) => {
        platformAdminHere(request, auth, 'list tenants');
        return { tenants: await listTenantsForAdmin(auth.ctx) };
      }),
    );

    strict.post('/api/v1/tenants', { schema: { body: CreateTenantBodySchema, response: { 201: TenantAdminSchema, ...errors } } }, async (request, reply) => {
      const tenant = await api(request, reply, async (auth) => {
        platformAdminHere(request, auth, 'create tenants');
        return createTenantAsAdmin(auth.ctx, request.body);
      });
      // The new hosts answer on this node at once, not at the next poll.
      await refreshTenants();
      return reply.code(201).send(tenant);
    });

    strict.get('/api/v1/tenants/:slug', { schema: { params: TenantParamsSchema, response: { 200: TenantAdminSchema, ...errors } } }, async (request, reply) =>
      api(request, reply, async (auth) => {
        platformAdminHere(request, auth, 'see a tenant');
        return getTenantForAdmin(auth.ctx, request.params.slug);
      }),
    );

    strict.patch(
      '/api/v1/tenants/:slug',
      { schema: { params: TenantParamsSchema, body: UpdateTenantBodySchema, response: { 200: TenantAdminSchema, ...errors } } },
      async (request, reply) => {
        const tenant = await api(request, reply, async (auth) => {
          platformAdminHere(request, auth, 'change tenants');
          return updateTenantAsAdmin(auth.ctx, request.params.slug, request.body);
        });
        await refreshTenants();
        return tenant;
      },
    );

    // The tenant's super users (manage_tenant), on its hosts or as a platform admin acting in it.
    strict.get('/api/v1/tenant/profile', { schema: { response: { 200: OwnTenantSchema, ...errors } } }, async (request, reply) =>
      api(request, reply, async (auth) => getOwnTenant(auth.ctx)),
    );

    strict.patch('/api/v1/tenant', { schema: { body: OwnTenantBodySchema, response: { 200: OwnTenantSchema, ...errors } } }, async (request, reply) => {
      const tenant = await api(request, reply, (auth) => updateOwnTenant(auth.ctx, request.body));
      await refreshTenants();
      return tenant;
    });

    strict.get('/api/v1/tenant/settings', { schema: { response: { 200: TenantSettingsSchema, ...errors } } }, async (request, reply) =>
      api(request, reply, async (auth) => ({ settings: listTenantSettings(auth.ctx) })),
    );

    strict.put('/api/v1/tenant/settings', { schema: { body: TenantSettingsBodySchema, response: { 200: TenantSettingsSchema, ...errors } } }, async (request, reply) =>
      api(request, reply, async (auth) => ({ settings: await changeTenantSettings(auth.ctx, request.body.settings) })),
    );

    // The logo is the raw image as the body. Every body is read here (at most LOGO_MAX_BYTES), so that
    // the route itself answers what it refuses (an SVG, JSON, no image) with a clear 415.
    await strictScope.register(async (logoScope) => {
      logoScope.addContentTypeParser([...LOGO_MEDIA_TYPES], { parseAs: 'buffer', bodyLimit: LOGO_MAX_BYTES }, (_request, body, done) => done(null, body));
      logoScope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LOGO_MAX_BYTES }, (_request, body, done) => done(null, body));
      logoScope.setErrorHandler((error: FastifyError) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          throw new PluraError('payload_too_large', `A logo may be at most ${LOGO_MAX_BYTES / 1024} KB.`, { cause: error });
        }
        throw error;
      });

      logoScope.put('/api/v1/tenant/logo', { bodyLimit: LOGO_MAX_BYTES, schema: { response: { 200: LogoSchema, ...errors } } }, async (request, reply) => {
        const logo = await api(request, reply, (auth) => setOwnTenantLogo(auth.ctx, request.headers['content-type'], request.body));
        await refreshTenants();
        return logo;
      });

      logoScope.delete('/api/v1/tenant/logo', async (request, reply) => {
        await api(request, reply, (auth) => removeOwnTenantLogo(auth.ctx));
        await refreshTenants();
        return reply.code(204).send();
      });
    });
  });
};

import { createReadStream, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { PluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import { presentTenantPublicFace, type Tenant } from './tenant.js';
import { ErrorResponseSchema, TenantPublicFaceSchema, type TenantPublicFaceResponse } from './tenancy.schema.js';

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

/** The tenant's public face: what a login page needs, nothing secret. */
export const tenancyRoutes: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
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
};

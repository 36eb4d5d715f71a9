import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { restToken } from '../access/access.routes.js';
import { withRequestContext, type RequestContextDeps } from '../http/request-context.js';
import { createSite, deleteSite, getSite, javascriptTag, listSitesFor, updateSite, type SiteSettingsInput } from './sites-access.service.js';

const SiteId = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const SiteBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  urls: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1 })),
  timezone: Type.Optional(Type.String()),
  currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3 })),
  ecommerce: Type.Optional(Type.Boolean()),
  siteSearch: Type.Optional(Type.Boolean()),
  excludedIps: Type.Optional(Type.String()),
  excludedParameters: Type.Optional(Type.String()),
  excludedUserAgents: Type.Optional(Type.String()),
  excludedReferrers: Type.Optional(Type.String()),
  excludeUnknownUrls: Type.Optional(Type.Boolean()),
  keepUrlFragments: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
  type: Type.Optional(Type.String()),
  group: Type.Optional(Type.String()),
  sensitiveDataRole: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('write'), Type.Literal('none')])),
});

function toInput(body: Static<typeof SiteBody>): SiteSettingsInput {
  return { ...body };
}

/** REST for sites; the same services (and so the same policy) as SitesManager. */
export async function sitesRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const api = withRequestContext.bind(null, deps);

  app.get('/api/v1/sites', async (request, reply) =>
    api(request, reply, { surface: 'api', token: restToken(request) }, async (auth) => ({ sites: await listSitesFor(auth.ctx, 'view_reports') })),
  );
  app.post('/api/v1/sites', { schema: { body: SiteBody } }, async (request, reply) => {
    const site = await api(request, reply, { surface: 'api', token: restToken(request) }, (auth) => createSite(auth.ctx, toInput(request.body)));
    return reply.code(201).send(site);
  });
  app.get('/api/v1/sites/:id', { schema: { params: SiteId } }, async (request, reply) =>
    api(request, reply, { surface: 'api', token: restToken(request) }, (auth) => getSite(auth.ctx, request.params.id)),
  );
  app.patch('/api/v1/sites/:id', { schema: { params: SiteId, body: SiteBody } }, async (request, reply) =>
    api(request, reply, { surface: 'api', token: restToken(request) }, (auth) => updateSite(auth.ctx, request.params.id, toInput(request.body))),
  );
  app.delete('/api/v1/sites/:id', { schema: { params: SiteId } }, async (request, reply) => {
    await api(request, reply, { surface: 'api', token: restToken(request) }, (auth) => deleteSite(auth.ctx, request.params.id));
    return reply.code(204).send();
  });
  app.get('/api/v1/sites/:id/tracking-code', { schema: { params: SiteId } }, async (request, reply) =>
    api(request, reply, { surface: 'api', token: restToken(request) }, async (auth) => {
      await getSite(auth.ctx, request.params.id);
      return { code: javascriptTag(request.params.id, `${request.protocol}://${request.host}`) };
    }),
  );
}

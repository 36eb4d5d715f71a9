import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { isPluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { assertIpNotBlocked, bruteForceRule, recordLoginFailure } from '../access/brute-force.js';
import { identityDbFor, settingsFor } from '../access/context.js';
import { withRequestContext, withRequestScope, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { createScimToken, findScimToken, listScimTokens, revokeScimToken } from './scim-tokens.js';
import {
  SCHEMAS,
  SCIM_CONTENT_TYPE,
  ScimError,
  createScimGroup,
  createScimUser,
  deleteScimGroup,
  deleteScimUser,
  getScimGroup,
  getScimUser,
  listScimGroups,
  listScimUsers,
  patchScimGroup,
  patchScimUser,
  readListQuery,
  readProjection,
  replaceScimGroup,
  replaceScimUser,
  resourceTypes,
  schemaDocuments,
  scimErrorBody,
  scimTypeOf,
  serviceProviderConfig,
  type ScimCall,
  type ScimType,
} from './scim.service.js';

const PREFIX = '/scim/v2';
const BEARER = /^bearer\s+(\S+)\s*$/i;

type Query = Record<string, unknown>;

function queryOf(request: FastifyRequest): Query {
  return (request.query ?? {}) as Query;
}

/** A thrown value as a SCIM error (RFC 7644 §3.12); unknown failures are a 500 that says nothing more. */
function asScimError(error: unknown): { status: number; scimType: ScimType | null; detail: string; headers: Readonly<Record<string, string>> } {
  if (error instanceof ScimError) return { status: error.status, scimType: error.scimType, detail: error.message, headers: error.headers };
  if (isPluraError(error)) return { status: error.status, scimType: scimTypeOf(error), detail: error.message, headers: error.headers };
  const fastify = error as Partial<FastifyError> | null;
  const status = typeof fastify?.statusCode === 'number' ? fastify.statusCode : 500;
  if (status >= 400 && status < 500) {
    const syntax = fastify?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastify?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError;
    const scimType: ScimType | null = syntax ? 'invalidSyntax' : fastify?.validation ? 'invalidValue' : null;
    return { status, scimType, detail: typeof fastify?.message === 'string' ? fastify.message : 'Bad request.', headers: {} };
  }
  return { status: 500, scimType: null, detail: 'The server failed to answer this request.', headers: {} };
}

/**
 * SCIM 2.0 at `/scim/v2` on tenant hosts (when `[SCIM] enabled`), authenticated by
 * the tenant's SCIM bearer tokens; and the REST routes that manage those tokens.
 */
export async function scimRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const { platform } = deps;

  // Its own scope: SCIM bodies, errors and unknown paths all speak SCIM.
  await root.register(
    async (scim) => {
      scim.addContentTypeParser(SCIM_CONTENT_TYPE, { parseAs: 'string' }, scim.getDefaultJsonParser('error', 'error'));
      scim.setErrorHandler((error, request, reply) => {
        const { status, scimType, detail, headers } = asScimError(error);
        if (status >= 500) request.log.error({ err: error }, 'SCIM request failed');
        return reply.code(status).headers(headers).type(SCIM_CONTENT_TYPE).send(scimErrorBody(status, scimType, detail));
      });
      scim.setNotFoundHandler((request, reply) =>
        reply.code(404).type(SCIM_CONTENT_TYPE).send(scimErrorBody(404, null, `No SCIM endpoint ${request.method} ${request.url.split('?')[0] ?? ''}.`)),
      );

      /** Enabled, tenant host, valid token: then `fn` runs in the tenant's store as the system actor `scim`. */
      const serve = <T>(request: FastifyRequest, fn: (call: ScimCall) => Promise<T>): Promise<T> => {
        const tenant = request.tenant;
        if (!tenant) throw new ScimError(404, null, 'SCIM is served on tenant hosts only.');
        if (!platform.settings.forTenant(tenant.slug).get('SCIM.enabled')) throw new ScimError(404, null, 'SCIM is not enabled for this tenant ([SCIM] enabled).');
        return withRequestScope(platform, request, async (scope) => {
          const ip = request.ip || null;
          const header = request.headers.authorization;
          const match = typeof header === 'string' ? BEARER.exec(header) : null;
          const challenge = { 'WWW-Authenticate': 'Bearer realm="SCIM"' };
          if (!match?.[1]) throw new ScimError(401, null, 'Send a SCIM token of this tenant: Authorization: Bearer <token>.', challenge);
          const db = identityDbFor(platform, scope);
          // Guessing tokens counts like failed sign-ins from the same address.
          await assertIpNotBlocked(db, ip, bruteForceRule(settingsFor(platform, scope)));
          if ((await findScimToken(platform, scope, match[1])) === null) {
            await recordLoginFailure(db, ip, null);
            throw new ScimError(401, null, 'The SCIM token is not valid for this tenant (unknown or revoked).', { ...challenge, 'WWW-Authenticate': 'Bearer realm="SCIM", error="invalid_token"' });
          }
          const baseUrl = `${request.protocol}://${request.host}${PREFIX}`;
          return fn({ ctx: { platform, scope, actor: { kind: 'system', name: 'scim' }, ip }, db, baseUrl });
        });
      };
      const send = (reply: FastifyReply, status: number, body: unknown): FastifyReply => reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
      const list = (resources: Record<string, unknown>[]) => ({ schemas: [SCHEMAS.listResponse], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });
      const idOf = (request: FastifyRequest): string => {
        const params = request.params as { id?: unknown };
        if (typeof params.id !== 'string' || params.id === '' || params.id.length > 200) throw new ScimError(404, null, 'No such resource.');
        return params.id;
      };

      scim.get('/ServiceProviderConfig', async (request, reply) => send(reply, 200, await serve(request, (call) => Promise.resolve(serviceProviderConfig(call.baseUrl)))));
      scim.get('/ResourceTypes', async (request, reply) => send(reply, 200, await serve(request, (call) => Promise.resolve(list(resourceTypes(call.baseUrl))))));
      scim.get('/ResourceTypes/:id', async (request, reply) => {
        const id = idOf(request);
        const found = await serve(request, (call) => Promise.resolve(resourceTypes(call.baseUrl).find((type) => type['id'] === id)));
        if (!found) throw new ScimError(404, null, `No resource type "${id.slice(0, 100)}"; there are User and Group.`);
        return send(reply, 200, found);
      });
      scim.get('/Schemas', async (request, reply) => send(reply, 200, await serve(request, (call) => Promise.resolve(list(schemaDocuments(call.baseUrl))))));
      scim.get('/Schemas/:id', async (request, reply) => {
        const id = idOf(request);
        const found = await serve(request, (call) => Promise.resolve(schemaDocuments(call.baseUrl).find((schema) => schema['id'] === id)));
        if (!found) throw new ScimError(404, null, `No schema "${id.slice(0, 200)}".`);
        return send(reply, 200, found);
      });

      // Users
      scim.get('/Users', async (request, reply) => send(reply, 200, await serve(request, (call) => listScimUsers(call, readListQuery(queryOf(request))))));
      scim.post('/Users/.search', async (request, reply) => send(reply, 200, await serve(request, (call) => listScimUsers(call, readSearchBody(request.body)))));
      scim.get('/Users/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => getScimUser(call, idOf(request), readProjection(queryOf(request))))));
      scim.post('/Users', async (request, reply) => {
        const created = await serve(request, (call) => createScimUser(call, request.body, readProjection(queryOf(request))));
        const meta = created.resource['meta'] as { location?: string } | undefined;
        if (meta?.location) void reply.header('Location', meta.location);
        return send(reply, 201, created.resource);
      });
      scim.put('/Users/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => replaceScimUser(call, idOf(request), request.body, readProjection(queryOf(request))))));
      scim.patch('/Users/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => patchScimUser(call, idOf(request), request.body, readProjection(queryOf(request))))));
      scim.delete('/Users/:id', async (request, reply) => {
        await serve(request, (call) => deleteScimUser(call, idOf(request)));
        return reply.code(204).send();
      });

      // Groups
      scim.get('/Groups', async (request, reply) => send(reply, 200, await serve(request, (call) => listScimGroups(call, readListQuery(queryOf(request))))));
      scim.post('/Groups/.search', async (request, reply) => send(reply, 200, await serve(request, (call) => listScimGroups(call, readSearchBody(request.body)))));
      scim.get('/Groups/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => getScimGroup(call, idOf(request), readProjection(queryOf(request))))));
      scim.post('/Groups', async (request, reply) => {
        const created = await serve(request, (call) => createScimGroup(call, request.body, readProjection(queryOf(request))));
        const meta = created.resource['meta'] as { location?: string } | undefined;
        if (meta?.location) void reply.header('Location', meta.location);
        return send(reply, 201, created.resource);
      });
      scim.put('/Groups/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => replaceScimGroup(call, idOf(request), request.body, readProjection(queryOf(request))))));
      scim.patch('/Groups/:id', async (request, reply) => send(reply, 200, await serve(request, (call) => patchScimGroup(call, idOf(request), request.body, readProjection(queryOf(request))))));
      scim.delete('/Groups/:id', async (request, reply) => {
        await serve(request, (call) => deleteScimGroup(call, idOf(request)));
        return reply.code(204).send();
      });
    },
    { prefix: PREFIX },
  );

  // Token management for super users (REST errors, like the rest of /api/v1).
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const api = <T>(request: FastifyRequest, reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, fn);

  app.get('/api/v1/scim/tokens', async (request, reply) => api(request, reply, async (auth) => ({ tokens: await listScimTokens(auth.ctx) })));
  app.post('/api/v1/scim/tokens', { schema: { body: Type.Object({ description: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }) } }, async (request, reply) => {
    const created = await api(request, reply, (auth) => createScimToken(auth.ctx, request.body.description));
    return reply.code(201).send({ token: created.token, ...created.info });
  });
  app.delete('/api/v1/scim/tokens/:id', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, async (request, reply) => {
    await api(request, reply, (auth) => revokeScimToken(auth.ctx, request.params.id));
    return reply.code(204).send();
  });
}

/** A `.search` body (RFC 7644 §3.4.3): the list parameters as JSON. */
function readSearchBody(body: unknown): ReturnType<typeof readListQuery> {
  if (body === undefined || body === null) return readListQuery({});
  if (typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'A search body must be a SearchRequest object.');
  const fields = body as Record<string, unknown>;
  const schemas = fields['schemas'];
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.includes(SCHEMAS.searchRequest))) {
    throw new ScimError(400, 'invalidSyntax', `A search body must use the schema ${SCHEMAS.searchRequest}.`);
  }
  return readListQuery(fields);
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { actorForUser } from '../access/actors.js';
import { identityDbFor } from '../access/context.js';
import { authorize, requireUser, scopeContext } from '../access/users.service.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { getUserAttributes, setUserAttributes } from './attributes.js';
import { MAX_TEMPLATE_LENGTH, getGroupPolicy, policyOutcomeFor, setGroupPolicy } from './data-policy.js';
import { embedRoutes } from './embed.routes.js';

const GroupParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const LoginParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * Attributes and data policies over REST (`/api/v1/groups/:id/policy`,
 * `/api/v1/users/:login/attributes`, `/api/v1/users/:login/data-policy`), and the
 * signed embeds (`/embed/dashboard/:id`).
 */
export async function policyRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const api = <T>(request: FastifyRequest, reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, (auth) => {
      if (auth.ctx.actor.kind === 'anonymous') throw new PluraError('unauthenticated', 'Sign in first, or send a token (Authorization: Bearer <token_auth>).');
      return fn(auth);
    });

  // Data policies of tenant groups: platform admins, on the platform host.
  app.get('/api/v1/groups/:id/policy', { schema: { params: GroupParams } }, async (request, reply) => api(request, reply, (auth) => getGroupPolicy(auth.ctx, request.params.id)));
  app.put(
    '/api/v1/groups/:id/policy',
    { schema: { params: GroupParams, body: Type.Object({ template: Type.String({ minLength: 1, maxLength: MAX_TEMPLATE_LENGTH * 2 }) }, { additionalProperties: false }) } },
    async (request, reply) => api(request, reply, (auth) => setGroupPolicy(auth.ctx, request.params.id, request.body.template)),
  );
  app.delete('/api/v1/groups/:id/policy', { schema: { params: GroupParams } }, async (request, reply) => {
    await api(request, reply, (auth) => setGroupPolicy(auth.ctx, request.params.id, null));
    return reply.code(204).send();
  });

  // Attributes of a tenant user: the user itself or the tenant's super users read them; super users change them.
  app.get('/api/v1/users/:login/attributes', { schema: { params: LoginParams } }, async (request, reply) => api(request, reply, (auth) => getUserAttributes(auth.ctx, request.params.login)));
  app.put(
    '/api/v1/users/:login/attributes',
    { schema: { params: LoginParams, body: Type.Object({ attributes: Type.Record(Type.String(), Type.String()) }, { additionalProperties: false }) } },
    async (request, reply) => api(request, reply, (auth) => setUserAttributes(auth.ctx, request.params.login, request.body.attributes)),
  );

  // Which data policies restrict a user, and the segment its reports get: the user itself or the tenant's super users.
  app.get('/api/v1/users/:login/data-policy', { schema: { params: LoginParams } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      const ctx = auth.ctx;
      if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Data policies restrict tenant users: call this on a tenant host (or act in a tenant).');
      const db = identityDbFor(ctx.platform, ctx.scope);
      const user = await requireUser(db, request.params.login);
      const actor = ctx.actor;
      const self = actor.kind === 'tenant_user' && actor.userId === user.id;
      if (!self) authorize(ctx, 'manage_tenant', scopeContext(ctx.scope), `see the data policy of ${user.login}`);
      const outcome = await policyOutcomeFor(ctx.platform, ctx.scope, await actorForUser(ctx.scope, db, user), user.id);
      return { login: user.login, applies: outcome.applies, reason: outcome.reason, policies: outcome.policies, segment: outcome.segment?.definition ?? null };
    }),
  );

  await embedRoutes(root, deps);
}

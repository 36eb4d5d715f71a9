import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import {
  archiveCollection,
  archiveItem,
  copyCollection,
  copyItem,
  deleteCollection,
  deleteItem,
  explainCollection,
  listCollectionItems,
  moveCollection,
  moveItem,
  unarchiveCollection,
  unarchiveItem,
  updateCollection,
} from './collections-ops.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const IdParams = Type.Object({ id: Id });
const Name = Type.String({ minLength: 1, maxLength: 200 });
/** `tenant`: the platform host's way to name the tenant a platform admin acts in (read by the request context). */
const Acting = { tenant: Type.Optional(Type.String({ maxLength: 200 })) };

/**
 * Collection and item operations over REST: rename, move, copy, archive, unarchive,
 * delete, and `explain`. Every decision is the policy module's (see collections-ops.ts).
 */
export async function collectionOpsRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const api = <T>(request: Parameters<typeof withRequestContext>[1], reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, (auth) => {
      if (auth.ctx.actor.kind === 'anonymous') throw new PluraError('unauthenticated', 'Sign in first.');
      return fn(auth);
    });

  app.patch(
    '/api/v1/collections/:id',
    { schema: { params: IdParams, body: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Type.String({ maxLength: 2000 })), ...Acting }, { additionalProperties: false }) } },
    async (request, reply) => api(request, reply, (auth) => updateCollection(auth.ctx, request.params.id, request.body)),
  );
  app.post('/api/v1/collections/:id/move', { schema: { params: IdParams, body: Type.Object({ parentId: Id, ...Acting }, { additionalProperties: false }) } }, async (request, reply) =>
    api(request, reply, (auth) => moveCollection(auth.ctx, request.params.id, request.body.parentId)),
  );
  app.post('/api/v1/collections/:id/copy', { schema: { params: IdParams, body: Type.Object({ parentId: Id, name: Type.Optional(Name), ...Acting }, { additionalProperties: false }) } }, async (request, reply) => {
    const copy = await api(request, reply, (auth) => copyCollection(auth.ctx, request.params.id, request.body));
    return reply.code(201).send(copy);
  });
  app.post('/api/v1/collections/:id/archive', { schema: { params: IdParams } }, async (request, reply) => api(request, reply, (auth) => archiveCollection(auth.ctx, request.params.id)));
  app.post('/api/v1/collections/:id/unarchive', { schema: { params: IdParams } }, async (request, reply) => api(request, reply, (auth) => unarchiveCollection(auth.ctx, request.params.id)));
  app.delete('/api/v1/collections/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await api(request, reply, (auth) => deleteCollection(auth.ctx, request.params.id));
    return reply.code(204).send();
  });
  app.get('/api/v1/collections/:id/items', { schema: { params: IdParams, querystring: Type.Object({ archived: Type.Optional(Type.Boolean()), ...Acting }) } }, async (request, reply) =>
    api(request, reply, async (auth) => ({ items: await listCollectionItems(auth.ctx, request.params.id, request.query.archived ?? false) })),
  );
  app.get('/api/v1/collections/:id/explain', { schema: { params: IdParams, querystring: Type.Object({ user: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...Acting }) } }, async (request, reply) =>
    api(request, reply, (auth) => explainCollection(auth.ctx, request.params.id, request.query.user)),
  );

  app.post('/api/v1/items/:id/move', { schema: { params: IdParams, body: Type.Object({ collectionId: Id, ...Acting }, { additionalProperties: false }) } }, async (request, reply) =>
    api(request, reply, (auth) => moveItem(auth.ctx, request.params.id, request.body.collectionId)),
  );
  app.post('/api/v1/items/:id/copy', { schema: { params: IdParams, body: Type.Object({ collectionId: Id, name: Type.Optional(Name), ...Acting }, { additionalProperties: false }) } }, async (request, reply) => {
    const copy = await api(request, reply, (auth) => copyItem(auth.ctx, request.params.id, request.body));
    return reply.code(201).send(copy);
  });
  app.post('/api/v1/items/:id/archive', { schema: { params: IdParams } }, async (request, reply) => api(request, reply, (auth) => archiveItem(auth.ctx, request.params.id)));
  app.post('/api/v1/items/:id/unarchive', { schema: { params: IdParams } }, async (request, reply) => api(request, reply, (auth) => unarchiveItem(auth.ctx, request.params.id)));
  app.delete('/api/v1/items/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await api(request, reply, (auth) => deleteItem(auth.ctx, request.params.id));
    return reply.code(204).send();
  });
}

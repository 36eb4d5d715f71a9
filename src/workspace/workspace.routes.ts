import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError, isPluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { callMethod } from '../matomo-api/matomo-api.routes.js';
import { parseMatomoQueryString } from '../matomo-api/params.js';
import type { MatomoValue } from '../matomo-api/render.js';
import { createGroup, deleteGroup, listGroupMembers, listGroups, setGroupMembership } from './groups.service.js';
import {
  accessToCollection,
  createCollection,
  createItem,
  listCollections,
  listItems,
  listPermissions,
  presentItem,
  requireCollection,
  requireItem,
  setPermission,
  updateItem,
  type DashboardDefinition,
  type SavedReportDefinition,
} from './workspace.service.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const GroupParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const MemberParams = Type.Object({ id: Type.Integer({ minimum: 1 }), login: Type.String({ minLength: 1, maxLength: 200 }) });
const ItemKindSchema = Type.Union([Type.Literal('dashboard'), Type.Literal('saved_report')]);
/** What a viewer chooses when running a report: which site and period (the definition holds the rest). */
const RunQuery = Type.Object({
  idSite: Type.Optional(Type.String({ maxLength: 200 })),
  period: Type.Optional(Type.String({ maxLength: 20 })),
  date: Type.Optional(Type.String({ maxLength: 50 })),
});

/** Runs one report definition as the viewer, in the viewer's own tenant: the same data the Matomo API answers. */
export async function runReport(auth: RequestAuth, reply: FastifyReply, report: SavedReportDefinition, choice: { idSite?: string | undefined; period?: string | undefined; date?: string | undefined }): Promise<MatomoValue> {
  const query = new URLSearchParams({ ...report.params });
  query.set('module', 'API');
  query.set('method', report.method);
  query.set('format', 'json');
  for (const [key, value] of Object.entries(choice)) if (value !== undefined && value !== '') query.set(key, value);
  if (report.segment) query.set('segment', report.segment);
  return callMethod({ params: parseMatomoQueryString(query.toString()), auth, ctx: auth.ctx, reply });
}

/** `/api/v1/groups`, `/api/v1/collections`, `/api/v1/items`: the workspace over REST. */
export async function workspaceRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const signedIn = (auth: RequestAuth): void => {
    if (auth.ctx.actor.kind === 'anonymous') throw new PluraError('unauthenticated', 'Sign in first.');
  };
  // Workspaces belong to people: every route needs a signed-in user (or a token).
  const api = <T>(request: Parameters<typeof withRequestContext>[1], reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, (auth) => {
      signedIn(auth);
      return fn(auth);
    });

  // Groups: platform admins define them; tenant super users see tenant groups and manage their own users' membership.
  app.get('/api/v1/groups', async (request, reply) =>
    api(request, reply, async (auth) => {
      signedIn(auth);
      const actor = auth.ctx.actor;
      const inTenant = auth.ctx.scope.kind === 'tenant';
      if (actor.kind === 'platform_user' && !inTenant) return { groups: await listGroups(deps.platform) };
      return { groups: await listGroups(deps.platform, 'tenant') };
    }),
  );
  app.post(
    '/api/v1/groups',
    { schema: { body: Type.Object({ kind: Type.Union([Type.Literal('tenant'), Type.Literal('internal')]), name: Type.String({ minLength: 1, maxLength: 100 }), description: Type.Optional(Type.String({ maxLength: 500 })) }) } },
    async (request, reply) => {
      const group = await api(request, reply, async (auth) => {
        requirePlatformAdminHere(auth);
        return createGroup(deps.platform, auth.ctx.actor, request.body);
      });
      return reply.code(201).send(group);
    },
  );
  app.delete('/api/v1/groups/:id', { schema: { params: GroupParams } }, async (request, reply) => {
    await api(request, reply, async (auth) => {
      requirePlatformAdminHere(auth);
      await deleteGroup(deps.platform, auth.ctx.actor, request.params.id);
    });
    return reply.code(204).send();
  });
  app.get('/api/v1/groups/:id/members', { schema: { params: GroupParams } }, async (request, reply) =>
    api(request, reply, async (auth) => ({ members: await listGroupMembers(auth.ctx, request.params.id) })),
  );
  for (const [method, member] of [['put', true], ['delete', false]] as const) {
    app[method]('/api/v1/groups/:id/members/:login', { schema: { params: MemberParams } }, async (request, reply) => {
      await api(request, reply, (auth) => setGroupMembership(auth.ctx, request.params.id, request.params.login, member));
      return reply.code(204).send();
    });
  }

  // Collections.
  app.get('/api/v1/collections', { schema: { querystring: Type.Object({ archived: Type.Optional(Type.Boolean()) }) } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      signedIn(auth);
      return { collections: await listCollections(auth.ctx, { archived: request.query.archived ?? false }) };
    }),
  );
  app.post(
    '/api/v1/collections',
    { schema: { body: Type.Object({ parentId: Type.String({ minLength: 1, maxLength: 64 }), name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Type.String({ maxLength: 2000 })) }) } },
    async (request, reply) => {
      const collection = await api(request, reply, (auth) => createCollection(auth.ctx, request.body));
      return reply.code(201).send(collection);
    },
  );
  app.get('/api/v1/collections/:id', { schema: { params: IdParams } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      const located = await requireCollection(auth.ctx, request.params.id, 'view');
      const children = await located.db.selectFrom('collection').selectAll().where('parent_id', '=', located.row.id).where('archived_at', 'is', null).orderBy('name').execute();
      const visibleChildren = [];
      for (const child of children) {
        const access = await accessToCollection(auth.ctx, child, located.where);
        if (access.level !== 'none') visibleChildren.push({ id: child.id, name: child.name, access: access.level });
      }
      return {
        id: located.row.id,
        kind: located.row.kind,
        parentId: located.row.parent_id,
        name: located.row.name,
        description: located.row.description,
        archived: located.row.archived_at !== null,
        access: located.level,
        reason: located.reason,
        children: visibleChildren,
        items: await listItems(auth.ctx, located.row.id),
      };
    }),
  );
  app.get('/api/v1/collections/:id/permissions', { schema: { params: IdParams } }, async (request, reply) =>
    api(request, reply, async (auth) => ({ permissions: await listPermissions(auth.ctx, request.params.id) })),
  );
  app.put(
    '/api/v1/collections/:id/permissions',
    { schema: { params: IdParams, body: Type.Object({ groupId: Type.Integer({ minimum: 1 }), level: Type.Union([Type.Literal('none'), Type.Literal('view'), Type.Literal('curate')]) }) } },
    async (request, reply) => api(request, reply, async (auth) => ({ permissions: await setPermission(auth.ctx, request.params.id, request.body.groupId, request.body.level) })),
  );

  // Dashboards and saved reports.
  app.post(
    '/api/v1/items',
    {
      schema: {
        body: Type.Object({
          collectionId: Type.String({ minLength: 1, maxLength: 64 }),
          kind: ItemKindSchema,
          name: Type.String({ minLength: 1, maxLength: 200 }),
          description: Type.Optional(Type.String({ maxLength: 2000 })),
          definition: Type.Unknown(),
        }),
      },
    },
    async (request, reply) => {
      const item = await api(request, reply, (auth) => createItem(auth.ctx, request.body));
      return reply.code(201).send(item);
    },
  );
  app.get('/api/v1/items/:id', { schema: { params: IdParams } }, async (request, reply) =>
    api(request, reply, async (auth) => presentItem((await requireItem(auth.ctx, request.params.id, 'view')).row)),
  );
  app.patch(
    '/api/v1/items/:id',
    { schema: { params: IdParams, body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), description: Type.Optional(Type.String({ maxLength: 2000 })), definition: Type.Optional(Type.Unknown()) }) } },
    async (request, reply) => api(request, reply, (auth) => updateItem(auth.ctx, request.params.id, request.body)),
  );
  // The data of a saved report, or of every widget of a dashboard, for the viewer's own tenant.
  app.get('/api/v1/items/:id/data', { schema: { params: IdParams, querystring: RunQuery } }, async (request, reply) =>
    api(request, reply, async (auth) => {
      signedIn(auth);
      const { row } = await requireItem(auth.ctx, request.params.id, 'view');
      const item = presentItem(row);
      if (item.kind === 'saved_report') return { id: item.id, data: await runReport(auth, reply, item.definition as SavedReportDefinition, request.query) };
      const widgets = [];
      for (const widget of (item.definition as DashboardDefinition).widgets) {
        try {
          const report = widget.report ?? (presentItem((await requireItem(auth.ctx, widget.item ?? '', 'view')).row).definition as SavedReportDefinition);
          widgets.push({ id: widget.id, visualization: report.visualization, data: await runReport(auth, reply, report, request.query) });
        } catch (error) {
          if (!isPluraError(error)) throw error;
          widgets.push({ id: widget.id, error: { code: error.code, message: error.message } });
        }
      }
      return { id: item.id, widgets };
    }),
  );
}

function requirePlatformAdminHere(auth: RequestAuth): void {
  const actor = auth.ctx.actor;
  if (actor.kind === 'platform_user' && actor.platformAdmin && auth.ctx.scope.kind === 'platform') return;
  throw new PluraError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', 'Only platform admins define groups, on the platform host.');
}

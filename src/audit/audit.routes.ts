import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authorize, scopeContext } from '../access/users.service.js';
import { restToken } from '../access/access.routes.js';
import { withRequestContext, type RequestContextDeps } from '../http/request-context.js';
import { scopeAuditDb } from './audit.service.js';
import { auditEntriesToCsv } from './audit.export.js';
import { findAuditEntries, verifyAuditChain } from './audit.store.js';

const AuditQuery = Type.Object({
  user: Type.Optional(Type.String()),
  from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}' })),
  to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}' })),
  action: Type.Optional(Type.String()),
  pattern: Type.Optional(Type.String()),
  site: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: -1 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  token_auth: Type.Optional(Type.String()),
  tenant: Type.Optional(Type.String()),
});

/** The audit log of the request's scope (a tenant's, or the platform's on the platform host). */
export async function auditRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/v1/audit', { schema: { querystring: AuditQuery } }, async (request, reply) => {
    const query = request.query;
    const result = await withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, async (auth) => {
      authorize(auth.ctx, auth.ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(auth.ctx.scope), 'read the audit log');
      return findAuditEntries(scopeAuditDb(auth.ctx), {
        user: query.user,
        from: query.from,
        to: query.to,
        actions: query.action ? query.action.split(',') : undefined,
        pattern: query.pattern,
        siteId: query.site,
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      });
    });
    if (query.format === 'csv') {
      return reply.type('text/csv; charset=utf-8').header('Content-Disposition', 'attachment; filename=audit-log.csv').send(auditEntriesToCsv(result.entries));
    }
    return result;
  });

  app.get('/api/v1/audit/verify', async (request, reply) =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, async (auth) => {
      authorize(auth.ctx, auth.ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(auth.ctx.scope), 'verify the audit log');
      return verifyAuditChain(scopeAuditDb(auth.ctx));
    }),
  );
}

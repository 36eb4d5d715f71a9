import { PluraError } from '../core/errors.js';
import type { MatomoModule } from '../matomo-api/method.js';
import { authorize, scopeContext } from '../access/users.service.js';
import { scopeAuditDb } from './audit.service.js';
import { findAuditEntries } from './audit.store.js';

/** Plura's AuditLog module on the Matomo API: super users (platform admins on the platform host) read their log. */
export const auditLogApi: MatomoModule = {
  async getAuditLog({ ctx, params, reply }) {
    authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), 'read the audit log');
    const siteId = params.getInt('idSite');
    const limit = params.getInt('filter_limit') ?? 100;
    if (limit < -1) throw new PluraError('invalid_input', 'filter_limit must be -1 or more.');
    const { entries, total } = await findAuditEntries(scopeAuditDb(ctx), {
      user: params.get('userLogin') || undefined,
      from: params.get('dateFrom') || undefined,
      to: params.get('dateTo') || undefined,
      actions: params.getList('eventTypes'),
      pattern: params.get('filter_pattern') || undefined,
      siteId,
      limit,
      offset: params.getInt('filter_offset') ?? 0,
    });
    void reply.header('X-Matomo-Total-Results', String(total));
    return entries.map((entry) => ({
      id: entry.id,
      time: entry.createdAt,
      actor: entry.actor,
      actor_kind: entry.actorKind,
      tenant: entry.tenant,
      idsite: entry.siteId,
      ip: entry.ip,
      action: entry.action,
      before: entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === null ? null : JSON.stringify(entry.after),
      hash: entry.hash,
    }));
  },
};

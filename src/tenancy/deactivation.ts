import type { Kysely } from 'kysely';
import { actorLabel, type Actor } from '../access/policy.js';
import { recordPlatformAudit } from '../audit/audit.service.js';
import { appendAuditEntry } from '../audit/audit.store.js';
import type { AuditTables } from '../audit/audit.tables.js';
import type { Platform } from '../platform/platform.js';
import { releaseUsers, suspendUsers } from './suspension.js';
import type { Tenant } from './tenant.js';

export interface TenantDeactivation {
  readonly tenant: Tenant;
  /** False when the tenant was deactivated already (nothing changed). */
  readonly changed: boolean;
  /** Users deactivated now, with their sessions ended. */
  readonly deactivated: readonly string[];
}

export interface TenantActivation {
  readonly tenant: Tenant;
  readonly changed: boolean;
  /** Users active again, tokens included. */
  readonly reactivated: readonly string[];
  /** Users still deactivated: an admin did it before, or the single-tenant strategy holds them. */
  readonly stillDeactivated: readonly string[];
}

/** Writes one entry to a tenant's own log, inside the transaction that made the change. */
export async function appendTenantAudit(db: Kysely<AuditTables>, actor: Actor, tenant: string, ip: string | null, action: string, after: unknown): Promise<void> {
  await appendAuditEntry(db, { actor: actorLabel(actor), actorKind: actor.kind, tenant, siteId: null, ip, action, before: undefined, after });
}

/**
 * Deactivates a tenant: its hosts refuse every request (tracking included: acknowledged
 * hits still reach the store) and every user of it is deactivated, sessions ended and
 * tokens refused. Nothing is deleted. The registry flips first, so a failure while
 * deactivating the users leaves the tenant shut; running it again finishes the job.
 */
export async function deactivateTenant(platform: Platform, actor: Actor, slugOrHost: string, ip: string | null = null): Promise<TenantDeactivation> {
  const before = await platform.tenants.get(slugOrHost);
  const tenant = before.status === 'deactivated' ? before : await platform.tenants.setStatus(before.slug, 'deactivated');
  const outcome = await platform.withStore(tenant, (store) =>
    suspendUsers(store.db, 'tenant', undefined, async (trx, result) => {
      if (before.status === 'active' || result.deactivated.length > 0) {
        await appendTenantAudit(trx as unknown as Kysely<AuditTables>, actor, tenant.slug, ip, 'tenant.deactivated', { usersDeactivated: result.deactivated });
      }
    }),
  );
  const changed = before.status === 'active' || outcome.deactivated.length > 0;
  if (changed) await recordPlatformAudit(platform, actor, 'tenant.deactivated', tenant.slug, { before: { status: before.status }, after: { status: 'deactivated', usersDeactivated: outcome.deactivated } }, ip);
  return { tenant, changed, deactivated: outcome.deactivated };
}

/**
 * Reactivates a tenant and exactly the users its deactivation deactivated; users an
 * admin deactivated before stay so. Users come back first, then the hosts open.
 */
export async function activateTenant(platform: Platform, actor: Actor, slugOrHost: string, ip: string | null = null): Promise<TenantActivation> {
  const before = await platform.tenants.get(slugOrHost);
  const outcome = await platform.withStore(before, (store) =>
    releaseUsers(store.db, 'tenant', async (trx, result) => {
      if (before.status === 'deactivated' || result.reactivated.length > 0) {
        await appendTenantAudit(trx as unknown as Kysely<AuditTables>, actor, before.slug, ip, 'tenant.activated', { usersReactivated: result.reactivated, stillDeactivated: result.stillDeactivated });
      }
    }),
  );
  const tenant = before.status === 'active' ? before : await platform.tenants.setStatus(before.slug, 'active');
  const changed = before.status === 'deactivated' || outcome.reactivated.length > 0;
  if (changed) await recordPlatformAudit(platform, actor, 'tenant.activated', tenant.slug, { before: { status: before.status }, after: { status: 'active', usersReactivated: outcome.reactivated } }, ip);
  return { tenant, changed, reactivated: outcome.reactivated, stillDeactivated: outcome.stillDeactivated };
}

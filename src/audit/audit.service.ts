import type { Kysely } from 'kysely';
import type { ActContext } from '../access/context.js';
import type { IdentityDb } from '../access/identity.store.js';
import { actorLabel, type Actor } from '../access/policy.js';
import type { Platform } from '../platform/platform.js';
import type { AuditTables } from './audit.tables.js';
import { appendAuditEntry } from './audit.store.js';

export interface AuditDetails {
  readonly siteId?: number | null;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * Narrows a scope database (tenant store or registry, or a transaction on one) to
 * its audit tables. Both stores hold them; see identityDbOf for why a cast is needed.
 */
export function auditDbOf(db: IdentityDb | Kysely<AuditTables>): Kysely<AuditTables> {
  return db as unknown as Kysely<AuditTables>;
}

/** The platform's own audit log (in the registry). */
export function platformAuditDb(platform: Platform): Kysely<AuditTables> {
  return platform.registry.db as unknown as Kysely<AuditTables>;
}

/** A tenant's or the platform's audit log, by scope. */
export function scopeAuditDb(ctx: Pick<ActContext, 'platform' | 'scope'>): Kysely<AuditTables> {
  return ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as Kysely<AuditTables>) : platformAuditDb(ctx.platform);
}

/**
 * Records a security-relevant event in the scope's own audit log — inside `trx`
 * when given, so the change and its entry commit together. A platform user acting
 * inside a tenant is written to the platform's log as well.
 */
export async function recordAudit(ctx: ActContext, action: string, details: AuditDetails = {}, trx?: IdentityDb): Promise<void> {
  const entry = {
    actor: actorLabel(ctx.actor),
    actorKind: ctx.actor.kind,
    tenant: ctx.scope.kind === 'tenant' ? ctx.scope.tenant.slug : null,
    siteId: details.siteId ?? null,
    ip: ctx.ip,
    action,
    before: details.before,
    after: details.after,
  };
  await appendAuditEntry(trx ? auditDbOf(trx) : scopeAuditDb(ctx), entry);
  if (ctx.scope.kind === 'tenant' && ctx.actor.kind === 'platform_user') {
    await appendAuditEntry(platformAuditDb(ctx.platform), entry);
  }
}

/** Records an event at the platform level only (tenant lifecycle, platform users). */
export async function recordPlatformAudit(
  platform: Platform,
  actor: Actor,
  action: string,
  tenant: string | null,
  details: AuditDetails = {},
  ip: string | null = null,
): Promise<void> {
  await appendAuditEntry(platformAuditDb(platform), {
    actor: actorLabel(actor),
    actorKind: actor.kind,
    tenant,
    siteId: details.siteId ?? null,
    ip,
    action,
    before: details.before,
    after: details.after,
  });
}

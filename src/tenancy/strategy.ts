import type { Kysely } from 'kysely';
import { describeError, PluraError } from '../core/errors.js';
import { isTenantStrategy, type Actor, type TenantStrategy } from '../access/policy.js';
import { recordPlatformAudit } from '../audit/audit.service.js';
import type { AuditTables } from '../audit/audit.tables.js';
import type { Platform } from '../platform/platform.js';
import { appendTenantAudit } from './deactivation.js';
import { releaseUsers, suspendUsers } from './suspension.js';

export type { TenantStrategy };

/** `single` and `multi` are accepted for the full names. */
export function parseStrategy(value: string): TenantStrategy {
  const name = value === 'single' || value === 'multi' ? `${value}-tenant` : value;
  if (!isTenantStrategy(name)) throw new PluraError('invalid_input', `The tenant strategy must be single-tenant (single) or multi-tenant (multi), not "${value}".`);
  return name;
}

export interface StrategyView {
  readonly strategy: TenantStrategy;
  readonly changedAt: string | null;
}

export interface StrategyTenantOutcome {
  readonly tenant: string;
  /** Users the switch to single-tenant deactivated (sessions ended), or the switch back reactivated. */
  readonly deactivated?: readonly string[];
  readonly reactivated?: readonly string[];
  /** Users that stay deactivated after the switch back (an admin did it, or the tenant is deactivated). */
  readonly stillDeactivated?: readonly string[];
}

export interface StrategySwitch extends StrategyView {
  readonly previous: TenantStrategy;
  readonly tenants: readonly StrategyTenantOutcome[];
}

export function readStrategy(platform: Platform): Promise<StrategyView> {
  return platform.registry.strategy();
}

/**
 * Switches the platform's tenant strategy.
 * - to single-tenant: every tenant user is deactivated (recorded per user, sessions
 *   ended, tokens refused) and shared and tenant collections are hidden; platform users
 *   and every byte of data stay as they are.
 * - to multi-tenant: every existing platform user stays a platform (internal) user, and
 *   exactly the tenant users the switch deactivated come back.
 * The registry records the strategy first, then each tenant follows; asking for the
 * strategy in force again re-applies it, which finishes a switch a failure interrupted.
 */
export async function switchStrategy(platform: Platform, actor: Actor, target: TenantStrategy, ip: string | null = null): Promise<StrategySwitch> {
  const previous = await platform.registry.setStrategy(target);
  const tenants: StrategyTenantOutcome[] = [];
  const failures: string[] = [];
  for (const tenant of await platform.tenants.list()) {
    try {
      const outcome = await platform.withStore(tenant, async (store): Promise<StrategyTenantOutcome> => {
        const audit = (trx: unknown, after: unknown): Promise<void> => appendTenantAudit(trx as Kysely<AuditTables>, actor, tenant.slug, ip, 'platform.strategy_changed', { strategy: target, ...(after as object) });
        if (target === 'single-tenant') {
          const result = await suspendUsers(store.db, 'strategy', undefined, async (trx, r) => {
            if (previous !== target || r.deactivated.length > 0) await audit(trx, { usersDeactivated: r.deactivated });
          });
          return { tenant: tenant.slug, deactivated: result.deactivated };
        }
        const result = await releaseUsers(store.db, 'strategy', async (trx, r) => {
          if (previous !== target || r.reactivated.length > 0) await audit(trx, { usersReactivated: r.reactivated, stillDeactivated: r.stillDeactivated });
        });
        return { tenant: tenant.slug, reactivated: result.reactivated, stillDeactivated: result.stillDeactivated };
      });
      tenants.push(outcome);
    } catch (error) {
      failures.push(`${tenant.slug} (${describeError(error)})`);
    }
  }
  const touched = tenants.filter((t) => (t.deactivated?.length ?? 0) + (t.reactivated?.length ?? 0) > 0);
  if (previous !== target || touched.length > 0) {
    await recordPlatformAudit(platform, actor, 'platform.strategy_changed', null, {
      before: { strategy: previous },
      after: { strategy: target, tenants: Object.fromEntries(touched.map((t) => [t.tenant, t.deactivated ?? t.reactivated ?? []])), ...(failures.length > 0 ? { failedTenants: failures } : {}) },
    }, ip);
  }
  if (failures.length > 0) {
    throw new PluraError(
      'storage_unavailable',
      `The platform is ${target} now, but the users of ${failures.length} tenant(s) could not follow: ${failures.join('; ')}. Switch to ${target} again to finish.`,
    );
  }
  const { changedAt } = await platform.registry.strategy();
  return { strategy: target, previous, changedAt, tenants };
}

/**
 * While the platform runs single-tenant, no tenant user may be created (by an admin,
 * SSO provisioning or SCIM): the switch back could not tell it from the users it restores.
 */
export async function assertTenantUsersAllowed(platform: Platform): Promise<void> {
  const { strategy } = await readStrategy(platform);
  if (strategy === 'single-tenant') {
    throw new PluraError('forbidden', 'The platform runs in the single-tenant strategy: tenant users cannot be created until it is switched back to multi-tenant.');
  }
}

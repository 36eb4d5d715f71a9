import type { Platform } from '../platform/platform.js';
import type { SettingsView } from '../settings/settings.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import { identityDbOf, type IdentityDb } from './identity.store.js';
import type { Actor } from './policy.js';

/**
 * Where an operation acts: inside one tenant (its own store) or at the platform
 * level (the registry). Identity rows of a scope live only in that scope's database.
 */
export type Scope =
  | { readonly kind: 'tenant'; readonly tenant: Tenant; readonly store: TenantStore }
  | { readonly kind: 'platform' };

/** Everything a service needs to run one operation on behalf of someone. */
export interface ActContext {
  readonly platform: Platform;
  readonly scope: Scope;
  readonly actor: Actor;
  readonly ip: string | null;
}

export function identityDbFor(platform: Platform, scope: Scope): IdentityDb {
  return scope.kind === 'tenant' ? identityDbOf(scope.store.db) : identityDbOf(platform.registry.db);
}

export function settingsFor(platform: Platform, scope: Scope): SettingsView {
  return scope.kind === 'tenant' ? platform.settings.forTenant(scope.tenant.slug) : platform.settings;
}

export function scopeTenantSlug(scope: Scope): string | null {
  return scope.kind === 'tenant' ? scope.tenant.slug : null;
}

/** The tenant a context acts in, or a clear error when an operation needs one. */
export function requireTenantScope(scope: Scope): { tenant: Tenant; store: TenantStore } {
  if (scope.kind !== 'tenant') {
    throw new TypeError('This operation acts inside a tenant; the caller must pass a tenant scope.');
  }
  return scope;
}

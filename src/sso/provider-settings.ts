import { settingsFor, type Scope } from '../access/context.js';
import type { Platform } from '../platform/platform.js';

export type DirectoryProvider = 'OIDC' | 'SAML' | 'LDAP';

/**
 * Whether an identity provider is on in a scope. For a tenant only its own config.ini
 * counts: `enabled` in common.ini or the environment configures the operator's
 * provider for platform users, and must never let that directory's people into every
 * tenant. (Other keys in common.ini still serve tenants as defaults. JWT differs on
 * purpose: its tokens name their tenant, and embedding is platform-wide.)
 */
export function providerEnabled(platform: Platform, scope: Scope, provider: DirectoryProvider): boolean {
  const settings = settingsFor(platform, scope);
  const name = `${provider}.enabled` as const;
  if (scope.kind === 'platform') return settings.get(name);
  const resolved = settings.resolve(name);
  return resolved.layer === 'tenant' && resolved.value === true;
}

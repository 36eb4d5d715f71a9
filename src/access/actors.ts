import type { IdentityDb, UserRow } from './identity.store.js';
import { identityStore } from './identity.store.js';
import type { Scope } from './context.js';
import type { Actor, AnonymousActor } from './policy.js';

/** Matomo: unauthenticated calls act as the user `anonymous`, who holds only what sites granted it. */
export const ANONYMOUS_LOGIN = 'anonymous';

/** The actor a user row stands for in its scope, with its grants as they are now. */
export async function actorForUser(scope: Scope, db: IdentityDb, user: UserRow, actingIn: string | null = null): Promise<Actor> {
  if (scope.kind === 'platform') {
    return { kind: 'platform_user', userId: user.id, login: user.login, platformAdmin: user.superuser === 1, actingIn };
  }
  return {
    kind: 'tenant_user',
    tenant: scope.tenant.slug,
    userId: user.id,
    login: user.login,
    superuser: user.superuser === 1,
    sites: await identityStore.grantsOf(db, user.id),
  };
}

export async function anonymousActor(scope: Scope, db: IdentityDb): Promise<AnonymousActor> {
  if (scope.kind === 'platform') return { kind: 'anonymous', tenant: null, sites: new Map() };
  const row = await identityStore.findUserByLogin(db, ANONYMOUS_LOGIN);
  return { kind: 'anonymous', tenant: scope.tenant.slug, sites: row ? await identityStore.grantsOf(db, row.id) : new Map() };
}

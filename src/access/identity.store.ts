import type { Kysely, Selectable } from 'kysely';
import type { TenantDatabase } from '../storage/tenant-database.js';
import type { RegistryDatabase } from '../tenancy/registry.tables.js';
import type { SsoTables } from '../sso/sso.tables.js';
import type { IdentityTables, UserTable } from './identity.tables.js';
import { isCapability, isSiteRole, type Capability, type SiteGrant, type SiteRole } from './policy.js';

/** The identity tables of one scope: a tenant store (tenant users) or the registry (platform users). */
export type IdentityDb = Kysely<IdentityTables & SsoTables>;

export type UserRow = Selectable<UserTable>;

/** The only SQL of the identity capability. Every function takes its database: there is no global one. */
export const identityStore = {
  findUserByLogin(db: IdentityDb, login: string): Promise<UserRow | undefined> {
    return db.selectFrom('user').selectAll().where('login', '=', login).executeTakeFirst();
  },

  findUserById(db: IdentityDb, id: number): Promise<UserRow | undefined> {
    return db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
  },

  findUsersByEmail(db: IdentityDb, email: string): Promise<UserRow[]> {
    return db.selectFrom('user').selectAll().where('email', '=', email).execute();
  },

  /** Users, optionally only those holding a role on one of `siteIds` (a policy-derived filter). */
  listUsers(db: IdentityDb, filter: { logins?: readonly string[]; withRoleOnSites?: readonly number[] } = {}): Promise<UserRow[]> {
    let query = db.selectFrom('user').selectAll().orderBy('login');
    if (filter.logins) {
      if (filter.logins.length === 0) return Promise.resolve([]);
      query = query.where('login', 'in', [...filter.logins]);
    }
    if (filter.withRoleOnSites) {
      if (filter.withRoleOnSites.length === 0) return Promise.resolve([]);
      const siteIds = [...filter.withRoleOnSites];
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('site_access').select('site_access.user_id').whereRef('site_access.user_id', '=', 'user.id').where('site_access.site_id', 'in', siteIds)),
      );
    }
    return query.execute();
  },

  async countUsers(db: IdentityDb): Promise<number> {
    const row = await db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async countSuperusers(db: IdentityDb): Promise<number> {
    const row = await db.selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).where('superuser', '=', 1).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Active super users other than `userId` (so the last one is never deactivated). */
  async countOtherActiveSuperusers(db: IdentityDb, userId: number): Promise<number> {
    const row = await db
      .selectFrom('user')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('superuser', '=', 1)
      .where('deactivated_at', 'is', null)
      .where('id', '!=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Every user's grants on every site, in two queries (for lists of users). */
  async grantsOfUsers(db: IdentityDb, userIds: readonly number[]): Promise<Map<number, Map<number, SiteGrant>>> {
    const result = new Map<number, Map<number, SiteGrant>>();
    if (userIds.length === 0) return result;
    const ids = [...userIds];
    const [roles, caps] = await Promise.all([
      db.selectFrom('site_access').selectAll().where('user_id', 'in', ids).execute(),
      db.selectFrom('site_capability').selectAll().where('user_id', 'in', ids).execute(),
    ]);
    for (const row of roles) {
      if (!isSiteRole(row.role)) continue;
      const sites = result.get(row.user_id) ?? new Map<number, SiteGrant>();
      sites.set(row.site_id, { role: row.role, capabilities: new Set<Capability>() });
      result.set(row.user_id, sites);
    }
    for (const row of caps) {
      const grant = result.get(row.user_id)?.get(row.site_id);
      if (grant && isCapability(row.capability)) (grant.capabilities as Set<Capability>).add(row.capability);
    }
    return result;
  },

  async grantsOf(db: IdentityDb, userId: number): Promise<Map<number, SiteGrant>> {
    return (await identityStore.grantsOfUsers(db, [userId])).get(userId) ?? new Map();
  },

  /** Sets one role on sites (or removes it with `noaccess`); capabilities on those sites go with a removed role. */
  async setRole(db: IdentityDb, userId: number, siteIds: readonly number[], role: SiteRole | 'noaccess'): Promise<void> {
    if (siteIds.length === 0) return;
    const ids = [...siteIds];
    await db.deleteFrom('site_access').where('user_id', '=', userId).where('site_id', 'in', ids).execute();
    if (role === 'noaccess') {
      await db.deleteFrom('site_capability').where('user_id', '=', userId).where('site_id', 'in', ids).execute();
      return;
    }
    await db.insertInto('site_access').values(ids.map((siteId) => ({ user_id: userId, site_id: siteId, role }))).execute();
  },

  async addCapability(db: IdentityDb, userId: number, siteId: number, capability: Capability): Promise<void> {
    await db
      .insertInto('site_capability')
      .values({ user_id: userId, site_id: siteId, capability })
      .onConflict((oc) => oc.columns(['user_id', 'site_id', 'capability']).doNothing())
      .execute();
  },

  async removeCapability(db: IdentityDb, userId: number, siteId: number, capability: Capability): Promise<void> {
    await db.deleteFrom('site_capability').where('user_id', '=', userId).where('site_id', '=', siteId).where('capability', '=', capability).execute();
  },

  async removeSiteGrants(db: IdentityDb, siteId: number): Promise<void> {
    await db.deleteFrom('site_access').where('site_id', '=', siteId).execute();
    await db.deleteFrom('site_capability').where('site_id', '=', siteId).execute();
  },

  async removeAllGrantsOf(db: IdentityDb, userId: number): Promise<void> {
    await db.deleteFrom('site_access').where('user_id', '=', userId).execute();
    await db.deleteFrom('site_capability').where('user_id', '=', userId).execute();
  },
};

/**
 * Narrows a store's database to its identity tables. Sound because every store
 * holds a superset of these tables; TypeScript cannot see it only because
 * Kysely's transaction callback makes the database type invariant.
 */
export function identityDbOf(db: Kysely<TenantDatabase> | Kysely<RegistryDatabase>): IdentityDb {
  return db as unknown as IdentityDb;
}

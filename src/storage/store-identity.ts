import { sql, type Kysely } from 'kysely';
import { PluraError } from '../core/errors.js';
import type { Migration } from './migrations.js';
import type { TenantDatabase } from './tenant-database.js';

/**
 * Which incarnation of a tenant a store belongs to. A slug can be deleted and
 * created again; a process still holding work for the old tenant (queued hits, a
 * cached tenant record) must never write it into the new tenant's store, so every
 * store carries its tenant's creation time and openers check it.
 */
export interface StoreIdentityTables {
  store_identity: {
    id: number;
    tenant_created_at: string;
  };
}

export const storeIdentityMigrations: readonly Migration[] = [
  {
    name: '2026-11-23-05-store-identity',
    async up(db) {
      await db.schema
        .createTable('store_identity')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('tenant_created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

/** The store belongs to another incarnation of the tenant (deleted and created again since). */
export class StoreIdentityError extends PluraError {
  constructor(slug: string) {
    super('tenant_gone', `Tenant "${slug}" was deleted and created again; work for the earlier tenant is not applied to the new one.`);
  }
}

/**
 * Checks that the store belongs to the tenant created at `tenantCreatedAt`. A store
 * without a stamp (made before stamps existed, or just created) is claimed.
 */
export async function verifyStoreIdentity(db: Kysely<TenantDatabase>, slug: string, tenantCreatedAt: string): Promise<void> {
  const row = await db.selectFrom('store_identity').select('tenant_created_at').where('id', '=', 1).executeTakeFirst();
  if (!row) {
    await db.insertInto('store_identity').values({ id: 1, tenant_created_at: tenantCreatedAt }).onConflict((oc) => oc.column('id').doNothing()).execute();
    return verifyStoreIdentity(db, slug, tenantCreatedAt);
  }
  if (row.tenant_created_at !== tenantCreatedAt) throw new StoreIdentityError(slug);
}

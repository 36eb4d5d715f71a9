import type { Kysely } from 'kysely';
import type { Dialect } from '../storage/database.js';
import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';
import type { CollectionTable, WorkspaceRegistryTables } from './workspace.tables.js';

export const SHARED_ROOT = 'shared';
export const INTERNAL_ROOT = 'internal';
export const TENANT_ROOT = 'tenant';

/** Collections and their items: the same shape in the registry and in every tenant store. */
async function createCollectionTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('collection')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text', (c) => c.references('collection.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner_user_id', 'integer', (c) => c.references('user.id').onDelete('cascade'))
    .addColumn('archived_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('collection_parent').on('collection').column('parent_id').execute();
  await db.schema.createIndex('collection_owner').on('collection').column('owner_user_id').execute();
  await db.schema
    .createTable('workspace_item')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('collection_id', 'text', (c) => c.notNull().references('collection.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workspace_item_collection').on('workspace_item').column('collection_id').execute();
}

function rootRow(id: string, kind: string, name: string, now: string): CollectionTable {
  return { id, kind, parent_id: null, name, description: '', owner_user_id: null, archived_at: null, created_at: now, updated_at: now };
}

/** Email subscriptions beside their owners: tenant users' in the tenant store, platform users' in the registry. */
async function createSubscriptionTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscription')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('acting_tenant', 'text')
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull())
    .addColumn('weekday', 'integer')
    .addColumn('month_day', 'integer')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('id_site', 'text')
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('date', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('next_run_at', 'text', (c) => c.notNull())
    .addColumn('last_sent_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subscription_due').on('subscription').columns(['enabled', 'next_run_at']).execute();
  await db.schema.createIndex('subscription_user').on('subscription').column('user_id').execute();
}

/** Registry migrations of the workspace capability. */
export const workspaceRegistryMigrations: readonly Migration[] = [
  {
    name: '2026-11-24-02-workspace',
    async up(db, dialect: Dialect) {
      await db.schema
        .createTable('user_group')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('special', 'text')
        .addColumn('data_policy', 'text')
        .addColumn('can_subscribe', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('user_group_kind_name', ['kind', 'name'])
        .execute();
      await createCollectionTables(db);
      await db.schema
        .createTable('collection_permission')
        .addColumn('collection_id', 'text', (c) => c.notNull().references('collection.id').onDelete('cascade'))
        .addColumn('group_id', 'integer', (c) => c.notNull().references('user_group.id').onDelete('cascade'))
        .addColumn('level', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('collection_permission_pk', ['collection_id', 'group_id'])
        .execute();
      const registry = db as Kysely<WorkspaceRegistryTables>;
      const now = new Date().toISOString();
      await registry
        .insertInto('user_group')
        .values([
          { kind: 'internal', name: 'All internal users', description: 'Every platform user.', special: 'all_internal', data_policy: null, can_subscribe: 1, created_at: now, updated_at: now },
          { kind: 'tenant', name: 'All tenant users', description: 'Every user of every tenant.', special: 'all_tenant', data_policy: null, can_subscribe: 0, created_at: now, updated_at: now },
        ])
        .execute();
      await registry
        .insertInto('collection')
        .values([rootRow(SHARED_ROOT, 'shared', 'Shared', now), rootRow(INTERNAL_ROOT, 'internal', 'Internal', now)])
        .execute();
    },
  },
  {
    name: '2026-11-24-13-subscriptions',
    async up(db) {
      await createSubscriptionTable(db);
    },
  },
];

/** Tenant-store migrations of the workspace capability: the tenant collection exists from the start. */
export const workspaceTenantMigrations: readonly Migration[] = [
  {
    name: '2026-11-24-03-workspace',
    async up(db) {
      await createCollectionTables(db);
      await db.schema
        .createTable('user_attributes')
        .addColumn('user_id', 'integer', (c) => c.primaryKey().references('user.id').onDelete('cascade'))
        .addColumn('attributes', 'text', (c) => c.notNull())
        .execute();
      await (db as Kysely<{ collection: CollectionTable }>).insertInto('collection').values(rootRow(TENANT_ROOT, 'tenant', 'Our analytics', new Date().toISOString())).execute();
    },
  },
  {
    name: '2026-11-24-13-subscriptions',
    async up(db) {
      await createSubscriptionTable(db);
    },
  },
  {
    // Which users a tenant deactivation or the single-tenant strategy deactivated, so lifting it restores exactly those.
    name: '2026-11-24-14-tenancy-suspensions',
    async up(db) {
      await db.schema
        .createTable('user_suspension')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('suspended_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_suspension_pk', ['user_id', 'reason'])
        .execute();
      await db.schema.createIndex('user_suspension_reason').on('user_suspension').column('reason').execute();
    },
  },
];

import type { Kysely } from 'kysely';
import type { Migration } from '../storage/migrations.js';
import type { WorkspaceRegistryTables } from './workspace.tables.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

/** Registry migrations of the workspace capability. */
export const workspaceRegistryMigrations: readonly Migration[] = [
  {
    name: '2026-11-24-02-groups',
    async up(db, dialect) {
      await db.schema
        .createTable('user_group')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('special', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('user_group_kind_name', ['kind', 'name'])
        .execute();
      const now = new Date().toISOString();
      await (db as Kysely<WorkspaceRegistryTables>)
        .insertInto('user_group')
        .values([
          { kind: 'internal', name: 'All internal users', description: 'Every platform user.', special: 'all_internal', created_at: now, updated_at: now },
          { kind: 'tenant', name: 'All tenant users', description: 'Every user of every tenant.', special: 'all_tenant', created_at: now, updated_at: now },
        ])
        .execute();
    },
  },
];

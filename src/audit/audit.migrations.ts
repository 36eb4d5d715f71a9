import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

export const auditMigrations: readonly Migration[] = [
  {
    name: '2026-11-23-01-audit',
    async up(db, dialect) {
      await db.schema
        .createTable('audit_entry')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('site_id', 'integer')
        .addColumn('ip', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entry_created').on('audit_entry').column('created_at').execute();
      await db.schema
        .createTable('audit_chain_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('last_id', 'integer', (c) => c.notNull())
        .addColumn('last_hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

import type { Migration } from '../storage/migrations.js';

export const reportsMigrations: readonly Migration[] = [
  {
    name: '2026-11-23-04-archive-invalidation',
    async up(db) {
      await db.schema
        .createTable('archive_invalidation')
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('invalidated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('archive_invalidation_pk', ['site_id', 'day'])
        .execute();
    },
  },
];

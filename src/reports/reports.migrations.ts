import { autoIncrementPrimaryKey, type Migration } from '../storage/migrations.js';

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
  {
    name: '2026-11-23-07-archives',
    async up(db, dialect) {
      await db.schema.alterTable('archive_invalidation').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema
        .createTable('archive')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('period', 'text', (c) => c.notNull())
        .addColumn('date1', 'text', (c) => c.notNull())
        .addColumn('date2', 'text', (c) => c.notNull())
        .addColumn('segment', 'text', (c) => c.notNull())
        .addColumn('mark', 'bigint', (c) => c.notNull())
        .addColumn('built_at', 'bigint', (c) => c.notNull())
        .addColumn('complete', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('archive_key').unique().on('archive').columns(['site_id', 'period', 'date1', 'segment']).execute();
      await db.schema
        .createTable('archive_record')
        .addColumn('archive_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('archive_record_pk', ['archive_id', 'name'])
        .execute();
    },
  },
  {
    name: '2026-11-23-08-segments-annotations-dimensions',
    async up(db, dialect) {
      await db.schema
        .createTable('saved_segment')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('login', 'text', (c) => c.notNull())
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('enable_all_users', 'integer', (c) => c.notNull())
        .addColumn('auto_archive', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('annotation')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('starred', 'integer', (c) => c.notNull())
        .addColumn('login', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('annotation_site_day').on('annotation').columns(['site_id', 'day']).execute();
      await db.schema
        .createTable('custom_dimension')
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('id', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('case_sensitive', 'integer', (c) => c.notNull())
        .addColumn('extractions', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('custom_dimension_pk', ['site_id', 'id'])
        .execute();
    },
  },
];

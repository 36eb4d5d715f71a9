import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

export const sitesMigrations: readonly Migration[] = [
  {
    name: '2026-11-22-01-sites',
    async up(db, dialect) {
      await db.schema
        .createTable('site')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('main_url', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('ecommerce', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('site_url')
        .addColumn('site_id', 'integer', (c) => c.notNull().references('site.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('site_url_pk', ['site_id', 'url'])
        .execute();
    },
  },
];

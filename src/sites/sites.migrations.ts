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
  {
    // Matomo's site settings, and the per-site privacy setting for sensitive data.
    name: '2026-11-23-01-site-settings',
    async up(db) {
      const text = [
        'excluded_ips',
        'excluded_parameters',
        'excluded_user_agents',
        'excluded_referrers',
        'sitesearch_keyword_parameters',
        'sitesearch_category_parameters',
      ];
      for (const column of text) {
        await db.schema.alterTable('site').addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();
      }
      await db.schema.alterTable('site').addColumn('sitesearch', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('site').addColumn('exclude_unknown_urls', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('site').addColumn('keep_url_fragment', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('site').addColumn('type', 'text', (c) => c.notNull().defaultTo('website')).execute();
      await db.schema.alterTable('site').addColumn('group_name', 'text', (c) => c.notNull().defaultTo('')).execute();
      await db.schema.alterTable('site').addColumn('creator_login', 'text', (c) => c.notNull().defaultTo('')).execute();
      await db.schema.alterTable('site').addColumn('sensitive_data_role', 'text', (c) => c.notNull().defaultTo('none')).execute();
    },
  },
];

import type { ColumnDefinitionBuilder } from 'kysely';
import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

export const trackingMigrations: readonly Migration[] = [
  {
    name: '2026-11-23-02-tracking',
    async up(db, dialect) {
      const text = () => (c: ColumnDefinitionBuilder) => c.notNull().defaultTo('');
      let visit = db.schema
        .createTable('visit')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('visitor_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('visit_number', 'integer', (c) => c.notNull())
        .addColumn('first_action_at', 'bigint', (c) => c.notNull())
        .addColumn('last_action_at', 'bigint', (c) => c.notNull())
        .addColumn('actions', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('pageviews', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('entry_url_id', 'integer')
        .addColumn('exit_url_id', 'integer')
        .addColumn('goals_converted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revenue', 'double precision', (c) => c.notNull().defaultTo(0));
      for (const name of ['referrer_type', 'referrer_name', 'referrer_keyword', 'referrer_url', 'campaign_name', 'campaign_keyword', 'device_type', 'device_brand', 'device_model', 'os_name', 'os_version', 'browser_name', 'browser_version', 'language', 'country', 'region', 'city', 'resolution', 'local_time', 'ip']) {
        visit = visit.addColumn(name, 'text', text());
      }
      await visit
        .addColumn('latitude', 'double precision')
        .addColumn('longitude', 'double precision')
        .addColumn('cookie_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('custom_json', 'text')
        .execute();
      // The hot lookup: this visitor's latest visit on this site.
      await db.schema.createIndex('visit_site_visitor').on('visit').columns(['site_id', 'visitor_id', 'last_action_at']).execute();
      await db.schema.createIndex('visit_site_time').on('visit').columns(['site_id', 'last_action_at']).execute();

      let action = db.schema
        .createTable('visit_action')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('visit_id', 'integer', (c) => c.notNull())
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('url_id', 'integer')
        .addColumn('title_id', 'integer')
        .addColumn('pageview_id', 'text');
      for (const name of ['search_keyword', 'search_category', 'event_category', 'event_action', 'event_name', 'content_name', 'content_piece', 'content_target', 'content_interaction', 'performance_json', 'custom_json']) {
        action = action.addColumn(name, 'text');
      }
      await action.addColumn('search_count', 'integer').addColumn('event_value', 'double precision').execute();
      await db.schema.createIndex('visit_action_visit').on('visit_action').columns(['visit_id', 'id']).execute();
      await db.schema.createIndex('visit_action_site_time').on('visit_action').columns(['site_id', 'at']).execute();

      await db.schema
        .createTable('action_name')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('conversion')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('visit_id', 'integer', (c) => c.notNull())
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('goal_id', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('revenue', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('order_id', 'text')
        .addColumn('items_json', 'text')
        .addColumn('subtotal', 'double precision')
        .addColumn('tax', 'double precision')
        .addColumn('shipping', 'double precision')
        .addColumn('discount', 'double precision')
        .addColumn('url', 'text')
        .execute();
      await db.schema.createIndex('conversion_site_time').on('conversion').columns(['site_id', 'at']).execute();
      // Matomo: one order id is recorded once per site.
      await db.schema.createIndex('conversion_order').on('conversion').columns(['site_id', 'order_id']).execute();

      await db.schema
        .createTable('goal')
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('goal_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('match_attribute', 'text', (c) => c.notNull())
        .addColumn('pattern_type', 'text', (c) => c.notNull())
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('case_sensitive', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('allow_multiple', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revenue', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('goal_pk', ['site_id', 'goal_id'])
        .execute();

      await db.schema
        .createTable('tracking_salt')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('salt', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '2026-11-23-03-tracking-journal-and-product-views',
    async up(db) {
      await db.schema
        .createTable('tracking_journal_mark')
        .addColumn('journal_id', 'text', (c) => c.primaryKey())
        .addColumn('applied_seq', 'bigint', (c) => c.notNull())
        .execute();
      for (const column of ['product_sku', 'product_name', 'product_category'] as const) {
        await db.schema.alterTable('visit_action').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('visit_action').addColumn('product_price', 'double precision').execute();
    },
  },
  {
    // Every reader of actions comes through their visits (the archiver joins a day's
    // visits to their actions; Live reads a visit's actions): a second index on each
    // action row cost the tracking writer more than it saved anyone.
    name: '2026-11-23-06-drop-action-site-time-index',
    async up(db) {
      await db.schema.dropIndex('visit_action_site_time').ifExists().execute();
    },
  },
];

import { identityMigrations } from '../access/identity.migrations.js';
import { auditMigrations } from '../audit/audit.migrations.js';
import { ssoMigrations } from '../sso/sso.migrations.js';
import { workspaceRegistryMigrations } from '../workspace/workspace.migrations.js';
import type { Migration } from '../storage/migrations.js';

export const registryMigrations: readonly Migration[] = [
  {
    name: '2026-11-22-01-tenants',
    async up(db) {
      await db.schema
        .createTable('tenant')
        .addColumn('slug', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('storage', 'text', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('max_users', 'integer')
        .addColumn('max_sites', 'integer')
        .addColumn('brand_product_name', 'text')
        .addColumn('brand_logo_file', 'text')
        .addColumn('brand_primary_color', 'text')
        .addColumn('language', 'text')
        .addColumn('timezone', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tenant_host')
        .addColumn('host', 'text', (c) => c.primaryKey())
        .addColumn('tenant_slug', 'text', (c) => c.notNull().references('tenant.slug').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tenant_host_tenant').on('tenant_host').column('tenant_slug').execute();
      await db.schema
        .createTable('registry_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('generation', 'bigint', (c) => c.notNull())
        .addColumn('initialized_at', 'text', (c) => c.notNull())
        .addColumn('demo_created', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  ...identityMigrations,
  ...auditMigrations,
  ...ssoMigrations,
  ...workspaceRegistryMigrations,
  {
    // The tenant strategy lives in the registry: switching deactivates or restores users.
    name: '2026-11-24-14-tenancy-strategy',
    async up(db) {
      await db.schema.alterTable('registry_state').addColumn('strategy', 'text', (c) => c.notNull().defaultTo('multi-tenant')).execute();
      await db.schema.alterTable('registry_state').addColumn('strategy_changed_at', 'text').execute();
    },
  },
];

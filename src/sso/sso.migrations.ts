import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

/** SSO tables and the user columns SSO needs; run in every tenant store and in the registry. */
export const ssoMigrations: readonly Migration[] = [
  {
    name: '2026-11-24-01-sso',
    async up(db, dialect) {
      // A deactivated user cannot sign in, and its sessions and tokens stop working.
      await db.schema.alterTable('user').addColumn('deactivated_at', 'text').execute();
      await db.schema.alterTable('user').addColumn('first_name', 'text').execute();
      await db.schema.alterTable('user').addColumn('last_name', 'text').execute();
      await db.schema.alterTable('user').addColumn('external_id', 'text').execute();
      await db.schema
        .createTable('sso_identity')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'text')
        .addPrimaryKeyConstraint('sso_identity_pk', ['provider', 'subject'])
        .execute();
      await db.schema.createIndex('sso_identity_user').on('sso_identity').column('user_id').execute();
      await db.schema
        .createTable('sso_used_jti')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sso_user_group')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sso_user_group_pk', ['user_id', 'group_name', 'source'])
        .execute();
      await db.schema
        .createTable('sso_mapped_grant')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('previous_role', 'text')
        .addPrimaryKeyConstraint('sso_mapped_grant_pk', ['user_id', 'site_id'])
        .execute();
      await db.schema
        .createTable('group_member')
        // The group lives in the registry (another database): no foreign key, and members of a deleted group are ignored.
        .addColumn('group_id', 'integer', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_member_pk', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('group_member_user').on('group_member').column('user_id').execute();
      await db.schema
        .createTable('scim_group')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('display_name', 'text', (c) => c.notNull().unique())
        .addColumn('external_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('scim_group_member')
        .addColumn('group_id', 'text', (c) => c.notNull().references('scim_group.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('scim_group_member_pk', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('scim_group_member_user').on('scim_group_member').column('user_id').execute();
      await db.schema
        .createTable('scim_token')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
    },
  },
];

import type { Migration } from '../storage/migrations.js';
import { autoIncrementPrimaryKey } from '../storage/migrations.js';

/** Identity tables; run in every tenant store and in the registry (platform users). */
export const identityMigrations: readonly Migration[] = [
  {
    name: '2026-11-23-01-identity',
    async up(db, dialect) {
      await db.schema
        .createTable('user')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('login', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('alias', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('superuser', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('totp_secret', 'text')
        .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_changed_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text')
        .execute();

      await db.schema.createIndex('user_email').on('user').column('email').execute();
      await db.schema
        .createTable('password_history')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('password_history_user').on('password_history').column('user_id').execute();
      await db.schema
        .createTable('site_access')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('site_access_pk', ['user_id', 'site_id'])
        .execute();
      await db.schema.createIndex('site_access_site').on('site_access').column('site_id').execute();
      await db.schema
        .createTable('site_capability')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('capability', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('site_capability_pk', ['user_id', 'site_id', 'capability'])
        .execute();
      await db.schema
        .createTable('auth_token')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('post_only', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('auth_token_user').on('auth_token').column('user_id').execute();
      await db.schema
        .createTable('session')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('remember', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('mfa_pending', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('session_user').on('session').column('user_id').execute();
      await db.schema
        .createTable('mfa_recovery_code')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema.createIndex('mfa_recovery_code_user').on('mfa_recovery_code').column('user_id').execute();
      await db.schema
        .createTable('mfa_used_step')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('step', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mfa_used_step_pk', ['user_id', 'step'])
        .execute();
      await db.schema
        .createTable('login_failure')
        .addColumn('id', 'integer', autoIncrementPrimaryKey(dialect))
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('login', 'text')
        .addColumn('attempted_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_failure_ip').on('login_failure').columns(['ip', 'attempted_at']).execute();
      await db.schema
        .createTable('ip_unblock')
        .addColumn('ip', 'text', (c) => c.primaryKey())
        .addColumn('unblocked_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('setup_token')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
    },
  },
  {
    // Invitations instead of passwords set by an administrator; tenant users and platform users alike.
    name: '2026-11-25-01-user-invitations',
    async up(db) {
      await db.schema
        .createTable('user_invitation')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('invited_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('user_invitation_user').on('user_invitation').column('user_id').execute();
    },
  },
];

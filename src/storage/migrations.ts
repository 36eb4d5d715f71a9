import { Migrator, type ColumnDefinitionBuilder, type Kysely, type Migration as KyselyMigration, type MigrationProvider } from 'kysely';
import { PluraError, describeError } from '../core/errors.js';
import type { Dialect } from './database.js';

/**
 * A versioned schema change, written once for both dialects. `name` orders the
 * migrations (Kysely applies them in name order), so names start with a date and
 * the owning capability: `2026-11-22-01-sites`.
 */
export interface Migration {
  readonly name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

const MIGRATION_TABLE = 'plura_migration';
const MIGRATION_LOCK_TABLE = 'plura_migration_lock';

function providerFor(migrations: readonly Migration[], dialect: Dialect): MigrationProvider {
  return {
    getMigrations: () => {
      const byName: Record<string, KyselyMigration> = {};
      for (const migration of migrations) {
        byName[migration.name] = { up: (kysely) => migration.up(kysely as Kysely<unknown>, dialect) };
      }
      return Promise.resolve(byName);
    },
  };
}

export interface MigrationReport {
  readonly applied: readonly string[];
}

/**
 * Brings one database up to date. Each run is all-or-nothing per migration
 * (transactional DDL on both engines); a failure names the migration.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  dialect: Dialect,
  migrations: readonly Migration[],
  options: { schema?: string; label: string },
): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: providerFor(migrations, dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    const which = failed ? ` in migration ${failed.migrationName}` : '';
    throw new PluraError('migration_failed', `Migrating ${options.label} failed${which}: ${describeError(error)}.`, {
      cause: error,
    });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** Names of the migrations a database has not applied yet. */
export async function pendingMigrations<DB>(
  db: Kysely<DB>,
  dialect: Dialect,
  migrations: readonly Migration[],
  schema?: string,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: providerFor(migrations, dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Primary key that numbers rows 1, 2, 3... on both engines (per database, so per tenant). */
export function autoIncrementPrimaryKey(dialect: Dialect) {
  return (column: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    dialect === 'postgres' ? column.primaryKey().generatedByDefaultAsIdentity() : column.primaryKey().autoIncrement();
}

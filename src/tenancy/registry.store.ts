import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { PluraError, describeError } from '../core/errors.js';
import type { DataPaths } from '../core/paths.js';
import { openPostgres, openSqlite, parsePostgresUrl, ping, quoteIdentifier, redactUrl, type Dialect, type OpenDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrations.js';
import type { TenantStorage } from '../storage/tenant-stores.js';
import { registryMigrations } from './registry.migrations.js';
import type { RegistryDatabase, TenantTable } from './registry.tables.js';
import type { Tenant, TenantStatus } from './tenant.js';
import { isTenantStrategy, type TenantStrategy } from '../access/policy.js';

/** Schema that holds the registry on PostgreSQL; tenant roles get no privilege on it. */
export const REGISTRY_PG_SCHEMA = 'plura_registry';

export interface TenantRowValues {
  readonly name: string;
  readonly status: TenantStatus;
  readonly storage: TenantStorage;
  readonly attributes: Readonly<Record<string, string>>;
  readonly maxUsers: number | null;
  readonly maxSites: number | null;
  readonly productName: string | null;
  readonly logoFile: string | null;
  readonly primaryColor: string | null;
  readonly language: string | null;
  readonly timezone: string | null;
}

/**
 * The registry's only SQL. Every write bumps `registry_state.generation` in the same
 * transaction, which is how other processes learn that tenants changed.
 */
export class RegistryStore {
  private constructor(
    private readonly database: OpenDatabase<RegistryDatabase>,
    readonly location: string,
  ) {}

  /** Opens (and creates or migrates) the registry: the SQLite file, or a schema in PostgreSQL. */
  static async open(registryUrl: string, paths: DataPaths): Promise<RegistryStore> {
    let database: OpenDatabase<RegistryDatabase>;
    let location: string;
    if (registryUrl === '') {
      database = openSqlite<RegistryDatabase>(paths.registryFile);
      location = paths.registryFile;
    } else {
      const connection = parsePostgresUrl(registryUrl);
      location = `${redactUrl(registryUrl)} (schema ${REGISTRY_PG_SCHEMA})`;
      database = openPostgres<RegistryDatabase>({ ...connection, searchPath: REGISTRY_PG_SCHEMA, poolSize: 4 });
      try {
        await sql`create schema if not exists ${sql.raw(quoteIdentifier(REGISTRY_PG_SCHEMA))}`.execute(database.db);
      } catch (error) {
        await database.close().catch(() => undefined);
        throw new PluraError('storage_unavailable', `Cannot reach the registry at ${location}: ${describeError(error)}.`, {
          cause: error,
        });
      }
    }
    try {
      await migrateToLatest(database.db, database.dialect, registryMigrations, {
        label: 'the registry',
        ...(database.dialect === 'postgres' ? { schema: REGISTRY_PG_SCHEMA } : {}),
      });
      await database.db
        .insertInto('registry_state')
        .values({ id: 1, generation: 1, initialized_at: new Date().toISOString(), demo_created: 0 })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    } catch (error) {
      await database.close().catch(() => undefined);
      if (error instanceof PluraError) throw error;
      throw new PluraError('storage_unavailable', `Cannot open the registry at ${location}: ${describeError(error)}.`, {
        cause: error,
      });
    }
    return new RegistryStore(database, location);
  }

  /** The registry database, for the capabilities that keep platform-level rows in it (platform users, audit). */
  get db(): Kysely<RegistryDatabase> {
    return this.database.db;
  }

  get dialect(): Dialect {
    return this.database.dialect;
  }

  close(): Promise<void> {
    return this.database.close();
  }

  async ping(): Promise<void> {
    await ping(this.database.db);
  }

  async generation(): Promise<number> {
    const row = await this.db.selectFrom('registry_state').select('generation').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(row.generation);
  }

  /**
   * Claims the one-time creation of the demo tenant. True for exactly one caller
   * over the life of the registry, so deleting the demo tenant never resurrects it.
   */
  async claimDemoCreation(): Promise<boolean> {
    const result = await this.db
      .updateTable('registry_state')
      .set({ demo_created: 1 })
      .where('id', '=', 1)
      .where('demo_created', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The platform's tenant strategy and when it last changed. */
  async strategy(): Promise<{ strategy: TenantStrategy; changedAt: string | null }> {
    const row = await this.db.selectFrom('registry_state').select(['strategy', 'strategy_changed_at']).where('id', '=', 1).executeTakeFirstOrThrow();
    return { strategy: isTenantStrategy(row.strategy) ? row.strategy : 'multi-tenant', changedAt: row.strategy_changed_at };
  }

  /** Records the strategy (bumping the generation, so other nodes notice); returns the one it replaced. */
  async setStrategy(strategy: TenantStrategy, now = new Date().toISOString()): Promise<TenantStrategy> {
    return this.write(async (trx) => {
      const row = await trx.selectFrom('registry_state').select('strategy').where('id', '=', 1).executeTakeFirstOrThrow();
      if (row.strategy !== strategy) {
        await trx.updateTable('registry_state').set({ strategy, strategy_changed_at: now }).where('id', '=', 1).execute();
      }
      return isTenantStrategy(row.strategy) ? row.strategy : 'multi-tenant';
    });
  }

  async listTenants(): Promise<Tenant[]> {
    const [rows, hosts] = await Promise.all([
      this.db.selectFrom('tenant').selectAll().orderBy('slug').execute(),
      this.db.selectFrom('tenant_host').selectAll().orderBy('tenant_slug').orderBy('position').execute(),
    ]);
    const hostsBySlug = new Map<string, string[]>();
    for (const host of hosts) {
      const list = hostsBySlug.get(host.tenant_slug) ?? [];
      list.push(host.host);
      hostsBySlug.set(host.tenant_slug, list);
    }
    return rows.map((row) => toTenant(row, hostsBySlug.get(row.slug) ?? []));
  }

  async findTenant(slug: string): Promise<Tenant | undefined> {
    return findTenantIn(this.db, slug);
  }

  async findSlugByHost(host: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('tenant_host').select('tenant_slug').where('host', '=', host).executeTakeFirst();
    return row?.tenant_slug;
  }

  /** Inserts a tenant with its hosts; refuses a taken slug or host with a clear message. */
  async insertTenant(slug: string, hosts: readonly string[], values: TenantRowValues, createdAt = new Date().toISOString()): Promise<Tenant> {
    return this.write(async (trx) => {
      const existing = await trx.selectFrom('tenant').select('slug').where('slug', '=', slug).executeTakeFirst();
      if (existing) throw new PluraError('duplicate_tenant', `A tenant with slug "${slug}" already exists.`);
      await assertHostsFree(trx, hosts, slug);
      await trx
        .insertInto('tenant')
        .values({ slug, ...toRow(values), created_at: createdAt, updated_at: createdAt })
        .execute();
      await insertHosts(trx, slug, hosts);
      return (await findTenantIn(trx, slug))!;
    });
  }

  /** Updates a tenant; `hosts`, when given, replaces the whole list. */
  async updateTenant(slug: string, values: TenantRowValues, hosts?: readonly string[]): Promise<Tenant> {
    return this.write(async (trx) => {
      const result = await trx
        .updateTable('tenant')
        .set({ ...toRow(values), updated_at: new Date().toISOString() })
        .where('slug', '=', slug)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw unknownTenant(slug);
      if (hosts) {
        await assertHostsFree(trx, hosts, slug);
        await trx.deleteFrom('tenant_host').where('tenant_slug', '=', slug).execute();
        await insertHosts(trx, slug, hosts);
      }
      return (await findTenantIn(trx, slug))!;
    });
  }

  async deleteTenant(slug: string): Promise<void> {
    await this.write(async (trx) => {
      await trx.deleteFrom('tenant_host').where('tenant_slug', '=', slug).execute();
      const result = await trx.deleteFrom('tenant').where('slug', '=', slug).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw unknownTenant(slug);
    });
  }

  private async write<T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const result = await fn(trx);
        await trx
          .updateTable('registry_state')
          .set((eb) => ({ generation: eb('generation', '+', 1) }))
          .where('id', '=', 1)
          .execute();
        return result;
      });
    } catch (error) {
      if (error instanceof PluraError) throw error;
      // A concurrent writer may win the race between our check and our insert.
      if (isUniqueViolation(error)) {
        throw new PluraError('duplicate_host', `A hostname or slug was taken by another change at the same moment; try again.`, {
          cause: error,
        });
      }
      throw new PluraError('storage_unavailable', `Writing to the registry at ${this.location} failed: ${describeError(error)}.`, {
        cause: error,
      });
    }
  }
}

export function unknownTenant(slugOrHost: string): PluraError {
  return new PluraError('unknown_tenant', `No tenant is known by the slug or hostname "${slugOrHost}".`);
}

async function findTenantIn(db: Kysely<RegistryDatabase>, slug: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom('tenant').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!row) return undefined;
  const hosts = await db.selectFrom('tenant_host').select('host').where('tenant_slug', '=', slug).orderBy('position').execute();
  return toTenant(row, hosts.map((h) => h.host));
}

async function assertHostsFree(db: Kysely<RegistryDatabase>, hosts: readonly string[], slug: string): Promise<void> {
  if (hosts.length === 0) return;
  const taken = await db
    .selectFrom('tenant_host')
    .select(['host', 'tenant_slug'])
    .where('host', 'in', [...hosts])
    .where('tenant_slug', '!=', slug)
    .executeTakeFirst();
  if (taken) {
    throw new PluraError('duplicate_host', `The hostname ${taken.host} already belongs to tenant "${taken.tenant_slug}".`);
  }
}

async function insertHosts(db: Kysely<RegistryDatabase>, slug: string, hosts: readonly string[]): Promise<void> {
  if (hosts.length === 0) return;
  await db
    .insertInto('tenant_host')
    .values(hosts.map((host, position) => ({ host, tenant_slug: slug, position })))
    .execute();
}

function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = String(error.code);
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT');
}

function toRow(values: TenantRowValues): Omit<TenantTable, 'slug' | 'created_at' | 'updated_at'> {
  return {
    name: values.name,
    status: values.status,
    storage: JSON.stringify(values.storage),
    attributes: JSON.stringify(values.attributes),
    max_users: values.maxUsers,
    max_sites: values.maxSites,
    brand_product_name: values.productName,
    brand_logo_file: values.logoFile,
    brand_primary_color: values.primaryColor,
    language: values.language,
    timezone: values.timezone,
  };
}

/** The editable values of a tenant, as `updateTenant` takes them. */
export function rowValuesOf(tenant: Tenant): TenantRowValues {
  return {
    name: tenant.name,
    status: tenant.status,
    storage: tenant.storage,
    attributes: tenant.attributes,
    maxUsers: tenant.limits.maxUsers,
    maxSites: tenant.limits.maxSites,
    productName: tenant.branding.productName,
    logoFile: tenant.branding.logoFile,
    primaryColor: tenant.branding.primaryColor,
    language: tenant.language,
    timezone: tenant.timezone,
  };
}

function toTenant(row: Selectable<TenantTable>, hosts: readonly string[]): Tenant {
  return {
    slug: row.slug,
    name: row.name,
    hosts,
    status: row.status === 'deactivated' ? 'deactivated' : 'active',
    storage: JSON.parse(row.storage) as TenantStorage,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    limits: { maxUsers: row.max_users, maxSites: row.max_sites },
    branding: {
      productName: row.brand_product_name,
      logoFile: row.brand_logo_file,
      primaryColor: row.brand_primary_color,
    },
    language: row.language,
    timezone: row.timezone,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

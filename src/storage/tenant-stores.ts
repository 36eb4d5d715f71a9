import { LRUCache } from 'lru-cache';
import type { Kysely } from 'kysely';
import type { DataPaths } from '../core/paths.js';
import { openSqlite, type Dialect, type DirectSqlite, type OpenDatabase } from './database.js';
import { migrateToLatest, type MigrationReport } from './migrations.js';
import { verifyStoreIdentity } from './store-identity.js';
import { openPostgresTenant, type PostgresTenantLocation } from './postgres-tenant.js';
import { tenantMigrations, type TenantDatabase } from './tenant-database.js';

export type TenantStorage = { readonly kind: 'sqlite' } | ({ readonly kind: 'postgres' } & PostgresTenantLocation);

/** Where a tenant's store is. */
export type TenantStoreLocation = Pick<TenantStoreTarget, 'slug' | 'storage'>;

/** What the pool needs to know of a tenant to open its store. */
export interface TenantStoreTarget {
  readonly slug: string;
  readonly storage: TenantStorage;
  /** The tenant's creation time: tells this tenant from an earlier one with the same slug. */
  readonly createdAt: string;
}

/** One tenant's own database. Nothing of another tenant is reachable through it. */
export interface TenantStore {
  readonly slug: string;
  readonly db: Kysely<TenantDatabase>;
  readonly dialect: Dialect;
  readonly direct?: DirectSqlite;
}

export interface TenantStoresOptions {
  readonly paths: DataPaths;
  readonly secret: string;
  readonly maxOpen: number;
  /** Milliseconds after which an unused store is closed (none when absent). */
  readonly idleMs?: number;
  readonly postgresPoolSize: number;
  /**
   * The stores are known to be up to date (another pool in this process migrated
   * them before handing work over), so opening skips the migration check.
   */
  readonly assumeMigrated?: boolean;
}

interface Entry {
  readonly createdAt: string;
  readonly opening: Promise<OpenDatabase<TenantDatabase>>;
  refs: number;
  evicted: boolean;
  closing?: Promise<void>;
}

/** Opens the tenant's database without migrating it. */
export function openTenantDatabase(target: TenantStoreLocation, options: TenantStoresOptions): OpenDatabase<TenantDatabase> {
  if (target.storage.kind === 'sqlite') {
    return openSqlite<TenantDatabase>(options.paths.tenantDatabaseFile(target.slug), { mustExist: true });
  }
  return openPostgresTenant<TenantDatabase>(target.storage, options.secret, options.postgresPoolSize);
}

export async function migrateTenantDatabase(
  target: TenantStoreLocation,
  database: OpenDatabase<TenantDatabase>,
): Promise<MigrationReport> {
  return migrateToLatest(database.db, database.dialect, tenantMigrations, {
    label: `tenant ${target.slug}`,
    ...(target.storage.kind === 'postgres' ? { schema: target.storage.schema } : {}),
  });
}

/**
 * The bounded pool of open tenant stores. Stores open lazily on first use (and are
 * brought up to date then), and at most `maxOpen` stay open: the least recently
 * used one is closed first, once the operations using it have finished. An idle
 * tenant therefore holds no file, no connection and no memory.
 */
export class TenantStores {
  private readonly entries: LRUCache<string, Entry>;
  private readonly migrated = new Set<string>();

  constructor(private readonly options: TenantStoresOptions) {
    this.entries = new LRUCache<string, Entry>({
      max: options.maxOpen,
      ...(options.idleMs ? { ttl: options.idleMs, updateAgeOnGet: true, ttlAutopurge: true } : {}),
      dispose: (entry) => {
        entry.evicted = true;
        if (entry.refs === 0) void this.closeEntry(entry);
      },
    });
  }

  /** Runs `fn` with the tenant's store; the store stays open at least until `fn` settles. */
  async use<T>(target: TenantStoreTarget, fn: (store: TenantStore) => Promise<T>): Promise<T> {
    const entry = this.acquire(target);
    try {
      const database = await entry.opening;
      return await fn({ slug: target.slug, db: database.db, dialect: database.dialect, ...(database.direct ? { direct: database.direct } : {}) });
    } finally {
      entry.refs -= 1;
      if (entry.evicted && entry.refs === 0) void this.closeEntry(entry);
    }
  }

  /** Closes the tenant's store if open (after a delete, or to let a migration run alone). */
  async close(slug: string): Promise<void> {
    this.migrated.delete(slug);
    const entry = this.entries.get(slug);
    if (!entry) return;
    this.entries.delete(slug); // dispose() closes it now, or once the last user is done
    if (entry.closing) await entry.closing;
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((entry) => this.closeEntry(entry)));
  }

  get openCount(): number {
    return this.entries.size;
  }

  private acquire(target: TenantStoreTarget): Entry {
    let entry = this.entries.get(target.slug);
    // The slug was deleted and created again: the store held open is the wrong one.
    if (entry && entry.createdAt !== target.createdAt) {
      this.entries.delete(target.slug);
      this.migrated.delete(target.slug);
      entry = undefined;
    }
    if (!entry) {
      const opening = this.open(target);
      entry = { createdAt: target.createdAt, opening, refs: 0, evicted: false };
      this.entries.set(target.slug, entry);
      // A store that failed to open is forgotten, so the next request tries again.
      const created = entry;
      opening.catch(() => {
        if (this.entries.peek(target.slug) === created) this.entries.delete(target.slug);
      });
    }
    entry.refs += 1;
    return entry;
  }

  private async open(target: TenantStoreTarget): Promise<OpenDatabase<TenantDatabase>> {
    const database = openTenantDatabase(target, this.options);
    try {
      // Migrations only move forward: a store this process brought up to date stays so,
      // and reopening it after an LRU eviction must stay cheap when tenants outnumber open slots.
      if (!this.options.assumeMigrated && !this.migrated.has(target.slug)) {
        await migrateTenantDatabase(target, database);
        this.migrated.add(target.slug);
      }
      await verifyStoreIdentity(database.db, target.slug, target.createdAt);
      return database;
    } catch (error) {
      await database.close().catch(() => undefined);
      throw error;
    }
  }

  private closeEntry(entry: Entry): Promise<void> {
    entry.closing ??= entry.opening.then(
      (database) => database.close(),
      () => undefined, // it never opened; nothing to close
    );
    return entry.closing;
  }
}

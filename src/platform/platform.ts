import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PluraError, describeError } from '../core/errors.js';
import { dataPaths, type DataPaths } from '../core/paths.js';
import { Settings } from '../settings/settings.js';
import { TenantStores, type TenantStoresOptions, type TenantStore } from '../storage/tenant-stores.js';
import { RegistryStore } from '../tenancy/registry.store.js';
import { TenantsService } from '../tenancy/tenants.service.js';
import type { Tenant } from '../tenancy/tenant.js';
import { TrackingWriter, journalDirOf } from '../tracking/write-queue.js';

/** Everything one process needs, built once and passed down (no module-level singletons). */
export interface Platform {
  readonly paths: DataPaths;
  readonly settings: Settings;
  readonly registry: RegistryStore;
  readonly stores: TenantStores;
  readonly tenants: TenantsService;
  /** Platform secret: derives tenant database passwords and keys token hashes. */
  readonly secret: string;
  /**
   * The tracking pipeline (journal, per-tenant batches). Idle until a server starts
   * it; readers of tracking data call `tracking.drain(tenant)` first.
   */
  readonly tracking: TrackingWriter;
  /** Runs `fn` with the tenant's own store. */
  withStore<T>(tenant: Tenant, fn: (store: TenantStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  readonly dataDir: string;
  readonly env?: NodeJS.ProcessEnv;
}

export async function openPlatform(options: OpenPlatformOptions): Promise<Platform> {
  const paths = dataPaths(options.dataDir);
  ensureWritableDataDir(paths);
  const settings = Settings.load({ dataDir: paths.dataDir, env: options.env ?? process.env });
  const secret = settings.get('database.secret') || loadOrCreateSecret(paths);
  const registry = await RegistryStore.open(settings.get('database.registry_url'), paths);
  const storeOptions: TenantStoresOptions = {
    paths,
    secret,
    maxOpen: settings.get('database.max_open_stores'),
    idleMs: settings.get('database.store_idle_timeout_seconds') * 1000,
    postgresPoolSize: settings.get('database.postgres_pool_size'),
  };
  const stores = new TenantStores(storeOptions);
  const tenants = new TenantsService({
    paths,
    registry,
    stores,
    storeOptions,
    defaultStorage: settings.get('database.tenant_storage'),
    postgresRolePrefix: settings.get('database.postgres_role_prefix'),
    platformHost: settings.get('General.platform_host'),
  });
  const platform: Platform = {
    paths,
    settings,
    registry,
    stores,
    tenants,
    secret,
    get tracking() {
      return tracking;
    },
    withStore: (tenant, fn) => stores.use(tenant, fn),
    close: async () => {
      // Acknowledged hits reach their stores before the stores close.
      await tracking.close();
      await stores.closeAll();
      await registry.close();
    },
  };
  const tracking = new TrackingWriter(platform, {
    maxBatch: settings.get('Tracker.group_commit_max_batch'),
    intervalMs: settings.get('Tracker.group_commit_interval_ms'),
    maxQueued: settings.get('Tracker.max_queued_hits'),
    journalDir: journalDirOf(paths.dataDir, settings.get('Tracker.journal_dir')),
    fsync: settings.get('Tracker.journal_fsync'),
    visitCacheSize: settings.get('Tracker.visit_cache_size'),
  });
  return platform;
}

/** Creates the demo tenant (hosts localhost, 127.0.0.1, ::1) once in the life of a registry. */
export async function createDemoTenantOnFirstStart(platform: Platform): Promise<Tenant | undefined> {
  if (!platform.settings.get('General.create_demo_tenant')) return undefined;
  if (!(await platform.registry.claimDemoCreation())) return undefined;
  return platform.tenants.create({ slug: 'demo', name: 'Demo', hosts: ['localhost', '127.0.0.1', '::1'], storage: 'sqlite' });
}

function ensureWritableDataDir(paths: DataPaths): void {
  try {
    mkdirSync(paths.configDir, { recursive: true });
    mkdirSync(paths.tenantsDir, { recursive: true });
    accessSync(paths.dataDir, constants.W_OK);
    accessSync(paths.tenantsDir, constants.W_OK);
  } catch (error) {
    throw new PluraError('data_dir_unwritable', `The data directory ${paths.dataDir} is not writable: ${describeError(error)}.`, {
      cause: error,
    });
  }
}

function loadOrCreateSecret(paths: DataPaths): string {
  if (existsSync(paths.secretFile)) return readFileSync(paths.secretFile, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(paths.secretFile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

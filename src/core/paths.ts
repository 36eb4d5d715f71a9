import { join, resolve } from 'node:path';

/**
 * The on-disk layout of one installation (DESIGN.md §2). Every file Plura writes
 * lives under the data directory; a tenant's files live under its own folder so a
 * shared file system can carry a tenant whole.
 */
export interface DataPaths {
  readonly dataDir: string;
  readonly configDir: string;
  readonly registryFile: string;
  readonly secretFile: string;
  readonly tenantsDir: string;
  tenantDir(slug: string): string;
  tenantDatabaseFile(slug: string): string;
  tenantFilesDir(slug: string): string;
  tenantTmpDir(slug: string): string;
}

export function dataPaths(dataDir: string): DataPaths {
  const root = resolve(dataDir);
  const tenantsDir = join(root, 'tenants');
  return {
    dataDir: root,
    configDir: join(root, 'config'),
    registryFile: join(root, 'registry.db'),
    secretFile: join(root, 'config', 'secret.key'),
    tenantsDir,
    tenantDir: (slug) => join(tenantsDir, slug),
    tenantDatabaseFile: (slug) => join(tenantsDir, slug, 'plura.db'),
    tenantFilesDir: (slug) => join(tenantsDir, slug, 'files'),
    tenantTmpDir: (slug) => join(tenantsDir, slug, 'tmp'),
  };
}

/** `--data-dir`, else PLURA_DATA_DIR, else ./data. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PLURA_DATA_DIR && env.PLURA_DATA_DIR.length > 0 ? env.PLURA_DATA_DIR : 'data';
}

import { mkdirSync, rmSync, existsSync, copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, extname, join } from 'node:path';
import { PluraError, describeError } from '../core/errors.js';
import type { DataPaths } from '../core/paths.js';
import { openSqlite } from '../storage/database.js';
import { verifyStoreIdentity } from '../storage/store-identity.js';
import { dropPostgresTenant, postgresNamesFor, provisionPostgresTenant } from '../storage/postgres-tenant.js';
import { migrateTenantDatabase, openTenantDatabase, type TenantStorage, type TenantStores, type TenantStoresOptions } from '../storage/tenant-stores.js';
import type { MigrationReport } from '../storage/migrations.js';
import { requireHost, normalizeHost } from './hosts.js';
import { rowValuesOf, unknownTenant, type RegistryStore, type TenantRowValues } from './registry.store.js';
import type { Tenant } from './tenant.js';

const SLUG = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export interface CreateTenantInput {
  readonly slug: string;
  readonly hosts: readonly string[];
  readonly name?: string;
  /** `sqlite`, or a postgres:// URL of an account that may create roles. */
  readonly storage?: string;
}

export interface UpdateTenantInput {
  readonly name?: string;
  readonly addHosts?: readonly string[];
  readonly removeHosts?: readonly string[];
  readonly attributes?: Readonly<Record<string, string>>;
  readonly removeAttributes?: readonly string[];
  readonly maxUsers?: number | null;
  readonly maxSites?: number | null;
  readonly productName?: string | null;
  /** Path of an image to copy into the tenant's files/ folder, or null to drop the logo. */
  readonly logoPath?: string | null;
  /** Image bytes to store as the logo (uploads: the caller checked type and content); exclusive with logoPath. */
  readonly logo?: { readonly bytes: Uint8Array; readonly extension: LogoExtension };
  readonly primaryColor?: string | null;
  readonly language?: string | null;
  readonly timezone?: string | null;
}

/** Logo files a tenant may upload; SVG (which can carry scripts) only comes from the operator's files. */
export type LogoExtension = '.png' | '.jpg' | '.gif' | '.webp';

export interface TenantsServiceOptions {
  readonly paths: DataPaths;
  readonly registry: RegistryStore;
  readonly stores: TenantStores;
  readonly storeOptions: TenantStoresOptions;
  readonly defaultStorage: string;
  readonly postgresRolePrefix: string;
  /** General.platform_host: the platform answers it, so no tenant may claim it. */
  readonly platformHost?: string;
}

export function validateSlug(slug: string): string {
  if (!SLUG.test(slug)) {
    throw new PluraError(
      'invalid_slug',
      `"${slug}" is not a valid tenant slug: use 1 to 40 lowercase letters, digits, "-" or "_", starting with a letter or digit.`,
    );
  }
  return slug;
}

/**
 * The tenant lifecycle. Creation is all-or-nothing: the tenant's folder is claimed
 * first (an atomic mkdir, so two processes can never share one), then its store is
 * provisioned and migrated, and only then is the registry row written; any failure
 * undoes what was made.
 */
export class TenantsService {
  constructor(private readonly options: TenantsServiceOptions) {}

  list(): Promise<Tenant[]> {
    return this.options.registry.listTenants();
  }

  /** Finds a tenant by slug or by any of its hostnames; throws unknown_tenant. */
  async get(slugOrHost: string): Promise<Tenant> {
    const registry = this.options.registry;
    const bySlug = SLUG.test(slugOrHost) ? await registry.findTenant(slugOrHost) : undefined;
    if (bySlug) return bySlug;
    const host = normalizeHost(slugOrHost);
    const slug = host ? await registry.findSlugByHost(host) : undefined;
    const byHost = slug ? await registry.findTenant(slug) : undefined;
    if (!byHost) throw unknownTenant(slugOrHost);
    return byHost;
  }

  async create(input: CreateTenantInput): Promise<Tenant> {
    const slug = validateSlug(input.slug);
    const hosts = this.tenantHosts(input.hosts);
    if (hosts.length === 0) throw new PluraError('invalid_input', `Tenant "${slug}" needs at least one hostname (--host).`);
    const name = input.name?.trim() || slug;
    const storageSpec = input.storage ?? this.options.defaultStorage;
    if (storageSpec !== 'sqlite' && !/^postgres(ql)?:\/\//.test(storageSpec)) {
      throw new PluraError('invalid_input', `Storage "${storageSpec}" is not "sqlite" or a postgres:// URL.`);
    }
    if (await this.options.registry.findTenant(slug)) {
      throw new PluraError('duplicate_tenant', `A tenant with slug "${slug}" already exists.`);
    }
    for (const host of hosts) {
      const owner = await this.options.registry.findSlugByHost(host);
      if (owner) throw new PluraError('duplicate_host', `The hostname ${host} already belongs to tenant "${owner}".`);
    }

    const paths = this.options.paths;
    this.claimTenantDir(slug);
    let storage: TenantStorage | undefined;
    try {
      mkdirSync(paths.tenantFilesDir(slug));
      mkdirSync(paths.tenantTmpDir(slug));
      if (storageSpec === 'sqlite') {
        storage = { kind: 'sqlite' };
        const created = openSqlite(paths.tenantDatabaseFile(slug));
        await created.close();
      } else {
        const location = await provisionPostgresTenant(
          storageSpec,
          postgresNamesFor(this.options.postgresRolePrefix, slug),
          this.options.storeOptions.secret,
        );
        storage = { kind: 'postgres', ...location };
      }
      // The store is stamped with its tenant's creation time before the tenant exists,
      // so no holder of work for an earlier tenant of this slug can claim it.
      const createdAt = new Date().toISOString();
      await this.migrateTarget({ slug, storage }, createdAt);
      return await this.options.registry.insertTenant(slug, hosts, {
        name,
        status: 'active',
        storage,
        attributes: {},
        maxUsers: null,
        maxSites: null,
        productName: null,
        logoFile: null,
        primaryColor: null,
        language: null,
        timezone: null,
      }, createdAt);
    } catch (error) {
      await this.removeStorage(slug, storage, storageSpec).catch(() => undefined);
      rmSync(paths.tenantDir(slug), { recursive: true, force: true });
      throw error;
    }
  }

  async update(slugOrHost: string, input: UpdateTenantInput): Promise<Tenant> {
    const tenant = await this.get(slugOrHost);
    const values: TenantRowValues = { ...rowValuesOf(tenant) };
    const next: { -readonly [K in keyof TenantRowValues]: TenantRowValues[K] } = values;
    if (input.name !== undefined) {
      if (input.name.trim() === '') throw new PluraError('invalid_input', 'A tenant name cannot be empty.');
      next.name = input.name.trim();
    }
    let hosts: string[] | undefined;
    if (input.addHosts?.length || input.removeHosts?.length) {
      const removed = new Set((input.removeHosts ?? []).map(requireHost));
      hosts = this.tenantHosts([...tenant.hosts.filter((h) => !removed.has(h)), ...(input.addHosts ?? [])]);
      if (hosts.length === 0) throw new PluraError('invalid_input', `Tenant "${tenant.slug}" must keep at least one hostname.`);
    }
    if (input.attributes || input.removeAttributes) {
      const attributes: Record<string, string> = { ...tenant.attributes };
      for (const [key, value] of Object.entries(input.attributes ?? {})) {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key) || key.startsWith('@')) {
          throw new PluraError('invalid_input', `Attribute name "${key}" must be 1 to 64 letters, digits, "_", "." or "-" (names starting with @ are reserved).`);
        }
        attributes[key] = value;
      }
      for (const key of input.removeAttributes ?? []) delete attributes[key];
      next.attributes = attributes;
    }
    if (input.maxUsers !== undefined) next.maxUsers = checkLimit('max users', input.maxUsers);
    if (input.maxSites !== undefined) next.maxSites = checkLimit('max sites', input.maxSites);
    if (input.productName !== undefined) next.productName = input.productName?.trim() || null;
    if (input.primaryColor !== undefined) {
      if (input.primaryColor !== null && !/^#[0-9a-fA-F]{6}$/.test(input.primaryColor)) {
        throw new PluraError('invalid_input', `Primary colour "${input.primaryColor}" must look like #1a73e8.`);
      }
      next.primaryColor = input.primaryColor?.toLowerCase() ?? null;
    }
    if (input.language !== undefined) {
      if (input.language !== null && !/^[a-z]{2,3}(-[a-zA-Z0-9]{2,8})?$/.test(input.language)) {
        throw new PluraError('invalid_input', `Language "${input.language}" must be a language code such as en or pt-BR.`);
      }
      next.language = input.language;
    }
    if (input.timezone !== undefined) next.timezone = input.timezone === null ? null : requireTimezone(input.timezone);
    if (input.logoPath !== undefined && input.logo !== undefined) throw new PluraError('invalid_input', 'Give a logo file or logo bytes, not both.');
    if (input.logoPath !== undefined) next.logoFile = input.logoPath === null ? null : this.copyLogo(tenant.slug, input.logoPath);
    if (input.logo !== undefined) next.logoFile = this.writeLogo(tenant.slug, input.logo);
    const updated = await this.options.registry.updateTenant(tenant.slug, values, hosts);
    const previousLogo = tenant.branding.logoFile;
    // A replaced or dropped logo leaves no file behind (logo.png replaced by logo.webp, say).
    if (previousLogo && previousLogo !== updated.branding.logoFile) {
      rmSync(join(this.options.paths.tenantFilesDir(tenant.slug), basename(previousLogo)), { force: true });
    }
    return updated;
  }

  async setStatus(slugOrHost: string, status: 'active' | 'deactivated'): Promise<Tenant> {
    const tenant = await this.get(slugOrHost);
    return this.options.registry.updateTenant(tenant.slug, { ...rowValuesOf(tenant), status });
  }

  /** Deletes the tenant and all its data. Refuses without `force`. */
  async delete(slugOrHost: string, options: { force: boolean }): Promise<Tenant> {
    const tenant = await this.get(slugOrHost);
    if (!options.force) {
      throw new PluraError(
        'confirmation_required',
        `Deleting tenant "${tenant.slug}" removes all its data for ever; repeat with --force to confirm.`,
      );
    }
    await this.options.registry.deleteTenant(tenant.slug);
    await this.options.stores.close(tenant.slug);
    await this.removeStorage(tenant.slug, tenant.storage, tenant.storage.kind === 'postgres' ? tenant.storage.url : 'sqlite');
    rmSync(this.options.paths.tenantDir(tenant.slug), { recursive: true, force: true });
    return tenant;
  }

  /** Applies pending migrations to one tenant's store. */
  async migrate(tenant: Tenant): Promise<MigrationReport> {
    return this.migrateTarget(tenant);
  }

  /** Removes everything in the tenant's tmp/ folder, and nothing else. */
  clearCache(tenant: Tenant): void {
    const tmp = this.options.paths.tenantTmpDir(tenant.slug);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
  }

  private async migrateTarget(target: { slug: string; storage: TenantStorage }, createdAt?: string): Promise<MigrationReport> {
    const database = openTenantDatabase(target, this.options.storeOptions);
    try {
      const report = await migrateTenantDatabase(target, database);
      if (createdAt) await verifyStoreIdentity(database.db, target.slug, createdAt);
      return report;
    } finally {
      await database.close();
    }
  }

  private claimTenantDir(slug: string): void {
    const paths = this.options.paths;
    try {
      mkdirSync(paths.tenantsDir, { recursive: true });
      mkdirSync(paths.tenantDir(slug));
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
        throw new PluraError(
          'duplicate_tenant',
          `The folder ${paths.tenantDir(slug)} already exists but no tenant "${slug}" is registered; move it away before creating this tenant.`,
        );
      }
      throw new PluraError('data_dir_unwritable', `Cannot create ${paths.tenantDir(slug)}: ${describeError(error)}.`, { cause: error });
    }
  }

  private async removeStorage(slug: string, storage: TenantStorage | undefined, adminUrl: string): Promise<void> {
    if (storage?.kind === 'postgres') await dropPostgresTenant(adminUrl, storage);
    void slug;
  }

  private copyLogo(slug: string, source: string): string {
    if (!existsSync(source)) throw new PluraError('invalid_input', `Logo file ${source} does not exist.`);
    const extension = extname(source).toLowerCase();
    if (!['.png', '.svg', '.jpg', '.jpeg', '.gif', '.webp'].includes(extension)) {
      throw new PluraError('invalid_input', `Logo ${basename(source)} must be a .png, .svg, .jpg, .gif or .webp image.`);
    }
    const fileName = `logo${extension}`;
    const filesDir = this.options.paths.tenantFilesDir(slug);
    mkdirSync(filesDir, { recursive: true });
    copyFileSync(source, join(filesDir, fileName));
    return fileName;
  }

  /** Normalized, without duplicates, and never the platform's own host (the tenant would never answer for it). */
  private tenantHosts(raw: readonly string[]): string[] {
    const hosts = uniqueHosts(raw);
    const platformHost = normalizeHost(this.options.platformHost ?? '');
    if (platformHost && hosts.includes(platformHost)) {
      throw new PluraError('invalid_host', `${platformHost} is the platform's own host; a tenant cannot answer for it.`);
    }
    return hosts;
  }

  /** Writes uploaded logo bytes in one step (temp file, then rename), so a reader never sees half an image. */
  private writeLogo(slug: string, logo: { readonly bytes: Uint8Array; readonly extension: LogoExtension }): string {
    if (logo.bytes.length === 0) throw new PluraError('invalid_input', 'The logo is empty.');
    const fileName = `logo${logo.extension}`;
    const filesDir = this.options.paths.tenantFilesDir(slug);
    const temp = join(filesDir, `.${fileName}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      mkdirSync(filesDir, { recursive: true });
      writeFileSync(temp, logo.bytes, { flag: 'wx', mode: 0o644 });
      renameSync(temp, join(filesDir, fileName));
    } catch (error) {
      rmSync(temp, { force: true });
      throw new PluraError('data_dir_unwritable', `Cannot write the logo of tenant "${slug}" into ${filesDir}: ${describeError(error)}.`, { cause: error });
    }
    return fileName;
  }
}

function uniqueHosts(raw: readonly string[]): string[] {
  return [...new Set(raw.map(requireHost))];
}

function checkLimit(label: string, value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 0) throw new PluraError('invalid_input', `The ${label} limit must be a whole number of 0 or more.`);
  return value;
}

export function requireTimezone(timezone: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return timezone;
  } catch {
    throw new PluraError('invalid_input', `"${timezone}" is not a known time zone (expected something like Europe/Paris or UTC).`);
  }
}


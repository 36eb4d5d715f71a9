import type { Kysely, Selectable } from 'kysely';
import { LRUCache } from 'lru-cache';
import { parseAllowlist, type Allowlist } from '../access/ip-allowlist.js';
import type { SiteTable } from '../sites/sites.tables.js';
import type { TenantDatabase } from '../storage/tenant-database.js';
import type { GoalTable } from './tracking.tables.js';

export type GoalRow = Selectable<GoalTable>;

/** What tracking needs of one site: its row, hosts, exclusions and goals. */
export interface SiteContext {
  readonly row: Selectable<SiteTable>;
  readonly hosts: readonly string[];
  readonly excludedIps: Allowlist | null;
  readonly excludedAgents: readonly string[];
  readonly excludedParameters: ReadonlySet<string>;
  readonly goals: readonly GoalRow[];
}

/** Query parameters Matomo strips from page URLs by default (click ids, session ids). */
const defaultExcludedParameters = ['gclid', 'fbclid', 'msclkid', 'yclid', 'dclid', 'twclid', 'ttclid', 'li_fat_id', 'epik', 'phpsessid', 'jsessionid', 'sessionid', 'aspsessionid', 'sid', 'pk_vid', 'mtm_vid'];

function splitList(value: string): string[] {
  return value.split(/[,\n]/).map((part) => part.trim()).filter((part) => part !== '');
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** Loads what tracking needs of each site (site row, URLs, exclusions, goals). */
export async function loadSiteContexts(db: Kysely<TenantDatabase>, siteIds: readonly number[]): Promise<Map<number, SiteContext>> {
  const result = new Map<number, SiteContext>();
  if (siteIds.length === 0) return result;
  const ids = [...new Set(siteIds)];
  const [rows, urls, goals] = await Promise.all([
    db.selectFrom('site').selectAll().where('id', 'in', ids).execute(),
    db.selectFrom('site_url').selectAll().where('site_id', 'in', ids).execute(),
    db.selectFrom('goal').selectAll().where('site_id', 'in', ids).execute(),
  ]);
  for (const row of rows) {
    let excludedIps: Allowlist | null = null;
    const ipList = splitList(row.excluded_ips);
    if (ipList.length > 0) {
      try {
        excludedIps = parseAllowlist(ipList);
      } catch {
        excludedIps = null; // a bad entry was refused when saved; never block tracking on it
      }
    }
    result.set(row.id, {
      row,
      hosts: urls.filter((u) => u.site_id === row.id).map((u) => hostOf(u.url)).filter((h) => h !== ''),
      excludedIps,
      excludedAgents: splitList(row.excluded_user_agents).map((a) => a.toLowerCase()),
      excludedParameters: new Set([...defaultExcludedParameters, ...splitList(row.excluded_parameters).map((p) => p.toLowerCase())]),
      goals: goals.filter((g) => g.site_id === row.id),
    });
  }
  return result;
}

interface TenantSites {
  readonly loadedAt: number;
  /** Site id → context, or null for an id known not to exist. */
  readonly sites: Map<number, SiteContext | null>;
}

/**
 * Site settings as tracking sees them, cached per tenant: every hit needs them,
 * and they change rarely. Changes made in this process drop the tenant's entry at
 * once (`invalidate`); changes made elsewhere (another node, a console command)
 * are seen within `ttlMs`.
 */
export class SiteConfigCache {
  private readonly tenants: LRUCache<string, TenantSites>;

  constructor(
    private readonly ttlMs: number,
    maxTenants = 5000,
  ) {
    this.tenants = new LRUCache<string, TenantSites>({ max: maxTenants });
  }

  /** The contexts of these sites (absent ids are missing from the result); `load` reads the store on a miss. */
  async sites(tenantKey: string, siteIds: readonly number[], load: (missing: number[]) => Promise<Map<number, SiteContext>>): Promise<Map<number, SiteContext>> {
    let entry = this.tenants.get(tenantKey);
    if (entry && Date.now() - entry.loadedAt > this.ttlMs) entry = undefined;
    const missing = [...new Set(siteIds)].filter((id) => !entry?.sites.has(id));
    if (missing.length > 0) {
      const loaded = await load(missing);
      entry ??= { loadedAt: Date.now(), sites: new Map() };
      for (const id of missing) entry.sites.set(id, loaded.get(id) ?? null);
      this.tenants.set(tenantKey, entry);
    }
    const result = new Map<number, SiteContext>();
    for (const id of siteIds) {
      const site = entry?.sites.get(id);
      if (site) result.set(id, site);
    }
    return result;
  }

  /**
   * One site's context, read from the cache without waiting when it is there
   * (null: no such site); a promise when the store must be read first.
   */
  site(tenantKey: string, siteId: number, load: (missing: number[]) => Promise<Map<number, SiteContext>>): SiteContext | null | Promise<SiteContext | null> {
    const entry = this.tenants.get(tenantKey);
    if (entry && Date.now() - entry.loadedAt <= this.ttlMs) {
      const site = entry.sites.get(siteId);
      if (site !== undefined) return site;
    }
    return this.sites(tenantKey, [siteId], load).then((found) => found.get(siteId) ?? null);
  }

  invalidate(tenantKey: string): void {
    this.tenants.delete(tenantKey);
  }
}

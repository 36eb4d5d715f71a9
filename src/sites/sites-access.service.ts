import { deleteSiteReports } from '../reports/archive-store.js';
import { deleteSiteRawData } from '../tracking/raw-data.js';
import type { Selectable } from 'kysely';
import { PluraError } from '../core/errors.js';
import { requireTenantScope, type ActContext } from '../access/context.js';
import { identityDbOf, identityStore } from '../access/identity.store.js';
import { validateAllowlistEntry } from '../access/ip-allowlist.js';
import { siteFilter, type Capability, type SensitiveDataRole } from '../access/policy.js';
import { authorize } from '../access/users.service.js';
import { recordAudit } from '../audit/audit.service.js';
import { requireTimezone } from '../tenancy/tenants.service.js';
import { addSite } from './sites.service.js';
import type { SiteTable } from './sites.tables.js';

type SiteRow = Selectable<SiteTable>;

/** Matomo's site row, as SitesManager.getSiteFromId answers it. */
export interface SiteView {
  readonly idsite: number;
  readonly name: string;
  readonly main_url: string;
  readonly ts_created: string;
  readonly ecommerce: number;
  readonly sitesearch: number;
  readonly sitesearch_keyword_parameters: string;
  readonly sitesearch_category_parameters: string;
  readonly timezone: string;
  readonly currency: string;
  readonly exclude_unknown_urls: number;
  readonly excluded_ips: string;
  readonly excluded_parameters: string;
  readonly excluded_user_agents: string;
  readonly excluded_referrers: string;
  readonly group: string;
  readonly type: string;
  readonly keep_url_fragment: number;
  readonly sensitive_data_role: string;
  readonly creator_login?: string;
  readonly timezone_name: string;
  readonly currency_name: string;
}

// Building the formatter is costly; one serves every call.
const currencyNames = new Intl.DisplayNames(['en'], { type: 'currency' });

function currencyName(code: string): string {
  try {
    return currencyNames.of(code) ?? code;
  } catch {
    return code;
  }
}

export function presentSite(row: SiteRow, withCreator: boolean): SiteView {
  return {
    idsite: row.id,
    name: row.name,
    main_url: row.main_url,
    ts_created: row.created_at.replace('T', ' ').slice(0, 19),
    ecommerce: row.ecommerce,
    sitesearch: row.sitesearch,
    sitesearch_keyword_parameters: row.sitesearch_keyword_parameters,
    sitesearch_category_parameters: row.sitesearch_category_parameters,
    timezone: row.timezone,
    currency: row.currency,
    exclude_unknown_urls: row.exclude_unknown_urls,
    excluded_ips: row.excluded_ips,
    excluded_parameters: row.excluded_parameters,
    excluded_user_agents: row.excluded_user_agents,
    excluded_referrers: row.excluded_referrers,
    group: row.group_name,
    type: row.type,
    keep_url_fragment: row.keep_url_fragment,
    sensitive_data_role: row.sensitive_data_role,
    ...(withCreator ? { creator_login: row.creator_login } : {}),
    timezone_name: row.timezone,
    currency_name: currencyName(row.currency),
  };
}

function isSuper(ctx: ActContext): boolean {
  const { tenant } = requireTenantScope(ctx.scope);
  return siteFilter(ctx.actor, 'manage_tenant', tenant.slug) === 'all';
}

async function loadSite(ctx: ActContext, siteId: number): Promise<SiteRow> {
  const { store } = requireTenantScope(ctx.scope);
  const row = await store.db.selectFrom('site').selectAll().where('id', '=', siteId).executeTakeFirst();
  if (!row) throw new PluraError('unknown_site', `An unexpected website was found in the request: website id = ${siteId} not found.`);
  return row;
}

/** One site the caller may use `capability` on; an unknown id and a forbidden one are both refused. */
export async function getSite(ctx: ActContext, siteId: number, capability: Capability = 'view_reports'): Promise<SiteView> {
  const { tenant } = requireTenantScope(ctx.scope);
  // Decide before loading, so the answer never reveals whether another id exists.
  authorize(ctx, capability, { kind: 'site', tenant: tenant.slug, siteId }, `use site ${siteId}`);
  return presentSite(await loadSite(ctx, siteId), isSuper(ctx));
}

/** Sites the caller may use `capability` on, filtered in SQL by the policy's site filter. */
export async function listSitesFor(ctx: ActContext, capability: Capability): Promise<SiteView[]> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  const filter = siteFilter(ctx.actor, capability, tenant.slug);
  if (filter !== 'all' && filter.length === 0) return [];
  let query = store.db.selectFrom('site').selectAll().orderBy('id');
  if (filter !== 'all') query = query.where('id', 'in', [...filter]);
  const withCreator = isSuper(ctx);
  return (await query.execute()).map((row) => presentSite(row, withCreator));
}

export interface SiteSettingsInput {
  readonly name?: string | undefined;
  readonly urls?: readonly string[] | undefined;
  readonly timezone?: string | undefined;
  readonly currency?: string | undefined;
  readonly ecommerce?: boolean | undefined;
  readonly siteSearch?: boolean | undefined;
  readonly searchKeywordParameters?: string | undefined;
  readonly searchCategoryParameters?: string | undefined;
  readonly excludedIps?: string | undefined;
  readonly excludedParameters?: string | undefined;
  readonly excludedUserAgents?: string | undefined;
  readonly excludedReferrers?: string | undefined;
  readonly excludeUnknownUrls?: boolean | undefined;
  readonly keepUrlFragments?: number | undefined;
  readonly type?: string | undefined;
  readonly group?: string | undefined;
  readonly sensitiveDataRole?: string | undefined;
}

const sensitiveRoles: readonly SensitiveDataRole[] = ['admin', 'write', 'none'];
const currencies = new Set(Intl.supportedValuesOf('currency'));

function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new PluraError('invalid_input', `The URL "${raw}" is not valid.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PluraError('invalid_input', `The URL "${raw}" must use http or https.`);
  return url.toString().replace(/\/$/, '');
}

function settingsColumns(input: SiteSettingsInput): Partial<Record<string, string | number>> {
  const columns: Partial<Record<string, string | number>> = {};
  if (input.name !== undefined) {
    if (input.name.trim() === '') throw new PluraError('invalid_input', 'Please specify a value for \'siteName\'.');
    columns['name'] = input.name.trim();
  }
  if (input.timezone !== undefined) columns['timezone'] = requireTimezone(input.timezone);
  if (input.currency !== undefined) {
    const currency = input.currency.toUpperCase();
    if (!currencies.has(currency)) throw new PluraError('invalid_input', `The currency "${input.currency}" is not a known ISO 4217 code.`);
    columns['currency'] = currency;
  }
  if (input.ecommerce !== undefined) columns['ecommerce'] = input.ecommerce ? 1 : 0;
  if (input.siteSearch !== undefined) columns['sitesearch'] = input.siteSearch ? 1 : 0;
  if (input.searchKeywordParameters !== undefined) columns['sitesearch_keyword_parameters'] = input.searchKeywordParameters;
  if (input.searchCategoryParameters !== undefined) columns['sitesearch_category_parameters'] = input.searchCategoryParameters;
  if (input.excludedIps !== undefined) {
    for (const entry of input.excludedIps.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
      const problem = validateAllowlistEntry(entry);
      if (problem) throw new PluraError('invalid_input', `Excluded IPs: ${problem}`);
    }
    columns['excluded_ips'] = input.excludedIps;
  }
  if (input.excludedParameters !== undefined) columns['excluded_parameters'] = input.excludedParameters;
  if (input.excludedUserAgents !== undefined) columns['excluded_user_agents'] = input.excludedUserAgents;
  if (input.excludedReferrers !== undefined) columns['excluded_referrers'] = input.excludedReferrers;
  if (input.excludeUnknownUrls !== undefined) columns['exclude_unknown_urls'] = input.excludeUnknownUrls ? 1 : 0;
  if (input.keepUrlFragments !== undefined) {
    if (![0, 1, 2].includes(input.keepUrlFragments)) throw new PluraError('invalid_input', 'keepURLFragments must be 0, 1 or 2.');
    columns['keep_url_fragment'] = input.keepUrlFragments;
  }
  if (input.type !== undefined) columns['type'] = input.type;
  if (input.group !== undefined) columns['group_name'] = input.group;
  if (input.sensitiveDataRole !== undefined) {
    if (!(sensitiveRoles as readonly string[]).includes(input.sensitiveDataRole)) throw new PluraError('invalid_input', 'The sensitive data role must be admin, write or none.');
    columns['sensitive_data_role'] = input.sensitiveDataRole;
  }
  return columns;
}

/** SitesManager.addSite: super users only. */
export async function createSite(ctx: ActContext, input: SiteSettingsInput): Promise<SiteView> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  authorize(ctx, 'manage_tenant', { kind: 'tenant', tenant: tenant.slug }, 'add sites');
  const urls = (input.urls ?? []).map(normalizeUrl);
  const first = urls[0];
  if (!first) throw new PluraError('invalid_input', "Please specify a value for 'urls'.");
  const settings = ctx.platform.settings.forTenant(tenant.slug);
  const extra = settingsColumns(input);
  const site = await addSite(tenant, store, {
    name: input.name ?? '',
    url: first,
    timezone: input.timezone ?? tenant.timezone ?? settings.get('General.default_timezone'),
    currency: input.currency ?? settings.get('General.default_currency'),
  });
  const creator = ctx.actor.kind === 'tenant_user' || ctx.actor.kind === 'platform_user' ? ctx.actor.login : '';
  await store.db.transaction().execute(async (trx) => {
    await trx.updateTable('site').set({ ...extra, creator_login: creator }).where('id', '=', site.id).execute();
    for (const url of urls.slice(1)) {
      await trx.insertInto('site_url').values({ site_id: site.id, url }).onConflict((oc) => oc.doNothing()).execute();
    }
    await recordAudit(ctx, 'site.created', { siteId: site.id, after: { name: site.name, urls } }, identityDbOf(trx));
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
  return presentSite(await loadSite(ctx, site.id), true);
}

/** SitesManager.updateSite: admins of the site. */
export async function updateSite(ctx: ActContext, siteId: number, input: SiteSettingsInput): Promise<SiteView> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  authorize(ctx, 'configure_site', { kind: 'site', tenant: tenant.slug, siteId }, `configure site ${siteId}`);
  const before = await loadSite(ctx, siteId);
  const columns = settingsColumns(input);
  const urls = input.urls?.map(normalizeUrl);
  await store.db.transaction().execute(async (trx) => {
    await trx.updateTable('site').set({ ...columns, ...(urls?.[0] ? { main_url: urls[0] } : {}), updated_at: new Date().toISOString() }).where('id', '=', siteId).execute();
    if (urls && urls.length > 0) {
      await trx.deleteFrom('site_url').where('site_id', '=', siteId).execute();
      await trx.insertInto('site_url').values([...new Set(urls)].map((url) => ({ site_id: siteId, url }))).execute();
    }
    await recordAudit(ctx, 'site.updated', { siteId, before: presentSite(before, true), after: { ...columns, ...(urls ? { urls } : {}) } }, identityDbOf(trx));
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
  return presentSite(await loadSite(ctx, siteId), isSuper(ctx));
}

/** SitesManager.deleteSite: super users; never the last site. */
export async function deleteSite(ctx: ActContext, siteId: number): Promise<void> {
  const { tenant, store } = requireTenantScope(ctx.scope);
  authorize(ctx, 'manage_tenant', { kind: 'tenant', tenant: tenant.slug }, 'delete sites');
  const before = await loadSite(ctx, siteId);
  await store.db.transaction().execute(async (trx) => {
    const { count } = await trx.selectFrom('site').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    if (Number(count) <= 1) throw new PluraError('invalid_input', 'The website cannot be deleted as it is the only website; add another one first.');
    await trx.deleteFrom('site').where('id', '=', siteId).execute();
    await identityStore.removeSiteGrants(identityDbOf(trx), siteId);
    // Matomo deletes a site's data with it: raw hits, goals, reports and what belongs to them.
    await deleteSiteRawData(trx, siteId);
    await deleteSiteReports(trx, siteId);
    await recordAudit(ctx, 'site.deleted', { siteId, before: presentSite(before, true) }, identityDbOf(trx));
  });
  ctx.platform.tracking.siteConfigChanged(tenant);
  ctx.platform.tracking.rawDataDeleted(tenant);
}

export async function siteUrls(ctx: ActContext, siteId: number): Promise<string[]> {
  const { store } = requireTenantScope(ctx.scope);
  await getSite(ctx, siteId);
  return (await store.db.selectFrom('site_url').select('url').where('site_id', '=', siteId).execute()).map((row) => row.url);
}

/** The tracking snippet for a site, pointing at this tenant's own host. */
export function javascriptTag(siteId: number, baseUrl: string): string {
  const base = baseUrl.replace(/\/$/, '');
  return `<!-- Matomo -->
<script>
  var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="${base}/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '${siteId}']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
</script>
<!-- End Matomo Code -->
`;
}

import type { MatomoCall, MatomoModule } from '../matomo-api/method.js';
import { requireSiteId } from '../matomo-api/method.js';
import type { MatomoValue } from '../matomo-api/render.js';
import { authorize } from '../access/users.service.js';
import { requireTenantScope } from '../access/context.js';
import { createSite, deleteSite, getSite, javascriptTag, listSitesFor, siteUrls, updateSite, type SiteSettingsInput, type SiteView } from './sites-access.service.js';

const rows = (sites: SiteView[]): MatomoValue => sites.map((site) => ({ ...site }));

function optionalBool(call: MatomoCall, name: string): boolean | undefined {
  return call.params.has(name) ? call.params.getBool(name, false) : undefined;
}

/** Matomo's addSite/updateSite parameters (comma-separated lists, as Matomo takes them). */
function siteInput(call: MatomoCall): SiteSettingsInput {
  const { params } = call;
  const keep = params.getInt('keepURLFragments');
  return {
    name: params.get('siteName'),
    urls: params.has('urls') ? params.getList('urls') : undefined,
    timezone: params.get('timezone') || undefined,
    currency: params.get('currency') || undefined,
    ecommerce: optionalBool(call, 'ecommerce'),
    siteSearch: optionalBool(call, 'siteSearch'),
    searchKeywordParameters: params.get('searchKeywordParameters'),
    searchCategoryParameters: params.get('searchCategoryParameters'),
    excludedIps: params.get('excludedIps'),
    excludedParameters: params.get('excludedQueryParameters'),
    excludedUserAgents: params.get('excludedUserAgents'),
    excludedReferrers: params.get('excludedReferrers'),
    excludeUnknownUrls: optionalBool(call, 'excludeUnknownUrls'),
    keepUrlFragments: keep,
    type: params.get('type') || undefined,
    group: params.get('group'),
    sensitiveDataRole: params.get('sensitiveDataRole') || undefined,
  };
}

function baseUrlOf(call: MatomoCall): string {
  const explicit = call.params.get('piwikUrl') ?? call.params.get('matomoUrl');
  if (explicit) return explicit.includes('://') ? explicit : `https://${explicit}`;
  return `${call.reply.request.protocol}://${call.reply.request.host}`;
}

/** Matomo's SitesManager API on the tenant's own sites. */
export const sitesManagerApi: MatomoModule = {
  async addSite(call) {
    const site = await createSite(call.ctx, { ...siteInput(call), name: call.params.require('siteName') });
    return site.idsite;
  },
  async updateSite(call) {
    await updateSite(call.ctx, requireSiteId(call.params), siteInput(call));
    return null;
  },
  async deleteSite({ ctx, params }) {
    await deleteSite(ctx, requireSiteId(params));
    return null;
  },
  async getSiteFromId({ ctx, params }) {
    return { ...(await getSite(ctx, requireSiteId(params))) };
  },
  async getSiteUrlsFromId({ ctx, params }) {
    return siteUrls(ctx, requireSiteId(params));
  },
  async getAllSites({ ctx }) {
    const { tenant } = requireTenantScope(ctx.scope);
    authorize(ctx, 'manage_tenant', { kind: 'tenant', tenant: tenant.slug }, 'list all sites');
    return rows(await listSitesFor(ctx, 'view_reports'));
  },
  async getAllSitesId({ ctx }) {
    const { tenant } = requireTenantScope(ctx.scope);
    authorize(ctx, 'manage_tenant', { kind: 'tenant', tenant: tenant.slug }, 'list all sites');
    return (await listSitesFor(ctx, 'view_reports')).map((site) => site.idsite);
  },
  async getSitesWithViewAccess({ ctx }) {
    return rows(await listSitesFor(ctx, 'view_reports'));
  },
  async getSitesWithAtLeastViewAccess({ ctx }) {
    return rows(await listSitesFor(ctx, 'view_reports'));
  },
  async getSitesWithAdminAccess({ ctx }) {
    return rows(await listSitesFor(ctx, 'configure_site'));
  },
  async getSitesIdWithAtLeastViewAccess({ ctx }) {
    return (await listSitesFor(ctx, 'view_reports')).map((site) => site.idsite);
  },
  async getSitesIdWithAdminAccess({ ctx }) {
    return (await listSitesFor(ctx, 'configure_site')).map((site) => site.idsite);
  },
  async getJavascriptTag(call) {
    const siteId = requireSiteId(call.params);
    await getSite(call.ctx, siteId);
    // Matomo: the snippet comes HTML-escaped.
    return javascriptTag(siteId, baseUrlOf(call)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#039;');
  },
};

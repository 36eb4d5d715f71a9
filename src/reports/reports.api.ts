import { PluraError } from '../core/errors.js';
import type { ActContext } from '../access/context.js';
import { siteFilter } from '../access/policy.js';
import { authorize } from '../access/users.service.js';
import type { MatomoCall, MatomoModule } from '../matomo-api/method.js';
import type { MatomoParams } from '../matomo-api/params.js';
import type { MatomoValue } from '../matomo-api/render.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import { recordsOf, type ArchiveScope } from './archiver.js';
import type { NumericRecord, ReportRow, ReportTable } from './datatable.js';
import type { Records } from './day-builder.js';
import { resolvePeriods, type Period } from './periods.js';
import { segmentFor, type Segment } from './segments.js';
import { effectiveSegment } from '../workspace/data-policy.js';
import { customDimensionScope } from './management.api.js';
import { percentFormatter, renderTable, type TableShape } from './table-output.js';

/**
 * Matomo's Reporting API over the archives: one or several sites (`idSite=1,2` or
 * `all`), one or several periods (`lastN`, `previousN`, `A,B`), a segment, and
 * each report's own shape. Several sites or periods answer keyed by site id and
 * by period label, as Matomo does.
 */

interface ReportSite {
  readonly id: number;
  readonly timezone: string;
}

interface ReportRequest {
  readonly ctx: ActContext;
  readonly tenant: Tenant;
  readonly store: TenantStore;
  readonly params: MatomoParams;
  readonly segment: Segment | null;
}

function tenantOf(ctx: ActContext): { tenant: Tenant; store: TenantStore } {
  if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Reports belong to a tenant: call the API on a tenant host.');
  return ctx.scope;
}

/** `idSite`: one id, a comma list, or `all` (the sites the caller may view). Returns the ids and whether the answer is keyed by site. */
async function requestedSites(ctx: ActContext, tenant: Tenant, store: TenantStore, params: MatomoParams): Promise<{ sites: ReportSite[]; multiple: boolean }> {
  const raw = (params.get('idSite') ?? params.get('idsite') ?? '').trim();
  if (raw === '') throw new PluraError('invalid_input', "Please specify a value for 'idSite'.");
  let ids: number[];
  let multiple: boolean;
  if (raw.toLowerCase() === 'all') {
    const allowed = siteFilter(ctx.actor, 'view_reports', tenant.slug);
    const rows = await store.db.selectFrom('site').select('id').orderBy('id').execute();
    ids = rows.map((row) => row.id).filter((id) => allowed === 'all' || allowed.includes(id));
    multiple = true;
  } else {
    const parts = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
    ids = parts.map((part) => {
      if (!/^\d+$/.test(part) || Number(part) < 1) throw new PluraError('invalid_input', `The parameter 'idSite' must be a site id, a list of site ids or "all", not "${raw}".`);
      return Number(part);
    });
    multiple = parts.length > 1;
    for (const id of ids) authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId: id }, `see reports of site ${id}`);
  }
  const unique = [...new Set(ids)];
  const rows = unique.length === 0 ? [] : await store.db.selectFrom('site').select(['id', 'timezone']).where('id', 'in', unique).execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  const missing = unique.find((id) => !byId.has(id));
  if (missing !== undefined) throw new PluraError('unknown_site', `An unexpected website was found in the request: website id was set to '${missing}'.`);
  return { sites: unique.map((id) => ({ id, timezone: byId.get(id)?.timezone ?? 'UTC' })), multiple };
}

function archiveScope(request: ReportRequest, site: ReportSite): ArchiveScope {
  const settings = request.ctx.platform.settings.forTenant(request.tenant.slug);
  const maxRows = settings.get('General.datatable_archiving_maximum_rows');
  return {
    db: request.store.db,
    tenantKey: `${request.tenant.slug}\u0000${request.tenant.createdAt}`,
    site,
    build: settings.get('General.browser_archiving'),
    ttlSeconds: settings.get('General.time_before_today_archive_considered_outdated'),
    limits: { maxRows, maxSubRows: Math.max(100, Math.floor(maxRows / 5)) },
    ...(request.store.direct ? { direct: request.store.direct } : {}),
  };
}

/**
 * Runs `compute` for every requested site and period and shapes the answer:
 * one value, or keyed by period label, by site id, or both (site, then period).
 */
async function forEachSiteAndPeriod(call: MatomoCall, names: readonly string[], compute: (records: Records, request: ReportRequest, period: Period, site: ReportSite) => MatomoValue | Promise<MatomoValue>): Promise<MatomoValue> {
  const { ctx, params } = call;
  const { tenant, store } = tenantOf(ctx);
  const { sites, multiple: multipleSites } = await requestedSites(ctx, tenant, store, params);
  const periodParam = params.get('period');
  const dateParam = params.get('date');
  if (!periodParam) throw new PluraError('invalid_input', "Please specify a value for 'period'.");
  if (!dateParam) throw new PluraError('invalid_input', "Please specify a value for 'date'.");
  // The request's segment with the caller's data policy ANDed in (row-level filters): request parameters never widen it.
  const segment = await effectiveSegment(ctx, params.get('segment'), sites.map((site) => site.id));
  const request: ReportRequest = { ctx, tenant, store, params, segment };
  // Reports include every hit acknowledged so far.
  await ctx.platform.tracking.drain(tenant);

  const perSite = new Map<number, MatomoValue>();
  for (const site of sites) {
    const { periods, multiple } = resolvePeriods(periodParam, dateParam, site.timezone);
    const scope = archiveScope(request, site);
    const values: [string, MatomoValue][] = [];
    for (const period of periods) {
      const records = await recordsOf(scope, period, segment, names);
      values.push([period.label, await compute(records, request, period, site)]);
    }
    perSite.set(site.id, multiple ? Object.fromEntries(values) : (values[0]?.[1] ?? null));
  }
  if (!multipleSites) return perSite.get(sites[0]?.id ?? 0) ?? [];
  return Object.fromEntries([...perSite].map(([id, value]) => [String(id), value]));
}

// ---------------------------------------------------------------------------------------------
// Metrics

const round = (value: number, digits = 0): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
const ratio = (a: number | undefined, b: number | undefined): number => (b ? (a ?? 0) / b : 0);

const visitProcessed: TableShape['processed'] = undefined;

const pageProcessed: NonNullable<TableShape['processed']> = (c, percent) => ({
  avg_time_on_page: round(ratio(c['sum_time_spent'], c['nb_hits'])),
  bounce_rate: percent(ratio(c['entry_bounce_count'], c['entry_nb_visits'])),
  exit_rate: percent(ratio(c['exit_nb_visits'], c['nb_visits'])),
});

const eventProcessed: NonNullable<TableShape['processed']> = (c) => ({
  avg_event_value: round(ratio(c['sum_event_value'], c['nb_events_with_value']), 2),
});

const searchProcessed: NonNullable<TableShape['processed']> = (c, percent) => ({
  exit_rate: percent(ratio(c['exit_nb_visits'], c['nb_visits'])),
});

function visitsSummary(records: Records, params: MatomoParams): MatomoValue {
  const summary = (records.get('VisitsSummary') ?? {}) as NumericRecord;
  if (!summary['nb_visits']) return [];
  const percent = percentFormatter(params);
  const value: Record<string, MatomoValue> = { ...summary };
  value['bounce_rate'] = percent(ratio(summary['bounce_count'], summary['nb_visits']));
  value['nb_actions_per_visit'] = round(ratio(summary['nb_actions'], summary['nb_visits']), 1);
  value['avg_time_on_site'] = round(ratio(summary['sum_visit_length'], summary['nb_visits']));
  const columns = params.getList('columns');
  if (columns.length > 0) return Object.fromEntries(Object.entries(value).filter(([name]) => columns.includes(name)));
  return value;
}

// ---------------------------------------------------------------------------------------------
// Table reports

interface TableReport {
  readonly record: string | ((call: MatomoCall) => Promise<string>);
  readonly shape: TableShape;
  /** API.getReportMetadata */
  readonly category: string;
  readonly name: string;
  readonly dimension: string;
  readonly metrics: readonly string[];
}

const VISIT_METRICS = ['nb_uniq_visitors', 'nb_visits', 'nb_actions', 'max_actions', 'sum_visit_length', 'bounce_count', 'nb_visits_converted'] as const;
const PAGE_METRICS = ['nb_visits', 'nb_uniq_visitors', 'nb_hits', 'sum_time_spent', 'entry_nb_visits', 'entry_nb_actions', 'entry_sum_visit_length', 'entry_bounce_count', 'exit_nb_visits'] as const;
const EVENT_METRICS = ['nb_uniq_visitors', 'nb_visits', 'nb_events', 'nb_events_with_value', 'sum_event_value', 'min_event_value', 'max_event_value'] as const;

const extraValue = (row: ReportRow, name: string): string => String(row.extra?.[name] ?? '');
const bySegmentValue = (dimension: string) => (row: ReportRow): string | null => (row.extra?.['segmentValue'] !== undefined && row.label !== 'Others' ? segmentFor(dimension, extraValue(row, 'segmentValue')) : null);
const byLabel = (dimension: string) => (row: ReportRow): string | null => (row.label === 'Others' ? null : segmentFor(dimension, row.label));

const pageUrlShape: TableShape = {
  processed: pageProcessed,
  flatten: 'url',
  defaultSort: 'nb_visits',
  shownExtras: ['url'],
  segment: (row) => (row.extra?.['url'] !== undefined ? segmentFor('pageUrl', extraValue(row, 'url')) : null),
};
const entryShape: TableShape = { ...pageUrlShape, keep: (row) => (row.columns['entry_nb_visits'] ?? 0) > 0, defaultSort: 'entry_nb_visits' };
const exitShape: TableShape = { ...pageUrlShape, keep: (row) => (row.columns['exit_nb_visits'] ?? 0) > 0, defaultSort: 'exit_nb_visits' };
const titleShape: TableShape = { processed: pageProcessed, defaultSort: 'nb_visits', segment: byLabel('pageTitle') };
const linkShape = (dimension: 'outlinkUrl' | 'downloadUrl'): TableShape => ({ flatten: 'leaf', defaultSort: 'nb_visits', shownExtras: ['url'], segment: (row) => (row.extra?.['url'] !== undefined ? segmentFor(dimension, extraValue(row, 'url')) : null) });
const visitShape = (segment?: TableShape['segment'], shownExtras: readonly string[] = []): TableShape => ({ processed: visitProcessed, defaultSort: 'nb_visits', shownExtras, ...(segment ? { segment } : {}) });

const referrerTypeSegment: TableShape['segment'] = (row, parent) => {
  if (!parent) return row.extra?.['referrerTypeSegment'] !== undefined ? segmentFor('referrerType', extraValue(row, 'referrerTypeSegment')) : null;
  return `${segmentFor('referrerType', extraValue(parent, 'referrerTypeSegment'))};${segmentFor('referrerName', row.label)}`;
};

const tableReports: Readonly<Record<string, Readonly<Record<string, TableReport>>>> = {
  Actions: {
    getPageUrls: { record: 'Actions_pageUrls', shape: pageUrlShape, category: 'Actions', name: 'Page URLs', dimension: 'Page URL', metrics: PAGE_METRICS },
    getEntryPageUrls: { record: 'Actions_pageUrls', shape: entryShape, category: 'Actions', name: 'Entry pages', dimension: 'Entry page URL', metrics: PAGE_METRICS },
    getExitPageUrls: { record: 'Actions_pageUrls', shape: exitShape, category: 'Actions', name: 'Exit pages', dimension: 'Exit page URL', metrics: PAGE_METRICS },
    getPageTitles: { record: 'Actions_pageTitles', shape: titleShape, category: 'Actions', name: 'Page titles', dimension: 'Page title', metrics: PAGE_METRICS },
    getEntryPageTitles: { record: 'Actions_pageTitles', shape: { ...titleShape, keep: entryShape.keep, defaultSort: 'entry_nb_visits' }, category: 'Actions', name: 'Entry page titles', dimension: 'Entry page title', metrics: PAGE_METRICS },
    getExitPageTitles: { record: 'Actions_pageTitles', shape: { ...titleShape, keep: exitShape.keep, defaultSort: 'exit_nb_visits' }, category: 'Actions', name: 'Exit page titles', dimension: 'Exit page title', metrics: PAGE_METRICS },
    getOutlinks: { record: 'Actions_outlinks', shape: linkShape('outlinkUrl'), category: 'Actions', name: 'Outlinks', dimension: 'Outlink', metrics: ['nb_visits', 'nb_uniq_visitors', 'nb_hits'] },
    getDownloads: { record: 'Actions_downloads', shape: linkShape('downloadUrl'), category: 'Actions', name: 'Downloads', dimension: 'Download URL', metrics: ['nb_visits', 'nb_uniq_visitors', 'nb_hits'] },
    getSiteSearchKeywords: { record: 'Actions_siteSearchKeywords', shape: { processed: searchProcessed, defaultSort: 'nb_visits', segment: byLabel('siteSearchKeyword') }, category: 'Actions', name: 'Site search keywords', dimension: 'Keyword (Site Search)', metrics: ['nb_visits', 'nb_uniq_visitors', 'nb_hits', 'exit_nb_visits'] },
  },
  Referrers: {
    getReferrerType: { record: 'Referrers_type', shape: { ...visitShape(referrerTypeSegment, ['referer_type']), flatten: 'dash' }, category: 'Referrers', name: 'Channel type', dimension: 'Channel type', metrics: VISIT_METRICS },
    getAll: { record: 'Referrers_all', shape: visitShape(byLabel('referrerName'), ['referer_type']), category: 'Referrers', name: 'All referrers', dimension: 'Referrer', metrics: VISIT_METRICS },
    getWebsites: { record: 'Referrers_websites', shape: visitShape((row, parent) => (parent ? segmentFor('referrerUrl', extraValue(row, 'url')) : segmentFor('referrerName', row.label)), ['url']), category: 'Referrers', name: 'Websites', dimension: 'Website', metrics: VISIT_METRICS },
    getSearchEngines: { record: 'Referrers_searchEngines', shape: visitShape((row, parent) => (parent ? `${segmentFor('referrerName', parent.label)};${segmentFor('referrerKeyword', row.label)}` : segmentFor('referrerName', row.label))), category: 'Referrers', name: 'Search engines', dimension: 'Search engine', metrics: VISIT_METRICS },
    getKeywords: { record: 'Referrers_keywords', shape: visitShape((row, parent) => (parent ? `${segmentFor('referrerKeyword', parent.label)};${segmentFor('referrerName', row.label)}` : segmentFor('referrerKeyword', row.label))), category: 'Referrers', name: 'Keywords', dimension: 'Keyword', metrics: VISIT_METRICS },
    getCampaigns: { record: 'Referrers_campaigns', shape: visitShape((row, parent) => (parent ? `${segmentFor('referrerName', parent.label)};${segmentFor('referrerKeyword', row.label)}` : segmentFor('referrerName', row.label))), category: 'Referrers', name: 'Campaigns', dimension: 'Campaign', metrics: VISIT_METRICS },
    getSocials: { record: 'Referrers_socials', shape: visitShape((row, parent) => (parent ? segmentFor('referrerUrl', extraValue(row, 'url')) : segmentFor('referrerName', row.label)), ['url']), category: 'Referrers', name: 'Social networks', dimension: 'Social network', metrics: VISIT_METRICS },
  },
  DevicesDetection: {
    getType: { record: 'DevicesDetection_type', shape: visitShape(bySegmentValue('deviceType')), category: 'Visitors', name: 'Device type', dimension: 'Device type', metrics: VISIT_METRICS },
    getBrand: { record: 'DevicesDetection_brand', shape: visitShape(bySegmentValue('deviceBrand')), category: 'Visitors', name: 'Device brand', dimension: 'Device brand', metrics: VISIT_METRICS },
    getModel: { record: 'DevicesDetection_model', shape: visitShape(bySegmentValue('deviceModel')), category: 'Visitors', name: 'Device model', dimension: 'Device model', metrics: VISIT_METRICS },
    getOsFamilies: { record: 'DevicesDetection_osFamilies', shape: visitShape(bySegmentValue('operatingSystemName')), category: 'Visitors', name: 'Operating system families', dimension: 'Operating system family', metrics: VISIT_METRICS },
    getOsVersions: { record: 'DevicesDetection_osVersions', shape: visitShape((row) => (row.extra?.['segmentValue'] ? `${segmentFor('operatingSystemName', extraValue(row, 'segmentValue'))};${segmentFor('operatingSystemVersion', extraValue(row, 'segmentVersion'))}` : null)), category: 'Visitors', name: 'Operating system versions', dimension: 'Operating system version', metrics: VISIT_METRICS },
    getBrowsers: { record: 'DevicesDetection_browsers', shape: visitShape(bySegmentValue('browserName')), category: 'Visitors', name: 'Browsers', dimension: 'Browser', metrics: VISIT_METRICS },
    getBrowserVersions: { record: 'DevicesDetection_browserVersions', shape: visitShape((row) => (row.extra?.['segmentValue'] ? `${segmentFor('browserName', extraValue(row, 'segmentValue'))};${segmentFor('browserVersion', extraValue(row, 'segmentVersion'))}` : null)), category: 'Visitors', name: 'Browser versions', dimension: 'Browser version', metrics: VISIT_METRICS },
  },
  Resolution: {
    getResolution: { record: 'Resolution', shape: visitShape(bySegmentValue('resolution')), category: 'Visitors', name: 'Screen resolution', dimension: 'Resolution', metrics: VISIT_METRICS },
  },
  UserLanguage: {
    // A language row holds every region of the language (de-de, de-at): Matomo's segment is "starts with".
    getLanguage: { record: 'UserLanguage', shape: visitShape((row) => (row.extra?.['segmentValue'] ? `languageCode=^${encodeURIComponent(extraValue(row, 'segmentValue'))}` : null)), category: 'Visitors', name: 'Browser language', dimension: 'Language', metrics: VISIT_METRICS },
    getLanguageCode: { record: 'UserLanguage_code', shape: visitShape(bySegmentValue('languageCode')), category: 'Visitors', name: 'Language code', dimension: 'Language code', metrics: VISIT_METRICS },
  },
  UserCountry: {
    getCountry: { record: 'UserCountry', shape: visitShape(bySegmentValue('countryCode'), ['code']), category: 'Visitors', name: 'Country', dimension: 'Country', metrics: VISIT_METRICS },
  },
  VisitTime: {
    getVisitInformationPerLocalTime: { record: 'VisitTime_local', shape: { ...visitShape(bySegmentValue('visitLocalHour')), defaultSort: 'label' }, category: 'Visitors', name: 'Visits per local time', dimension: 'Local time', metrics: VISIT_METRICS },
    getVisitInformationPerServerTime: { record: 'VisitTime_server', shape: { ...visitShape(bySegmentValue('visitServerHour')), defaultSort: 'label' }, category: 'Visitors', name: 'Visits per server time', dimension: 'Server time', metrics: VISIT_METRICS },
  },
  Events: {
    getCategory: { record: 'Events_category', shape: { processed: eventProcessed, defaultSort: 'nb_events', segment: (row, parent) => (parent ? `${segmentFor('eventCategory', parent.label)};${segmentFor('eventAction', row.label)}` : segmentFor('eventCategory', row.label)) }, category: 'Events', name: 'Event categories', dimension: 'Event category', metrics: EVENT_METRICS },
    getAction: { record: 'Events_action', shape: { processed: eventProcessed, defaultSort: 'nb_events', segment: (row, parent) => (parent ? `${segmentFor('eventAction', parent.label)};${segmentFor('eventName', row.label)}` : segmentFor('eventAction', row.label)) }, category: 'Events', name: 'Event actions', dimension: 'Event action', metrics: EVENT_METRICS },
    getName: { record: 'Events_name', shape: { processed: eventProcessed, defaultSort: 'nb_events', segment: (row, parent) => (parent ? `${segmentFor('eventName', parent.label)};${segmentFor('eventAction', row.label)}` : segmentFor('eventName', row.label)) }, category: 'Events', name: 'Event names', dimension: 'Event name', metrics: EVENT_METRICS },
  },
  Goals: {
    getItemsSku: {
      record: 'Goals_itemsSku',
      shape: { defaultSort: 'revenue', processed: (c) => ({ avg_price: round(ratio(c['revenue'], c['quantity']), 2), avg_quantity: round(ratio(c['quantity'], c['orders']), 1) }) },
      category: 'Goals',
      name: 'Product SKU',
      dimension: 'Product SKU',
      metrics: ['revenue', 'quantity', 'orders', 'nb_visits'],
    },
  },
  CustomDimensions: {
    getCustomDimension: {
      record: async ({ ctx, params }) => {
        const id = params.get('idDimension') ?? '';
        if (!/^\d+$/.test(id)) throw new PluraError('invalid_input', "Please specify a value for 'idDimension' (the custom dimension's id).");
        const siteId = Number((params.get('idSite') ?? '').split(',')[0]);
        // The dimension's configured scope decides which of the two the hits were counted in.
        const scope = Number.isInteger(siteId) && siteId > 0 ? await customDimensionScope(tenantOf(ctx).store, siteId, Number(id)) : 'visit';
        return `CustomDimensions_${scope}_${id}`;
      },
      shape: { defaultSort: 'nb_visits' },
      category: 'Custom dimensions',
      name: 'Custom dimension',
      dimension: 'Custom dimension value',
      metrics: VISIT_METRICS,
    },
  },
};

function tableMethod(report: TableReport) {
  return async (call: MatomoCall): Promise<MatomoValue> => {
    const record = typeof report.record === 'string' ? report.record : await report.record(call);
    return forEachSiteAndPeriod(call, [record], (records) => renderTable((records.get(record) ?? []) as ReportTable, call.params, report.shape));
  };
}

function moduleOf(name: string, extra: MatomoModule = {}): MatomoModule {
  const methods: Record<string, MatomoModule[string]> = { ...extra };
  for (const [action, report] of Object.entries(tableReports[name] ?? {})) methods[action] = tableMethod(report);
  return methods;
}

const actionsGet = (records: Records): MatomoValue => {
  const value = (records.get('Actions') ?? {}) as NumericRecord;
  return Object.keys(value).length === 0 ? [] : { ...value };
};

function goalsGet(records: Records, params: MatomoParams): MatomoValue {
  const percent = percentFormatter(params);
  const visits = ((records.get('VisitsSummary') ?? {}) as NumericRecord)['nb_visits'] ?? 0;
  const idGoal = params.get('idGoal');
  let metrics: NumericRecord;
  if (idGoal !== undefined && idGoal !== '') {
    if (!/^\d+$/.test(idGoal) && idGoal !== 'ecommerceOrder') throw new PluraError('invalid_input', `The parameter 'idGoal' must be a goal id, not "${idGoal}".`);
    const goalId = idGoal === 'ecommerceOrder' ? '0' : idGoal;
    const row = ((records.get('Goals_byGoal') ?? []) as ReportTable).find((r) => r.label === goalId);
    metrics = { nb_conversions: row?.columns['nb_conversions'] ?? 0, nb_visits_converted: row?.columns['nb_visits_converted'] ?? 0, revenue: row?.columns['revenue'] ?? 0 };
  } else {
    const summary = (records.get('Goals') ?? {}) as NumericRecord;
    metrics = { nb_conversions: summary['nb_conversions'] ?? 0, nb_visits_converted: summary['nb_visits_converted'] ?? 0, revenue: summary['revenue'] ?? 0 };
  }
  if (visits === 0 && metrics['nb_conversions'] === 0) return [];
  return { ...metrics, conversion_rate: percent(ratio(metrics['nb_visits_converted'], visits)) };
}

export const visitsSummaryApi: MatomoModule = {
  get: (call) => forEachSiteAndPeriod(call, ['VisitsSummary'], (records) => visitsSummary(records, call.params)),
  ...Object.fromEntries(
    (
      [
        ['getVisits', 'nb_visits'],
        ['getUniqueVisitors', 'nb_uniq_visitors'],
        ['getUsers', 'nb_users'],
        ['getActions', 'nb_actions'],
        ['getMaxActions', 'max_actions'],
        ['getBounceCount', 'bounce_count'],
        ['getVisitsConverted', 'nb_visits_converted'],
        ['getSumVisitsLength', 'sum_visit_length'],
      ] as const
    ).map(([action, metric]) => [action, (call: MatomoCall) => forEachSiteAndPeriod(call, ['VisitsSummary'], (records) => ((records.get('VisitsSummary') ?? {}) as NumericRecord)[metric] ?? 0)]),
  ),
};

export const actionsApi: MatomoModule = moduleOf('Actions', { get: (call) => forEachSiteAndPeriod(call, ['Actions'], actionsGet) });
export const referrersApi: MatomoModule = moduleOf('Referrers');
export const devicesDetectionApi: MatomoModule = moduleOf('DevicesDetection');
export const resolutionApi: MatomoModule = moduleOf('Resolution');
export const userLanguageApi: MatomoModule = moduleOf('UserLanguage');
export const userCountryApi: MatomoModule = moduleOf('UserCountry');
export const visitTimeApi: MatomoModule = moduleOf('VisitTime');
export const eventsApi: MatomoModule = moduleOf('Events');
export const customDimensionsApi: MatomoModule = moduleOf('CustomDimensions');
export const goalsReportsApi: MatomoModule = moduleOf('Goals', { get: (call) => forEachSiteAndPeriod(call, ['Goals', 'Goals_byGoal', 'VisitsSummary'], (records) => goalsGet(records, call.params)) });

/** API.getReportMetadata: the reports above, as Matomo describes them. */
export function reportMetadata(): MatomoValue[] {
  const list: MatomoValue[] = [
    { category: 'Visits summary', name: 'Visits summary', module: 'VisitsSummary', action: 'get', metrics: { nb_visits: 'Visits', nb_uniq_visitors: 'Unique visitors', nb_actions: 'Actions', nb_users: 'Users', bounce_count: 'Bounces', sum_visit_length: 'Total time on site', max_actions: 'Maximum actions in one visit', nb_visits_converted: 'Visits converted' }, processedMetrics: { bounce_rate: 'Bounce rate', nb_actions_per_visit: 'Actions per visit', avg_time_on_site: 'Average visit duration' } },
    { category: 'Actions', name: 'Actions summary', module: 'Actions', action: 'get', metrics: { nb_pageviews: 'Pageviews', nb_uniq_pageviews: 'Unique pageviews', nb_downloads: 'Downloads', nb_uniq_downloads: 'Unique downloads', nb_outlinks: 'Outlinks', nb_uniq_outlinks: 'Unique outlinks', nb_searches: 'Searches', nb_keywords: 'Unique keywords' } },
    { category: 'Goals', name: 'Goals', module: 'Goals', action: 'get', metrics: { nb_conversions: 'Conversions', nb_visits_converted: 'Visits converted', revenue: 'Revenue' }, processedMetrics: { conversion_rate: 'Conversion rate' } },
  ];
  for (const [module, reports] of Object.entries(tableReports)) {
    for (const [action, report] of Object.entries(reports)) {
      list.push({ category: report.category, name: report.name, module, action, dimension: report.dimension, metrics: Object.fromEntries(report.metrics.map((metric) => [metric, metric])), ...(report.shape.processed ? { processedMetrics: Object.fromEntries(Object.keys(report.shape.processed({}, () => 0)).map((metric) => [metric, metric])) } : {}) });
    }
  }
  return list;
}

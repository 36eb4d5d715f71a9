/**
 * The reports of the Reports area: which Matomo API method each page calls, with which
 * extra parameters, and the columns worth showing (in this order, when the answer has them).
 */

export interface TableReportDef {
  readonly kind: 'table';
  /** The path segment: /reports/:idSite/:slug. */
  readonly slug: string;
  readonly title: string;
  readonly category: Category;
  readonly method: string;
  readonly params?: Readonly<Record<string, string | number>>;
  /** The first column's header (the report's dimension). */
  readonly dimension: string;
  readonly columns: readonly string[];
  /** The metric a new row-evolution chart shows first. */
  readonly evolutionMetric: string;
  /** Row evolution makes sense (rows are stable labels). */
  readonly evolution?: boolean;
}

export type Category = 'Visitors' | 'Actions' | 'Referrers' | 'Events' | 'Goals';

export const CATEGORIES: readonly Category[] = ['Visitors', 'Actions', 'Referrers', 'Events', 'Goals'];

const VISIT_COLUMNS = ['nb_visits', 'nb_uniq_visitors', 'nb_actions', 'max_actions', 'sum_visit_length', 'bounce_count', 'nb_visits_converted'];
// Matomo's page reports: pageviews, unique pageviews (visits), bounce and exit rates, time on page.
const PAGE_COLUMNS = ['nb_hits', 'nb_visits', 'bounce_rate', 'avg_time_on_page', 'exit_rate'];
const EVENT_COLUMNS = ['nb_events', 'nb_visits', 'nb_uniq_visitors', 'sum_event_value', 'avg_event_value', 'min_event_value', 'max_event_value'];
const LINK_COLUMNS = ['nb_hits', 'nb_visits', 'nb_uniq_visitors'];

const visits = (slug: string, title: string, method: string, dimension: string, category: Category = 'Visitors', params?: Readonly<Record<string, string | number>>): TableReportDef => ({
  kind: 'table',
  slug,
  title,
  category,
  method,
  dimension,
  columns: VISIT_COLUMNS,
  evolutionMetric: 'nb_visits',
  evolution: true,
  ...(params ? { params } : {}),
});

export const TABLE_REPORTS: readonly TableReportDef[] = [
  visits('devices', 'Device type', 'DevicesDetection.getType', 'Device type'),
  visits('browsers', 'Browsers', 'DevicesDetection.getBrowsers', 'Browser'),
  visits('operating-systems', 'Operating systems', 'DevicesDetection.getOsFamilies', 'Operating system'),
  visits('resolutions', 'Screen resolution', 'Resolution.getResolution', 'Resolution'),
  visits('countries', 'Countries', 'UserCountry.getCountry', 'Country'),
  visits('languages', 'Languages', 'UserLanguage.getLanguage', 'Language'),
  visits('local-time', 'Visits per local time', 'VisitTime.getVisitInformationPerLocalTime', 'Local time'),
  { kind: 'table', slug: 'pages', title: 'Page URLs', category: 'Actions', method: 'Actions.getPageUrls', params: { flat: 1 }, dimension: 'Page URL', columns: PAGE_COLUMNS, evolutionMetric: 'nb_hits', evolution: true },
  { kind: 'table', slug: 'page-titles', title: 'Page titles', category: 'Actions', method: 'Actions.getPageTitles', params: { flat: 1 }, dimension: 'Page title', columns: PAGE_COLUMNS, evolutionMetric: 'nb_hits', evolution: true },
  { kind: 'table', slug: 'entry-pages', title: 'Entry pages', category: 'Actions', method: 'Actions.getEntryPageUrls', params: { flat: 1 }, dimension: 'Entry page', columns: ['entry_nb_visits', 'bounce_rate', 'nb_hits', 'nb_visits', 'avg_time_on_page'], evolutionMetric: 'entry_nb_visits', evolution: true },
  { kind: 'table', slug: 'exit-pages', title: 'Exit pages', category: 'Actions', method: 'Actions.getExitPageUrls', params: { flat: 1 }, dimension: 'Exit page', columns: ['exit_nb_visits', 'exit_rate', 'nb_hits', 'nb_visits'], evolutionMetric: 'exit_nb_visits', evolution: true },
  { kind: 'table', slug: 'outlinks', title: 'Outlinks', category: 'Actions', method: 'Actions.getOutlinks', params: { flat: 1 }, dimension: 'Outlink', columns: LINK_COLUMNS, evolutionMetric: 'nb_hits', evolution: true },
  { kind: 'table', slug: 'downloads', title: 'Downloads', category: 'Actions', method: 'Actions.getDownloads', params: { flat: 1 }, dimension: 'Download', columns: LINK_COLUMNS, evolutionMetric: 'nb_hits', evolution: true },
  { kind: 'table', slug: 'site-search', title: 'Site search keywords', category: 'Actions', method: 'Actions.getSiteSearchKeywords', dimension: 'Keyword', columns: ['nb_visits', 'nb_hits', 'nb_uniq_visitors', 'exit_rate'], evolutionMetric: 'nb_visits', evolution: true },
  visits('channels', 'Channel type', 'Referrers.getReferrerType', 'Channel', 'Referrers'),
  visits('websites', 'Websites', 'Referrers.getWebsites', 'Website', 'Referrers'),
  visits('search-engines', 'Search engines', 'Referrers.getSearchEngines', 'Search engine', 'Referrers'),
  visits('campaigns', 'Campaigns', 'Referrers.getCampaigns', 'Campaign', 'Referrers'),
  visits('social-networks', 'Social networks', 'Referrers.getSocials', 'Social network', 'Referrers'),
  { kind: 'table', slug: 'event-categories', title: 'Event categories', category: 'Events', method: 'Events.getCategory', dimension: 'Event category', columns: EVENT_COLUMNS, evolutionMetric: 'nb_events', evolution: true },
  { kind: 'table', slug: 'event-actions', title: 'Event actions', category: 'Events', method: 'Events.getAction', dimension: 'Event action', columns: EVENT_COLUMNS, evolutionMetric: 'nb_events', evolution: true },
  { kind: 'table', slug: 'event-names', title: 'Event names', category: 'Events', method: 'Events.getName', dimension: 'Event name', columns: EVENT_COLUMNS, evolutionMetric: 'nb_events', evolution: true },
];

/** The pages that are not one table. */
export const SPECIAL_PAGES = {
  overview: { slug: '', title: 'Overview', category: 'Visitors' },
  live: { slug: 'visitor-log', title: 'Visitor log', category: 'Visitors' },
  goals: { slug: 'goals', title: 'Goals', category: 'Goals' },
} as const;

export interface MenuEntry {
  readonly slug: string;
  readonly title: string;
}

/** The navigation, by category. */
export function menu(): readonly { category: Category; entries: readonly MenuEntry[] }[] {
  return CATEGORIES.map((category) => {
    const entries: MenuEntry[] = [];
    if (category === 'Visitors') entries.push(SPECIAL_PAGES.overview, SPECIAL_PAGES.live);
    if (category === 'Goals') entries.push(SPECIAL_PAGES.goals);
    entries.push(...TABLE_REPORTS.filter((r) => r.category === category));
    return { category, entries };
  });
}

export function tableReport(slug: string | undefined): TableReportDef | undefined {
  return TABLE_REPORTS.find((r) => r.slug === slug);
}

/** Column headers as Matomo's interface names them. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  nb_visits: 'Visits',
  nb_uniq_visitors: 'Unique visitors',
  nb_actions: 'Actions',
  max_actions: 'Max actions',
  sum_visit_length: 'Time on site',
  bounce_count: 'Bounces',
  nb_visits_converted: 'Converted visits',
  nb_hits: 'Pageviews',
  bounce_rate: 'Bounce rate',
  avg_time_on_page: 'Avg. time on page',
  exit_rate: 'Exit rate',
  entry_nb_visits: 'Entrances',
  exit_nb_visits: 'Exits',
  nb_events: 'Events',
  sum_event_value: 'Event value',
  avg_event_value: 'Avg. value',
  min_event_value: 'Min. value',
  max_event_value: 'Max. value',
  nb_conversions: 'Conversions',
  revenue: 'Revenue',
  conversion_rate: 'Conversion rate',
  url: 'URL',
};

/** Metrics counted in seconds: shown as durations. */
export const DURATION_METRICS = new Set(['sum_visit_length', 'avg_time_on_page', 'avg_time_on_site']);

export function metricLabel(metric: string, report?: TableReportDef): string {
  if (metric === 'nb_visits' && report?.columns === PAGE_COLUMNS) return 'Unique pageviews';
  if (metric === 'nb_hits' && report?.slug === 'outlinks') return 'Clicks';
  if (metric === 'nb_hits' && report?.slug === 'downloads') return 'Downloads';
  if (metric === 'nb_hits' && report?.slug === 'site-search') return 'Searches';
  return METRIC_LABELS[metric] ?? metric;
}

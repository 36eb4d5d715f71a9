import type { Kysely } from 'kysely';
import type { DirectSqlite } from '../storage/database.js';
import type { TenantDatabase } from '../storage/tenant-database.js';
import { sumIntoParents, sortForArchive, truncateTable, type NumericRecord, type ReportRow, type ReportTable } from './datatable.js';
import { dayInZone, dayRange, offsetSeconds } from './periods.js';
import { segmentMatches, type Segment, type SegmentSubject, type SegmentValue } from './segments.js';

/**
 * Builds one day's archive of one site from raw visits, actions and conversions:
 * every record in one pass over the day's visits (read page by page, so a large
 * day never sits in memory whole and other requests get their turn).
 */

export type RecordValue = NumericRecord | ReportTable | string[];
export type Records = Map<string, RecordValue>;

export interface DaySite {
  readonly id: number;
  readonly timezone: string;
}

export interface BuildLimits {
  /** Rows kept per table; subtables keep maxSubRows. */
  readonly maxRows: number;
  readonly maxSubRows: number;
}

/** A visit as the builder reads it: a positional row, like ActionRow. */
type VisitRow = [
  id: number,
  visitorId: string,
  userId: string | null,
  visitNumber: number,
  firstActionAt: number,
  lastActionAt: number,
  actions: number,
  goalsConverted: number,
  referrerType: string,
  referrerName: string,
  referrerKeyword: string,
  referrerUrl: string,
  deviceType: string,
  deviceBrand: string,
  deviceModel: string,
  osName: string,
  osVersion: string,
  browserName: string,
  browserVersion: string,
  language: string,
  country: string,
  region: string,
  city: string,
  resolution: string,
  localTime: string,
  customJson: string | null,
];
const V_ID = 0;
const V_VISITOR_ID = 1;
const V_USER_ID = 2;
const V_VISIT_NUMBER = 3;
const V_FIRST_ACTION_AT = 4;
const V_LAST_ACTION_AT = 5;
const V_ACTIONS = 6;
const V_GOALS_CONVERTED = 7;
const V_REFERRER_TYPE = 8;
const V_REFERRER_NAME = 9;
const V_REFERRER_KEYWORD = 10;
const V_REFERRER_URL = 11;
const V_DEVICE_TYPE = 12;
const V_DEVICE_BRAND = 13;
const V_DEVICE_MODEL = 14;
const V_OS_NAME = 15;
const V_OS_VERSION = 16;
const V_BROWSER_NAME = 17;
const V_BROWSER_VERSION = 18;
const V_LANGUAGE = 19;
const V_COUNTRY = 20;
const V_REGION = 21;
const V_CITY = 22;
const V_RESOLUTION = 23;
const V_LOCAL_TIME = 24;
const V_CUSTOM_JSON = 25;
const VISIT_COLUMNS = ['id', 'visitor_id', 'user_id', 'visit_number', 'first_action_at', 'last_action_at', 'actions', 'goals_converted', 'referrer_type', 'referrer_name', 'referrer_keyword', 'referrer_url', 'device_type', 'device_brand', 'device_model', 'os_name', 'os_version', 'browser_name', 'browser_version', 'language', 'country', 'region', 'city', 'resolution', 'local_time', 'custom_json'] as const;

/** An action as the builder reads it: a positional row (SQLite hands these over far cheaper than objects). */
type ActionRow = [
  visitId: number,
  at: number,
  type: string,
  urlId: number | null,
  titleId: number | null,
  searchKeyword: string | null,
  searchCategory: string | null,
  eventCategory: string | null,
  eventAction: string | null,
  eventName: string | null,
  eventValue: number | null,
  contentName: string | null,
  contentPiece: string | null,
  contentTarget: string | null,
  contentInteraction: string | null,
  customJson: string | null,
];
const A_VISIT = 0;
const A_AT = 1;
const A_TYPE = 2;
const A_URL = 3;
const A_TITLE = 4;
const A_SEARCH_KEYWORD = 5;
const A_SEARCH_CATEGORY = 6;
const A_EVENT_CATEGORY = 7;
const A_EVENT_ACTION = 8;
const A_EVENT_NAME = 9;
const A_EVENT_VALUE = 10;
const A_CONTENT_NAME = 11;
const A_CONTENT_PIECE = 12;
const A_CONTENT_TARGET = 13;
const A_CONTENT_INTERACTION = 14;
const A_CUSTOM = 15;
const ACTION_COLUMNS = ['visit_id', 'at', 'type', 'url_id', 'title_id', 'search_keyword', 'search_category', 'event_category', 'event_action', 'event_name', 'event_value', 'content_name', 'content_piece', 'content_target', 'content_interaction', 'custom_json'] as const;

interface ConversionRow {
  visit_id: number;
  goal_id: number;
  revenue: number;
  items_json: string | null;
}

const PAGE = 2000;

/** Matomo's referrer type ids and labels. */
export const referrerTypes: Readonly<Record<string, { id: number; label: string; segment: string }>> = {
  direct: { id: 1, label: 'Direct Entry', segment: 'direct' },
  search: { id: 2, label: 'Search Engines', segment: 'search' },
  website: { id: 3, label: 'Websites', segment: 'website' },
  campaign: { id: 6, label: 'Campaigns', segment: 'campaign' },
  social: { id: 7, label: 'Social Networks', segment: 'social' },
};

export const UNKNOWN = 'Unknown';
export const NO_TITLE = 'Page Name not defined';
export const NO_KEYWORD = 'Keyword not defined';

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

const languageMemo = new Map<string, string>();
const countryMemo = new Map<string, string>();

function languageName(code: string): string {
  let name = languageMemo.get(code);
  if (name === undefined) {
    try {
      name = code === '' ? UNKNOWN : (languageNames.of(code) ?? UNKNOWN);
    } catch {
      name = UNKNOWN;
    }
    if (languageMemo.size < 10_000) languageMemo.set(code, name);
  }
  return name;
}

export function countryName(code: string): string {
  let name = countryMemo.get(code);
  if (name === undefined) {
    try {
      name = !/^[a-z]{2}$/.test(code) || code === 'xx' ? UNKNOWN : (regionNames.of(code.toUpperCase()) ?? UNKNOWN);
    } catch {
      name = UNKNOWN;
    }
    if (countryMemo.size < 10_000) countryMemo.set(code, name);
  }
  return name;
}

const capitalize = (text: string): string => (text === '' ? text : text[0]!.toUpperCase() + text.slice(1));

/** A URL's path as Matomo's page report nests it: folders, then the page (`/index` for an empty one). */
export function urlPath(url: string): { folders: string[]; page: string } {
  let rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = rest.search(/[/?#]/);
  rest = slash < 0 ? '' : rest.slice(slash);
  if (rest.startsWith('?') || rest.startsWith('#')) rest = `/${rest}`;
  const parts = rest.split('/').slice(1);
  const last = parts.pop() ?? '';
  // Matomo nests at most a few levels (action_url_category_delimiter depth).
  const folders = parts.filter((part) => part !== '').slice(0, 5);
  return { folders, page: last === '' || last.startsWith('?') || last.startsWith('#') ? `/index${last}` : `/${last}` };
}

function hostOf(url: string): string {
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#:]+)/i.exec(url);
  return (match?.[1] ?? '').toLowerCase().replace(/^www\./, '');
}

function withoutScheme(url: string): string {
  return url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
}

function nameOf(names: ReadonlyMap<number, string>, id: number | null): string | null {
  return id === null ? null : (names.get(id) ?? null);
}

function parseCustom(json: string | null): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Metrics a row can accumulate while a day is built, kept in fixed slots (cheaper than named properties). */
const METRICS = ['nb_visits', 'nb_actions', 'max_actions', 'sum_visit_length', 'bounce_count', 'nb_visits_converted', 'nb_hits', 'sum_time_spent', 'entry_nb_visits', 'entry_nb_actions', 'entry_sum_visit_length', 'entry_bounce_count', 'exit_nb_visits', 'nb_events', 'nb_events_with_value', 'sum_event_value', 'min_event_value', 'max_event_value', 'nb_conversions', 'revenue', 'quantity', 'orders'] as const;
const M = Object.fromEntries(METRICS.map((name, index) => [name, index])) as { readonly [K in (typeof METRICS)[number]]: number };

/** A table under construction: rows by label, with what distinct counts need. */
class TableBuilder {
  readonly rows = new Map<string, BuildRow>();

  constructor(private readonly countVisitors: boolean) {}

  row(label: string, extra?: Record<string, string | number>): BuildRow {
    let row = this.rows.get(label);
    if (!row) {
      row = { label, extra, values: new Float64Array(METRICS.length), used: 0, lastVisit: -1, visitors: this.countVisitors ? new Set() : null, sub: null };
      this.rows.set(label, row);
    }
    return row;
  }

  sub(parent: BuildRow): TableBuilder {
    parent.sub ??= new TableBuilder(this.countVisitors);
    return parent.sub;
  }

  table(): ReportTable {
    return [...this.rows.values()].map((built): ReportRow => {
      const columns: Record<string, number> = {};
      if (built.visitors) columns['nb_uniq_visitors'] = built.visitors.size;
      for (let i = 0; i < METRICS.length; i += 1) if (built.used & (1 << i)) columns[METRICS[i]!] = built.values[i]!;
      return { label: built.label, columns, ...(built.extra ? { extra: built.extra } : {}), ...(built.sub ? { subtable: built.sub.table() } : {}) };
    });
  }
}

interface BuildRow {
  readonly label: string;
  readonly extra: Record<string, string | number> | undefined;
  readonly values: Float64Array;
  /** Bit i: METRICS[i] was touched (and is shown). */
  used: number;
  lastVisit: number;
  /** Visitors as small integers (their index in the build): cheaper to hash than ids. */
  visitors: Set<number> | null;
  sub: TableBuilder | null;
}

function add(row: BuildRow, metric: number, value: number): void {
  row.values[metric] = row.values[metric]! + value;
  row.used |= 1 << metric;
}

function setMin(row: BuildRow, metric: number, value: number): void {
  row.values[metric] = row.used & (1 << metric) ? Math.min(row.values[metric]!, value) : value;
  row.used |= 1 << metric;
}

function setMax(row: BuildRow, metric: number, value: number): void {
  row.values[metric] = row.used & (1 << metric) ? Math.max(row.values[metric]!, value) : value;
  row.used |= 1 << metric;
}

/** What rows need of the visit being added, computed once per visit. */
interface VisitFacts {
  readonly id: number;
  readonly visitor: number;
  readonly actions: number;
  readonly duration: number;
  readonly bounce: number;
  readonly converted: number;
}

/** The visit's share of a row's visit metrics, once per visit and row. */
function addVisit(row: BuildRow, facts: VisitFacts): void {
  if (row.lastVisit === facts.id) return;
  row.lastVisit = facts.id;
  row.visitors?.add(facts.visitor);
  const v = row.values;
  v[0] = v[0]! + 1;
  v[1] = v[1]! + facts.actions;
  v[2] = row.used & 4 ? Math.max(v[2]!, facts.actions) : facts.actions;
  v[3] = v[3]! + facts.duration;
  v[4] = v[4]! + facts.bounce;
  v[5] = v[5]! + facts.converted;
  row.used |= 0b111111;
}

/** An action's hit on a row: nb_hits always, nb_visits once per facts. */
function addHit(row: BuildRow, facts: VisitFacts): void {
  add(row, M.nb_hits, 1);
  if (row.lastVisit !== facts.id) {
    row.lastVisit = facts.id;
    row.visitors?.add(facts.visitor);
    add(row, M.nb_visits, 1);
  }
}

const ACTION_TYPE: Readonly<Record<string, string>> = { pageview: 'pageviews', download: 'downloads', outlink: 'outlinks', search: 'search', event: 'events', content_impression: 'contents', content_interaction: 'contents', custom: 'pageviews' };

function subjectOf(names: ReadonlyMap<number, string>, visit: VisitRow, visitCustom: Record<string, unknown>, action: ActionRow | null, actionCustom: Record<string, unknown>, goals: readonly number[], hours: { server: number; local: number }): SegmentSubject {
  return {
    value(name: string): SegmentValue {
      switch (name) {
        case 'visitorId': return visit[V_VISITOR_ID];
        case 'userId': return visit[V_USER_ID];
        case 'visitorType': return visit[V_VISIT_NUMBER] > 1 ? 'returning' : 'new';
        case 'visitCount': return visit[V_VISIT_NUMBER];
        case 'visitConverted': return visit[V_GOALS_CONVERTED] > 0 ? 1 : 0;
        case 'actions': return visit[V_ACTIONS];
        case 'visitDuration': return visit[V_LAST_ACTION_AT] - visit[V_FIRST_ACTION_AT];
        case 'visitServerHour': return hours.server;
        case 'visitLocalHour': return hours.local;
        case 'referrerType': return visit[V_REFERRER_TYPE];
        case 'referrerName': return visit[V_REFERRER_NAME];
        case 'referrerKeyword': return visit[V_REFERRER_KEYWORD];
        case 'referrerUrl': return visit[V_REFERRER_URL];
        case 'deviceType': return visit[V_DEVICE_TYPE];
        case 'deviceBrand': return visit[V_DEVICE_BRAND];
        case 'deviceModel': return visit[V_DEVICE_MODEL];
        case 'operatingSystemName': return visit[V_OS_NAME];
        case 'operatingSystemVersion': return visit[V_OS_VERSION];
        case 'browserName': return visit[V_BROWSER_NAME];
        case 'browserVersion': return visit[V_BROWSER_VERSION];
        case 'languageCode': return visit[V_LANGUAGE];
        case 'countryCode': return visit[V_COUNTRY];
        case 'regionCode': return visit[V_REGION];
        case 'city': return visit[V_CITY];
        case 'resolution': return visit[V_RESOLUTION];
        case 'pageUrl': return action && (action[A_TYPE] === 'pageview' || action[A_TYPE] === 'custom') ? nameOf(names, action[A_URL]) : null;
        case 'pageTitle': return action && (action[A_TYPE] === 'pageview' || action[A_TYPE] === 'custom') ? nameOf(names, action[A_TITLE]) : null;
        case 'downloadUrl': return action?.[A_TYPE] === 'download' ? nameOf(names, action[A_URL]) : null;
        case 'outlinkUrl': return action?.[A_TYPE] === 'outlink' ? nameOf(names, action[A_URL]) : null;
        case 'siteSearchKeyword': return action?.[A_SEARCH_KEYWORD] ?? null;
        case 'siteSearchCategory': return action?.[A_SEARCH_CATEGORY] ?? null;
        case 'actionType': return action ? (ACTION_TYPE[action[A_TYPE]] ?? action[A_TYPE]) : null;
        case 'eventCategory': return action?.[A_EVENT_CATEGORY] ?? null;
        case 'eventAction': return action?.[A_EVENT_ACTION] ?? null;
        case 'eventName': return action?.[A_EVENT_NAME] ?? null;
        case 'eventValue': return action?.[A_EVENT_VALUE] ?? null;
        case 'contentName': return action?.[A_CONTENT_NAME] ?? null;
        case 'contentPiece': return action?.[A_CONTENT_PIECE] ?? null;
        case 'contentTarget': return action?.[A_CONTENT_TARGET] ?? null;
        case 'contentInteraction': return action?.[A_CONTENT_INTERACTION] ?? null;
        default: {
          // dimensionN: the action's value, else the visit's.
          const value = actionCustom[name] ?? visitCustom[name];
          return typeof value === 'string' || typeof value === 'number' ? value : null;
        }
      }
    },
    values(name: string): readonly SegmentValue[] {
      return name === 'visitConvertedGoalId' ? goals : [];
    },
  };
}

/**
 * The actions of a visit that satisfy the segment (with the visit's own values);
 * null when the visit does not match at all. A visit without actions matches on
 * its own values alone.
 */
function segmentActions(segment: Segment, names: ReadonlyMap<number, string>, visit: VisitRow, visitCustom: Record<string, unknown>, actions: ActionRow[], goalIds: readonly number[], hours: { server: number; local: number }): ActionRow[] | null {
  if (actions.length === 0) return segmentMatches(segment, subjectOf(names, visit, visitCustom, null, {}, goalIds, hours)) ? actions : null;
  const kept = actions.filter((action) => segmentMatches(segment, subjectOf(names, visit, visitCustom, action, parseCustom(action[A_CUSTOM]), goalIds, hours)));
  return kept.length > 0 ? kept : null;
}

/**
 * Whether stored visits match a segment, for readers of raw visits (Live): the
 * same rules as archives, given each visit's row, actions and converted goals.
 */
export async function visitsMatchingSegment(db: Kysely<TenantDatabase>, timezone: string, segment: Segment, visitIds: readonly number[]): Promise<Set<number>> {
  const matching = new Set<number>();
  if (visitIds.length === 0) return matching;
  const visits = (await db.selectFrom('visit').select([...VISIT_COLUMNS]).where('id', 'in', [...visitIds]).execute()).map((row) => VISIT_COLUMNS.map((column) => row[column]) as VisitRow);
  const actions = (await db.selectFrom('visit_action').select([...ACTION_COLUMNS]).where('visit_id', 'in', [...visitIds]).orderBy('visit_id').orderBy('at').orderBy('id').execute()).map((row) => ACTION_COLUMNS.map((column) => row[column]) as ActionRow);
  const conversions = await db.selectFrom('conversion').select(['visit_id', 'goal_id']).where('visit_id', 'in', [...visitIds]).execute();
  const nameIds = [...new Set(actions.flatMap((a) => [a[A_URL], a[A_TITLE]]).filter((id): id is number => id !== null))];
  const names = new Map<number, string>();
  for (let i = 0; i < nameIds.length; i += 5000) for (const row of await db.selectFrom('action_name').select(['id', 'name']).where('id', 'in', nameIds.slice(i, i + 5000)).execute()) names.set(row.id, row.name);
  for (const visit of visits) {
    const own = actions.filter((a) => a[A_VISIT] === visit[V_ID]);
    const goals = conversions.filter((c) => c.visit_id === visit[V_ID] && c.goal_id >= 0).map((c) => c.goal_id);
    const [start, end] = dayRange(timezone, dayInZone(timezone, visit[V_FIRST_ACTION_AT] * 1000));
    const hours = { server: hourClock(timezone, start, end)(visit[V_FIRST_ACTION_AT]), local: /^\d{2}:/.test(visit[V_LOCAL_TIME]) ? Number(visit[V_LOCAL_TIME].slice(0, 2)) : -1 };
    if (segmentActions(segment, names, visit, parseCustom(visit[V_CUSTOM_JSON]), own, goals, hours) !== null) matching.add(visit[V_ID]);
  }
  return matching;
}

/** Hour of the day in the site's time zone, without Intl per visit unless the day changes its offset (DST). */
function hourClock(timezone: string, start: number, end: number): (at: number) => number {
  const offsetStart = offsetSeconds(timezone, start * 1000);
  const offsetEnd = offsetSeconds(timezone, (end - 1) * 1000);
  if (offsetStart === offsetEnd) return (at) => Math.floor((((at + offsetStart) % 86_400) + 86_400) % 86_400 / 3600);
  return (at) => Math.floor((((at + offsetSeconds(timezone, at * 1000)) % 86_400) + 86_400) % 86_400 / 3600);
}

/** Builds every record of one site's day, for all visits or a segment's. */
export async function buildDay(db: Kysely<TenantDatabase>, site: DaySite, day: string, segment: Segment | null, limits: BuildLimits, direct?: DirectSqlite): Promise<Records> {
  const [start, end] = dayRange(site.timezone, day);
  const hourOf = hourClock(site.timezone, start, end);

  const summary: NumericRecord = { nb_visits: 0, nb_actions: 0, nb_uniq_visitors: 0, nb_users: 0, bounce_count: 0, sum_visit_length: 0, max_actions: 0, nb_visits_converted: 0 };
  const actionsSummary: NumericRecord = { nb_pageviews: 0, nb_uniq_pageviews: 0, nb_downloads: 0, nb_uniq_downloads: 0, nb_outlinks: 0, nb_uniq_outlinks: 0, nb_searches: 0, nb_keywords: 0 };
  const goalsSummary: NumericRecord = { nb_conversions: 0, nb_visits_converted: 0, revenue: 0 };
  const visitors = new Set<string>();
  const users = new Set<string>();
  const keywords = new Set<string>();

  const tables = {
    pageUrls: new TableBuilder(true),
    pageTitles: new TableBuilder(true),
    outlinks: new TableBuilder(true),
    downloads: new TableBuilder(true),
    siteSearch: new TableBuilder(true),
    referrerType: new TableBuilder(true),
    referrerAll: new TableBuilder(true),
    websites: new TableBuilder(true),
    searchEngines: new TableBuilder(true),
    keywords: new TableBuilder(true),
    campaigns: new TableBuilder(true),
    socials: new TableBuilder(true),
    deviceType: new TableBuilder(true),
    deviceBrand: new TableBuilder(true),
    deviceModel: new TableBuilder(true),
    osFamilies: new TableBuilder(true),
    osVersions: new TableBuilder(true),
    browsers: new TableBuilder(true),
    browserVersions: new TableBuilder(true),
    resolution: new TableBuilder(true),
    language: new TableBuilder(true),
    languageCode: new TableBuilder(true),
    country: new TableBuilder(true),
    localTime: new TableBuilder(true),
    serverTime: new TableBuilder(true),
    eventCategory: new TableBuilder(true),
    eventAction: new TableBuilder(true),
    eventName: new TableBuilder(true),
    goals: new TableBuilder(false),
    itemsSku: new TableBuilder(false),
  };
  const customVisit = new Map<string, TableBuilder>();
  const customAction = new Map<string, TableBuilder>();
  const custom = (map: Map<string, TableBuilder>, index: string): TableBuilder => {
    let table = map.get(index);
    if (!table) {
      table = new TableBuilder(true);
      map.set(index, table);
    }
    return table;
  };

  const names = new Map<number, string>();
  const visitorIndexes = new Map<string, number>();
  const nextPageviewAt: number[] = [];
  let lastAt = -1;
  let lastId = 0;
  for (;;) {
    const visitQuery = db
      .selectFrom('visit')
      .select([...VISIT_COLUMNS])
      .where('site_id', '=', site.id)
      // The lower bound moves with the pages, so each page seeks in the index instead of rescanning the day.
      .where('last_action_at', '>=', Math.max(start, lastAt))
      .where('last_action_at', '<', end)
      .where((eb) => eb.or([eb('last_action_at', '>', lastAt), eb.and([eb('last_action_at', '=', lastAt), eb('id', '>', lastId)])]))
      .orderBy('last_action_at')
      .orderBy('id')
      .limit(PAGE);
    const visits: VisitRow[] = direct
      ? (direct.rows(visitQuery.compile()) as VisitRow[])
      : (await visitQuery.execute()).map((row) => VISIT_COLUMNS.map((column) => row[column]) as VisitRow);
    if (visits.length === 0) break;
    const last = visits[visits.length - 1]!;
    lastAt = last[V_LAST_ACTION_AT];
    lastId = last[V_ID];
    const ids = visits.map((v) => v[V_ID]);
    const actionQuery = db.selectFrom('visit_action').select([...ACTION_COLUMNS]).where('visit_id', 'in', ids).orderBy('visit_id').orderBy('id');
    const actionRows: ActionRow[] = direct
      ? (direct.rows(actionQuery.compile()) as ActionRow[])
      : (await actionQuery.execute()).map((row) => ACTION_COLUMNS.map((column) => row[column]) as ActionRow);
    // Dictionary names are few and repeat: read once per build, not joined into every action row.
    const unknownNames = new Set<number>();
    for (const action of actionRows) {
      if (action[A_URL] !== null && !names.has(action[A_URL])) unknownNames.add(action[A_URL]);
      if (action[A_TITLE] !== null && !names.has(action[A_TITLE])) unknownNames.add(action[A_TITLE]);
    }
    const missingNames = [...unknownNames];
    for (let i = 0; i < missingNames.length; i += 5000) {
      for (const row of await db.selectFrom('action_name').select(['id', 'name']).where('id', 'in', missingNames.slice(i, i + 5000)).execute()) names.set(row.id, row.name);
    }
    const conversionRows = (await db.selectFrom('conversion').select(['visit_id', 'goal_id', 'revenue', 'items_json']).where('visit_id', 'in', ids).execute()) as ConversionRow[];
    const actionsByVisit = new Map<number, ActionRow[]>();
    for (const action of actionRows) {
      let list = actionsByVisit.get(action[A_VISIT]);
      if (!list) actionsByVisit.set(action[A_VISIT], (list = []));
      list.push(action);
    }
    const conversionsByVisit = new Map<number, ConversionRow[]>();
    for (const conversion of conversionRows) {
      let list = conversionsByVisit.get(conversion.visit_id);
      if (!list) conversionsByVisit.set(conversion.visit_id, (list = []));
      list.push(conversion);
    }

    for (const visit of visits) {
      const actions = actionsByVisit.get(visit[V_ID]) ?? [];
      // Ids follow arrival; imports can deliver a visit's hits out of order.
      for (let i = 1; i < actions.length; i += 1) {
        if (actions[i]![A_AT] < actions[i - 1]![A_AT]) {
          actions.sort((a, b) => a[A_AT] - b[A_AT]);
          break;
        }
      }
      const conversions = conversionsByVisit.get(visit[V_ID]) ?? [];
      const visitCustom = parseCustom(visit[V_CUSTOM_JSON]);
      const localHour = /^\d{2}:/.test(visit[V_LOCAL_TIME]) ? Number(visit[V_LOCAL_TIME].slice(0, 2)) : -1;
      const hours = { server: hourOf(visit[V_FIRST_ACTION_AT]), local: localHour };
      const goalIds = conversions.filter((c) => c.goal_id >= 0).map((c) => c.goal_id);

      // Which of the visit's actions the segment keeps; the visit counts when any does.
      let included: ActionRow[] = actions;
      if (segment) {
        const kept = segmentActions(segment, names, visit, visitCustom, actions, goalIds, hours);
        if (kept === null) continue;
        included = kept;
      }

      // Visit metrics
      const duration = visit[V_LAST_ACTION_AT] - visit[V_FIRST_ACTION_AT];
      const bounce = visit[V_ACTIONS] <= 1 ? 1 : 0;
      let visitorIndex = visitorIndexes.get(visit[V_VISITOR_ID]);
      if (visitorIndex === undefined) visitorIndexes.set(visit[V_VISITOR_ID], (visitorIndex = visitorIndexes.size));
      const facts: VisitFacts = { id: visit[V_ID], visitor: visitorIndex, actions: visit[V_ACTIONS], duration, bounce, converted: visit[V_GOALS_CONVERTED] > 0 ? 1 : 0 };
      summary['nb_visits']! += 1;
      summary['nb_actions']! += visit[V_ACTIONS];
      summary['bounce_count']! += bounce;
      summary['sum_visit_length']! += duration;
      summary['max_actions'] = Math.max(summary['max_actions']!, visit[V_ACTIONS]);
      summary['nb_visits_converted']! += visit[V_GOALS_CONVERTED] > 0 ? 1 : 0;
      visitors.add(visit[V_VISITOR_ID]);
      if (visit[V_USER_ID]) users.add(visit[V_USER_ID]);

      const referrer = referrerTypes[visit[V_REFERRER_TYPE]] ?? referrerTypes['direct']!;
      const typeRow = tables.referrerType.row(referrer.label, { referer_type: referrer.id, referrerTypeSegment: referrer.segment });
      addVisit(typeRow, facts);
      const name = visit[V_REFERRER_NAME] || (visit[V_REFERRER_TYPE] === 'direct' ? referrer.label : UNKNOWN);
      if (visit[V_REFERRER_TYPE] !== 'direct') addVisit(tables.referrerType.sub(typeRow).row(name), facts);
      addVisit(tables.referrerAll.row(name, { referer_type: referrer.id }), facts);
      const keyword = visit[V_REFERRER_KEYWORD] || NO_KEYWORD;
      switch (visit[V_REFERRER_TYPE]) {
        case 'website': {
          const row = tables.websites.row(name);
          addVisit(row, facts);
          if (visit[V_REFERRER_URL]) addVisit(tables.websites.sub(row).row(withoutScheme(visit[V_REFERRER_URL]), { url: visit[V_REFERRER_URL] }), facts);
          break;
        }
        case 'search': {
          const engine = tables.searchEngines.row(name);
          addVisit(engine, facts);
          addVisit(tables.searchEngines.sub(engine).row(keyword), facts);
          const word = tables.keywords.row(keyword);
          addVisit(word, facts);
          addVisit(tables.keywords.sub(word).row(name), facts);
          break;
        }
        case 'campaign': {
          const row = tables.campaigns.row(name);
          addVisit(row, facts);
          addVisit(tables.campaigns.sub(row).row(keyword), facts);
          break;
        }
        case 'social': {
          const row = tables.socials.row(name);
          addVisit(row, facts);
          if (visit[V_REFERRER_URL]) addVisit(tables.socials.sub(row).row(withoutScheme(visit[V_REFERRER_URL]), { url: visit[V_REFERRER_URL] }), facts);
          break;
        }
      }

      addVisit(tables.deviceType.row(visit[V_DEVICE_TYPE] && visit[V_DEVICE_TYPE] !== 'unknown' ? capitalize(visit[V_DEVICE_TYPE]) : UNKNOWN, { segmentValue: visit[V_DEVICE_TYPE] }), facts);
      addVisit(tables.deviceBrand.row(visit[V_DEVICE_BRAND] || UNKNOWN, { segmentValue: visit[V_DEVICE_BRAND] }), facts);
      addVisit(tables.deviceModel.row(visit[V_DEVICE_BRAND] || visit[V_DEVICE_MODEL] ? `${visit[V_DEVICE_BRAND] || UNKNOWN} - ${visit[V_DEVICE_MODEL] || UNKNOWN}` : UNKNOWN, { segmentValue: visit[V_DEVICE_MODEL] }), facts);
      addVisit(tables.osFamilies.row(visit[V_OS_NAME] || UNKNOWN, { segmentValue: visit[V_OS_NAME] }), facts);
      addVisit(tables.osVersions.row(visit[V_OS_NAME] ? `${visit[V_OS_NAME]} ${visit[V_OS_VERSION]}`.trim() : UNKNOWN, { segmentValue: visit[V_OS_NAME], segmentVersion: visit[V_OS_VERSION] }), facts);
      addVisit(tables.browsers.row(visit[V_BROWSER_NAME] || UNKNOWN, { segmentValue: visit[V_BROWSER_NAME] }), facts);
      addVisit(tables.browserVersions.row(visit[V_BROWSER_NAME] ? `${visit[V_BROWSER_NAME]} ${visit[V_BROWSER_VERSION]}`.trim() : UNKNOWN, { segmentValue: visit[V_BROWSER_NAME], segmentVersion: visit[V_BROWSER_VERSION] }), facts);
      addVisit(tables.resolution.row(visit[V_RESOLUTION] || UNKNOWN, { segmentValue: visit[V_RESOLUTION] }), facts);
      const languageCode = visit[V_LANGUAGE].split('-')[0] ?? '';
      addVisit(tables.language.row(languageName(languageCode), { segmentValue: languageCode }), facts);
      addVisit(tables.languageCode.row(visit[V_LANGUAGE] ? `${languageName(visit[V_LANGUAGE])} - ${visit[V_LANGUAGE]}` : UNKNOWN, { segmentValue: visit[V_LANGUAGE] }), facts);
      addVisit(tables.country.row(countryName(visit[V_COUNTRY]), { code: visit[V_COUNTRY] || 'xx', segmentValue: visit[V_COUNTRY] }), facts);
      if (hours.local >= 0) addVisit(tables.localTime.row(`${hours.local}h`, { segmentValue: hours.local }), facts);
      addVisit(tables.serverTime.row(`${hours.server}h`, { segmentValue: hours.server }), facts);
      for (const [key, value] of Object.entries(visitCustom)) {
        const index = /^dimension(\d+)$/.exec(key)?.[1];
        if (index && (typeof value === 'string' || typeof value === 'number') && String(value) !== '') addVisit(custom(customVisit, index).row(String(value)), facts);
      }

      // Goals and ecommerce
      let converted = false;
      for (const conversion of conversions) {
        if (conversion.goal_id < 0) continue; // an abandoned cart is no conversion
        converted = true;
        goalsSummary['nb_conversions']! += 1;
        goalsSummary['revenue']! += Number(conversion.revenue);
        const goal = tables.goals.row(String(conversion.goal_id));
        add(goal, M.nb_conversions, 1);
        add(goal, M.revenue, Number(conversion.revenue));
        if (goal.lastVisit !== visit[V_ID]) {
          goal.lastVisit = visit[V_ID];
          add(goal, M.nb_visits_converted, 1);
        }
        if (conversion.goal_id === 0 && conversion.items_json) {
          const items: unknown = JSON.parse(conversion.items_json);
          if (!Array.isArray(items)) continue;
          for (const item of items) {
            if (!Array.isArray(item)) continue;
            const sku = String(item[0] ?? '');
            const price = Number(item[3] ?? 0) || 0;
            const quantity = Number(item[4] ?? 1) || 1;
            const row = tables.itemsSku.row(sku || UNKNOWN, { name: String(item[1] ?? '') });
            add(row, M.revenue, price * quantity);
            add(row, M.quantity, quantity);
            add(row, M.orders, 1);
            if (row.lastVisit !== visit[V_ID]) {
              row.lastVisit = visit[V_ID];
              add(row, M.nb_visits, 1);
            }
          }
        }
      }
      if (converted) goalsSummary['nb_visits_converted']! += 1;

      // Actions: pages (with time spent until the next pageview, entry and exit), links, searches, events.
      // Entry and exit pages, and each pageview's time until the next one (or the visit's end).
      let entry: ActionRow | undefined;
      let exit: ActionRow | undefined;
      nextPageviewAt.length = actions.length;
      let following = visit[V_LAST_ACTION_AT];
      for (let i = actions.length - 1; i >= 0; i -= 1) {
        const action = actions[i]!;
        if (action[A_TYPE] === 'pageview' || action[A_TYPE] === 'custom') {
          nextPageviewAt[i] = following;
          following = action[A_AT];
          entry = action;
          exit ??= action;
        }
      }
      const lastAction = actions[actions.length - 1];
      const includedSet = included === actions ? null : new Set(included);
      for (let index = 0; index < actions.length; index += 1) {
        const action = actions[index]!;
        if (includedSet && !includedSet.has(action)) continue;
        switch (action[A_TYPE]) {
          case 'pageview':
          case 'custom': {
            actionsSummary['nb_pageviews']! += 1;
            const spent = Math.max(0, (nextPageviewAt[index] ?? visit[V_LAST_ACTION_AT]) - action[A_AT]);
            const url = nameOf(names, action[A_URL]) ?? '';
            const { folders, page } = urlPath(url);
            let table = tables.pageUrls;
            for (const folder of folders) table = table.sub(table.row(folder));
            const pageRow = table.row(page, { url });
            const firstHit = pageRow.lastVisit !== visit[V_ID];
            addHit(pageRow, facts);
            if (firstHit) actionsSummary['nb_uniq_pageviews']! += 1;
            add(pageRow, M.sum_time_spent, spent);
            const titleRow = tables.pageTitles.row(nameOf(names, action[A_TITLE])?.trim() || NO_TITLE);
            addHit(titleRow, facts);
            add(titleRow, M.sum_time_spent, spent);
            for (const row of [pageRow, titleRow]) {
              if (action === entry) {
                add(row, M.entry_nb_visits, 1);
                add(row, M.entry_nb_actions, visit[V_ACTIONS]);
                add(row, M.entry_sum_visit_length, duration);
                add(row, M.entry_bounce_count, bounce);
              }
              if (action === exit) add(row, M.exit_nb_visits, 1);
            }
            break;
          }
          case 'outlink':
          case 'download': {
            const url = nameOf(names, action[A_URL]) ?? '';
            const table = action[A_TYPE] === 'outlink' ? tables.outlinks : tables.downloads;
            const hostRow = table.row(hostOf(url) || UNKNOWN);
            const leaf = table.sub(hostRow).row(withoutScheme(url), { url });
            const firstHit = leaf.lastVisit !== visit[V_ID];
            addHit(leaf, facts);
            actionsSummary[action[A_TYPE] === 'outlink' ? 'nb_outlinks' : 'nb_downloads']! += 1;
            if (firstHit) actionsSummary[action[A_TYPE] === 'outlink' ? 'nb_uniq_outlinks' : 'nb_uniq_downloads']! += 1;
            break;
          }
          case 'search': {
            const word = (action[A_SEARCH_KEYWORD] ?? '').toLowerCase();
            actionsSummary['nb_searches']! += 1;
            keywords.add(word);
            const row = tables.siteSearch.row(word || NO_KEYWORD);
            addHit(row, facts);
            if (action === lastAction) add(row, M.exit_nb_visits, 1);
            break;
          }
          case 'event': {
            const category = action[A_EVENT_CATEGORY] ?? '';
            const eventAction = action[A_EVENT_ACTION] ?? '';
            const eventName = action[A_EVENT_NAME] || 'Event name not defined';
            const value = action[A_EVENT_VALUE];
            const touch = (row: BuildRow): void => {
              add(row, M.nb_events, 1);
              if (row.lastVisit !== visit[V_ID]) {
                row.lastVisit = visit[V_ID];
                row.visitors?.add(facts.visitor);
                add(row, M.nb_visits, 1);
              }
              if (value !== null && value !== undefined) {
                add(row, M.nb_events_with_value, 1);
                add(row, M.sum_event_value, Number(value));
                setMin(row, M.min_event_value, Number(value));
                setMax(row, M.max_event_value, Number(value));
              }
            };
            const byCategory = tables.eventCategory.row(category);
            touch(byCategory);
            touch(tables.eventCategory.sub(byCategory).row(eventAction));
            const byAction = tables.eventAction.row(eventAction);
            touch(byAction);
            touch(tables.eventAction.sub(byAction).row(eventName));
            const byName = tables.eventName.row(eventName);
            touch(byName);
            touch(tables.eventName.sub(byName).row(eventAction));
            break;
          }
        }
        for (const [key, value] of Object.entries(parseCustom(action[A_CUSTOM]))) {
          const index = /^dimension(\d+)$/.exec(key)?.[1];
          if (index && (typeof value === 'string' || typeof value === 'number') && String(value) !== '') addHit(custom(customAction, index).row(String(value)), facts);
        }
      }
    }
    if (visits.length < PAGE) break;
    // SQLite answers synchronously and its promises resolve as microtasks: without a real turn
    // of the event loop, a large day would hold every other request (and tracking) until it is done.
    await new Promise((resolve) => setImmediate(resolve));
  }

  summary['nb_uniq_visitors'] = visitors.size;
  summary['nb_users'] = users.size;
  actionsSummary['nb_keywords'] = keywords.size;

  const records: Records = new Map<string, RecordValue>([
    ['VisitsSummary', summary],
    ['VisitsSummary_visitors', [...visitors].sort()],
    ['VisitsSummary_users', [...users].sort()],
    ['Actions', actionsSummary],
    ['Goals', goalsSummary],
  ]);
  const finish = (name: string, builder: TableBuilder, hierarchical = false): void => {
    const table = builder.table();
    if (hierarchical) sumIntoParents(table);
    sortForArchive(table, 'nb_visits');
    records.set(name, truncateTable(table, limits.maxRows, limits.maxSubRows));
  };
  finish('Actions_pageUrls', tables.pageUrls, true);
  finish('Actions_pageTitles', tables.pageTitles);
  finish('Actions_outlinks', tables.outlinks, true);
  finish('Actions_downloads', tables.downloads, true);
  finish('Actions_siteSearchKeywords', tables.siteSearch);
  finish('Referrers_type', tables.referrerType);
  finish('Referrers_all', tables.referrerAll);
  finish('Referrers_websites', tables.websites);
  finish('Referrers_searchEngines', tables.searchEngines);
  finish('Referrers_keywords', tables.keywords);
  finish('Referrers_campaigns', tables.campaigns);
  finish('Referrers_socials', tables.socials);
  finish('DevicesDetection_type', tables.deviceType);
  finish('DevicesDetection_brand', tables.deviceBrand);
  finish('DevicesDetection_model', tables.deviceModel);
  finish('DevicesDetection_osFamilies', tables.osFamilies);
  finish('DevicesDetection_osVersions', tables.osVersions);
  finish('DevicesDetection_browsers', tables.browsers);
  finish('DevicesDetection_browserVersions', tables.browserVersions);
  finish('Resolution', tables.resolution);
  finish('UserLanguage', tables.language);
  finish('UserLanguage_code', tables.languageCode);
  finish('UserCountry', tables.country);
  finish('VisitTime_local', tables.localTime);
  finish('VisitTime_server', tables.serverTime);
  finish('Events_category', tables.eventCategory);
  finish('Events_action', tables.eventAction);
  finish('Events_name', tables.eventName);
  records.set('Goals_byGoal', tables.goals.table());
  finish('Goals_itemsSku', tables.itemsSku);
  for (const [index, table] of customVisit) finish(`CustomDimensions_visit_${index}`, table);
  for (const [index, table] of customAction) finish(`CustomDimensions_action_${index}`, table);
  return records;
}

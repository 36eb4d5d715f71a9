import { createHash, randomBytes } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import { PreparedInsertMany, PreparedQuery } from '../storage/prepared.js';
import type { DirectSqlite } from '../storage/database.js';
import type { TenantDatabase } from '../storage/tenant-database.js';
import { detectDevice } from './device.js';
import { anonymizeIp, fingerprintVisitorId, visitorIdFromUserId, type Hit } from './hit.js';
import { classifyReferrer, defaultCampaignKeys } from './referrer.js';
import type { GoalRow, SiteContext } from './site-config.js';
import type { VisitActionTable, VisitTable } from './tracking.tables.js';

export type HitOutcome =
  | { readonly status: 'tracked' }
  | { readonly status: 'excluded'; readonly reason: string }
  | { readonly status: 'invalid'; readonly message: string };

/** Tenant-level tracking settings, read once per batch. */
export interface TrackingPolicy {
  readonly visitLengthSeconds: number;
  readonly ipAnonymizationBytes: number;
  readonly honorDoNotTrack: boolean;
}

type Db = Kysely<TenantDatabase>;

/**
 * Ids of strings already in the tenant's dictionary, keyed by kind and string,
 * kept across batches by the writer. Only ids whose transaction committed enter
 * it (see `commit`), so a rolled back batch never leaves an id that points nowhere.
 */
export interface KnownNames {
  get(key: string): number | undefined;
  set(key: string, id: number): unknown;
}

/** A visit as tracking needs it to continue it: ids, times and counters. */
export interface VisitSnapshot {
  readonly id: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly visitNumber: number;
  readonly actions: number;
  readonly pageviews: number;
  readonly goals: number;
  readonly revenue: number;
  readonly entryUrlId: number | null;
  readonly exitUrlId: number | null;
  readonly userId: string | null;
}

/** Latest visit per "site:visitor" kept across batches, so a returning hit needs no SELECT. */
export interface VisitCache {
  get(key: string): VisitSnapshot | undefined;
  set(key: string, visit: VisitSnapshot): unknown;
}

/** What one batch works with besides its hits. */
export interface BatchContext {
  readonly policy: TrackingPolicy;
  /** The site's context (null: no such site); a promise only when it must be read. */
  readonly site: (siteId: number) => SiteContext | null | Promise<SiteContext | null>;
  readonly names?: KnownNames;
  readonly visits?: VisitCache;
  /** The SQLite store's direct runner, when the store is SQLite (faster inserts). */
  readonly direct?: DirectSqlite;
}

/** The batch's result; `commit()` publishes its dictionary ids and visits to the caches once the transaction committed. */
export interface BatchResult {
  readonly outcomes: HitOutcome[];
  commit(): void;
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
/** The last day computed per time zone, with its bounds: most hits of a batch fall on the same day. */
const lastDay = new Map<string, { day: string; from: number; to: number }>();

function dayIn(timezone: string, seconds: number): string {
  const memo = lastDay.get(timezone);
  if (memo && seconds >= memo.from && seconds < memo.to) return memo.day;
  let formatter = dayFormatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timezone, formatter);
  }
  const day = formatter.format(seconds * 1000);
  // Bounds of this day: time zones change offsets only on whole quarter hours, so the
  // same day holds for the surrounding quarter hour in either direction at least.
  const quarter = Math.floor(seconds / 900) * 900;
  lastDay.set(timezone, { day, from: quarter, to: quarter + 900 });
  return day;
}

/** Page URLs repeat: their cleaned form is remembered per site settings (bounded). */
const cleanedUrls = new WeakMap<SiteContext, Map<string, string>>();

function cleanUrlCached(site: SiteContext, url: string, keepFragment: boolean): string {
  let cache = cleanedUrls.get(site);
  if (!cache) {
    cache = new Map();
    cleanedUrls.set(site, cache);
  }
  let cleaned = cache.get(url);
  if (cleaned === undefined) {
    cleaned = cleanUrl(url, site.excludedParameters, keepFragment);
    if (cache.size >= 10_000) cache.clear();
    cache.set(url, cleaned);
  }
  return cleaned;
}

/** Removes excluded query parameters (click ids, session ids, the site's own list). */
function cleanUrl(url: string, excluded: ReadonlySet<string>, keepFragment: boolean): string {
  if (url === '') return url;
  try {
    const parsed = new URL(url);
    for (const key of [...parsed.searchParams.keys()]) if (excluded.has(key.toLowerCase())) parsed.searchParams.delete(key);
    if (!keepFragment) parsed.hash = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Today's fingerprint salt: made on first use each day, kept two days, never exported. */
async function saltFor(db: Db, day: string): Promise<string> {
  const row = await db.selectFrom('tracking_salt').select('salt').where('day', '=', day).executeTakeFirst();
  if (row) return row.salt;
  const salt = randomBytes(32).toString('hex');
  await db.insertInto('tracking_salt').values({ day, salt }).onConflict((oc) => oc.column('day').doNothing()).execute();
  await db.deleteFrom('tracking_salt').where('day', '<', day).execute();
  return (await db.selectFrom('tracking_salt').select('salt').where('day', '=', day).executeTakeFirstOrThrow()).salt;
}

const languageCountry: Readonly<Record<string, string>> = { en: 'us', ja: 'jp', zh: 'cn', ko: 'kr', sv: 'se', da: 'dk', cs: 'cz', el: 'gr', he: 'il', uk: 'ua', vi: 'vn', hi: 'in', fa: 'ir', ar: 'sa', nb: 'no', nn: 'no', sl: 'si', et: 'ee', ga: 'ie', ms: 'my' };

/** Matomo without a geolocation database: the country is guessed from the browser language. */
export function countryFromLanguage(language: string): string {
  const first = language.split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? '';
  const [lang = '', region] = first.split('-');
  if (region && /^[a-z]{2}$/.test(region)) return region;
  if (/^[a-z]{2}$/.test(lang)) return languageCountry[lang] ?? lang;
  return '';
}

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function customJson(hit: Hit, scope: 'visit' | 'action'): string | null {
  const custom: Record<string, unknown> = {};
  for (const [name, value] of hit.params) {
    // 100 is "d": most parameters are skipped without the pattern.
    if (name.charCodeAt(0) === 100 && /^dimension\d+$/.test(name) && value !== '') custom[name] = value.slice(0, 255);
  }
  // Custom variables: visit scope (_cvar), page scope (cvar), event scope (e_cvar).
  const sources: readonly (readonly [string, string])[] = scope === 'visit' ? [['_cvar', 'cvar']] : [['cvar', 'cvar'], ['e_cvar', 'e_cvar']];
  for (const [parameter, key] of sources) {
    const raw = hit.params.get(parameter);
    if (!raw) continue;
    try {
      custom[key] = JSON.parse(raw) as unknown;
    } catch {
      // Matomo ignores malformed custom variables.
    }
  }
  return Object.keys(custom).length > 0 ? JSON.stringify(custom) : null;
}

function matches(goal: GoalRow, value: string): boolean {
  if (value === '') return false;
  const subject = goal.case_sensitive ? value : value.toLowerCase();
  const pattern = goal.case_sensitive ? goal.pattern : goal.pattern.toLowerCase();
  switch (goal.pattern_type) {
    case 'exact':
      return subject === pattern;
    case 'regex':
      try {
        return new RegExp(goal.pattern, goal.case_sensitive ? '' : 'i').test(value);
      } catch {
        return false;
      }
    default:
      return subject.includes(pattern);
  }
}

function actionTypeOf(hit: Hit): string {
  const p = hit.params;
  if (p.get('link')) return 'outlink';
  if (p.get('download')) return 'download';
  if (p.get('search')) return 'search';
  if (p.get('e_c') && p.get('e_a')) return 'event';
  if (p.get('c_n')) return p.get('c_i') ? 'content_interaction' : 'content_impression';
  if (p.get('idgoal')) return 'goal';
  if (p.get('ca') === '1') return 'custom';
  return 'pageview';
}

/** Why a hit would be refused by its site (unknown site or goal, bad items), or null. Checked before a hit is acknowledged. */
export function refusalOf(hit: Hit, site: SiteContext | undefined): string | null {
  if (!site) return `An unexpected website was found in the request: website id was set to '${hit.siteId}'.`;
  const idGoal = hit.params.get('idgoal');
  if (idGoal && idGoal !== '0' && idGoal !== '-1' && !site.goals.some((g) => String(g.goal_id) === idGoal.trim())) {
    return `The goal id ${idGoal} does not exist for website id ${hit.siteId}.`;
  }
  const items = hit.params.get('ec_items');
  if (items && !Array.isArray(parseJson(items))) return "The parameter 'ec_items' must be a JSON array of [sku, name, category, price, quantity].";
  return null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Hot statements, compiled once (see PreparedQuery): one visit lookup, insert and
// update per visitor, actions in multi-row inserts, dictionary lookups.
const selectLatestVisit = new PreparedQuery<TenantDatabase, { siteId: number; visitorId: string }, { id: number; first_action_at: number; last_action_at: number; visit_number: number; actions: number; pageviews: number; goals_converted: number; revenue: number; entry_url_id: number | null; exit_url_id: number | null; user_id: string | null }>(
  ['siteId', 'visitorId'],
  (db, p) =>
    db
      .selectFrom('visit')
      .select(['id', 'first_action_at', 'last_action_at', 'visit_number', 'actions', 'pageviews', 'goals_converted', 'revenue', 'entry_url_id', 'exit_url_id', 'user_id'])
      .where('site_id', '=', p.siteId)
      .where('visitor_id', '=', p.visitorId)
      .orderBy('last_action_at', 'desc')
      .limit(1),
);

type VisitRow = Omit<Insertable<VisitTable>, 'id'>;
const visitColumns = [
  'site_id', 'visitor_id', 'user_id', 'visit_number', 'first_action_at', 'last_action_at', 'actions', 'pageviews', 'entry_url_id', 'exit_url_id', 'goals_converted', 'revenue',
  'referrer_type', 'referrer_name', 'referrer_keyword', 'referrer_url', 'campaign_name', 'campaign_keyword', 'device_type', 'device_brand', 'device_model', 'os_name', 'os_version',
  'browser_name', 'browser_version', 'language', 'country', 'region', 'city', 'latitude', 'longitude', 'resolution', 'local_time', 'ip', 'cookie_enabled', 'custom_json',
] as const satisfies readonly (keyof VisitRow)[];
const insertVisit = new PreparedQuery<TenantDatabase, Required<VisitRow>, { id: number }>(visitColumns, (db, row) => db.insertInto('visit').values(row).returning('id'));

type ActionRow = Required<Omit<Insertable<VisitActionTable>, 'id'>>;
const actionColumns = [
  'visit_id', 'site_id', 'at', 'type', 'url_id', 'title_id', 'pageview_id', 'search_keyword', 'search_category', 'search_count', 'event_category', 'event_action', 'event_name', 'event_value',
  'content_name', 'content_piece', 'content_target', 'content_interaction', 'performance_json', 'custom_json', 'product_sku', 'product_name', 'product_category', 'product_price',
] as const satisfies readonly (keyof ActionRow)[];
const insertActions = new PreparedInsertMany<TenantDatabase, ActionRow>(actionColumns, (db, rows) => db.insertInto('visit_action').values(rows));

/** Counters are added, not overwritten, so a visit continued elsewhere (another node) keeps every action. */
const updateVisit = new PreparedQuery<TenantDatabase, { id: number; lastAt: number; actions: number; pageviews: number; goals: number; revenue: number; entryUrlId: number | null; exitUrlId: number | null; userId: string | null }, never>(
  ['id', 'lastAt', 'actions', 'pageviews', 'goals', 'revenue', 'entryUrlId', 'exitUrlId', 'userId'],
  (db, p) =>
    db
      .updateTable('visit')
      .set((eb) => ({
        last_action_at: eb.case().when('last_action_at', '<', p.lastAt).then(eb.val(p.lastAt)).else(eb.ref('last_action_at')).end(),
        actions: eb('actions', '+', p.actions),
        pageviews: eb('pageviews', '+', p.pageviews),
        goals_converted: eb('goals_converted', '+', p.goals),
        revenue: eb('revenue', '+', p.revenue),
        entry_url_id: eb.fn.coalesce('entry_url_id', eb.val(p.entryUrlId)),
        exit_url_id: eb.fn.coalesce(eb.val(p.exitUrlId), 'exit_url_id'),
        user_id: eb.fn.coalesce(eb.val(p.userId), 'user_id'),
      }))
      .where('id', '=', p.id),
);

const invalidateDay = new PreparedQuery<TenantDatabase, { siteId: number; day: string; at: number }, never>(['siteId', 'day', 'at'], (db, p) =>
  db
    .insertInto('archive_invalidation')
    .values({ site_id: p.siteId, day: p.day, invalidated_at: p.at, version: 1 })
    .onConflict((oc) => oc.columns(['site_id', 'day']).doUpdateSet((eb) => ({ invalidated_at: p.at, version: eb('archive_invalidation.version', '+', 1) }))),
);

const selectName = new PreparedQuery<TenantDatabase, { hash: string }, { id: number }>(['hash'], (db, p) => db.selectFrom('action_name').select('id').where('hash', '=', p.hash));
const insertName = new PreparedQuery<TenantDatabase, { kind: string; hash: string; name: string }, { id: number }>(['kind', 'hash', 'name'], (db, p) =>
  db.insertInto('action_name').values(p).returning('id'),
);

const upsertJournalMark = new PreparedQuery<TenantDatabase, { journalId: string; seq: number }, never>(['journalId', 'seq'], (db, p) =>
  db
    .insertInto('tracking_journal_mark')
    .values({ journal_id: p.journalId, applied_seq: p.seq })
    .onConflict((oc) => oc.column('journal_id').doUpdateSet({ applied_seq: p.seq })),
);

/** Records, in the batch's transaction, that the journal is applied up to `seq`. */
export async function markJournalApplied(db: Db, journalId: string, seq: number): Promise<void> {
  await upsertJournalMark.execute(db, { journalId, seq });
}

/** How far this store has applied the journal (0: nothing). */
export async function journalAppliedSeq(db: Db, journalId: string): Promise<number> {
  const row = await db.selectFrom('tracking_journal_mark').select('applied_seq').where('journal_id', '=', journalId).executeTakeFirst();
  return row ? Number(row.applied_seq) : 0;
}

/** Stores repeated strings once; ids found or made by this batch reach `known` only after commit. */
class ActionNames {
  readonly fresh = new Map<string, number>();
  constructor(
    private readonly db: Db,
    private readonly known: KnownNames | undefined,
  ) {}

  /** The id when known without asking the store (null for the empty string), else undefined. */
  cached(kind: string, name: string): number | null | undefined {
    if (name === '') return null;
    const key = `${kind}\u0000${name}`;
    return this.fresh.get(key) ?? this.known?.get(key);
  }

  /** The id, from the caches or the store. Callers try `cached` first: most lookups need no await. */
  async id(kind: string, name: string): Promise<number | null> {
    if (name === '') return null;
    const key = `${kind}\u0000${name}`;
    const cached = this.fresh.get(key) ?? this.known?.get(key);
    if (cached !== undefined) return cached;
    // The store's unique key is a hash: URLs can be longer than an index allows.
    const hash = createHash('sha1').update(key).digest('hex');
    const row = (await selectName.first(this.db, { hash })) ?? (await insertName.first(this.db, { kind, hash, name }));
    if (!row) throw new Error('action_name insert returned no id');
    this.fresh.set(key, row.id);
    return row.id;
  }
}

/** A visit as the batch sees it: loaded once, changed in memory, written once at the end. */
/** The batch's own copy of a visit, changed in place hit by hit (copying it per hit cost more than the SQL). */
type VisitCounters = { -readonly [K in keyof VisitSnapshot]: VisitSnapshot[K] };

interface VisitState {
  readonly current: VisitCounters;
  /** Counters as stored before this batch: the update adds the difference. */
  readonly stored: VisitSnapshot;
}

/** What one batch (one transaction) accumulates before writing. */
interface BatchState {
  readonly names: ActionNames;
  readonly salts: Map<string, string>;
  /** Latest visit per site and visitor, including visits this batch created. */
  readonly visits: Map<string, VisitState | null>;
  /** Every visit the batch changed, also those a later hit replaced in `visits` by a new visit. */
  readonly changed: Set<VisitState>;
  /** "siteId day" of hits for days already over in the site's time zone: their archives are stale. */
  readonly pastDays: Set<string>;
  /** Unix seconds when the batch started: what "today" is for invalidation. */
  readonly now: number;
  /** Today per time zone at `now` (computed once: the day memo serves the hits' own times). */
  readonly today: Map<string, string>;
  readonly actions: ActionRow[];
}

/**
 * Stores a batch of hits of one tenant inside the caller's transaction. Each hit
 * gets its own outcome; a hit refused here (unknown site or goal) writes nothing
 * and does not affect the others.
 */
export async function processHits(db: Db, hits: Iterable<Hit>, context: BatchContext): Promise<BatchResult> {
  const state: BatchState = { names: new ActionNames(db, context.names), salts: new Map(), visits: new Map(), changed: new Set(), pastDays: new Set(), now: Math.floor(Date.now() / 1000), today: new Map(), actions: [] };
  const outcomes: HitOutcome[] = [];
  for (const hit of hits) {
    const known = context.site(hit.siteId);
    const site = (known instanceof Promise ? await known : known) ?? undefined;
    const refusal = refusalOf(hit, site);
    if (refusal !== null || !site) {
      outcomes.push({ status: 'invalid', message: refusal ?? 'unknown site' });
      continue;
    }
    outcomes.push(await processHit(db, hit, site, context.policy, state, context.visits));
    // Written as they come rather than all at the end: rows kept until then would survive young GCs.
    if (state.actions.length >= ACTION_FLUSH_ROWS) await flushActions(db, state, context);
  }
  await flushActions(db, state, context);
  for (const key of state.pastDays) {
    const [siteId = '0', day = ''] = key.split(' ');
    await invalidateDay.execute(db, { siteId: Number(siteId), day, at: state.now });
  }
  for (const visit of state.changed) {
    const { current, stored } = visit;
    await updateVisit.execute(db, {
      id: current.id,
      lastAt: current.lastAt,
      actions: current.actions - stored.actions,
      pageviews: current.pageviews - stored.pageviews,
      goals: current.goals - stored.goals,
      revenue: current.revenue - stored.revenue,
      entryUrlId: current.entryUrlId,
      exitUrlId: current.exitUrlId,
      userId: current.userId,
    });
  }
  return {
    outcomes,
    commit: () => {
      for (const [hash, id] of state.names.fresh) context.names?.set(hash, id);
      if (context.visits) for (const [key, visit] of state.visits) if (visit) context.visits.set(key, visit.current);
      // (Each batch copies what it loads, so the cached object is never changed afterwards.)
    },
  };
}

const ACTION_FLUSH_ROWS = 512;

async function flushActions(db: Db, state: BatchState, context: BatchContext): Promise<void> {
  await insertActions.execute(db, state.actions, context.direct);
  state.actions.length = 0;
}

/** The visitor's latest visit from the batch or the cache; undefined when the store must be asked. */
function knownVisit(state: BatchState, cache: VisitCache | undefined, siteId: number, visitorId: string): VisitState | null | undefined {
  const key = `${siteId}:${visitorId}`;
  if (state.visits.has(key)) return state.visits.get(key) ?? null;
  const snapshot = cache?.get(key);
  if (!snapshot) return undefined;
  const visit: VisitState = { current: { ...snapshot }, stored: snapshot };
  state.visits.set(key, visit);
  return visit;
}

/** The visitor's latest visit on the site: from the batch, the cache, or the store. */
async function latestVisit(db: Db, state: BatchState, cache: VisitCache | undefined, siteId: number, visitorId: string): Promise<VisitState | null> {
  const key = `${siteId}:${visitorId}`;
  if (state.visits.has(key)) return state.visits.get(key) ?? null;
  let snapshot = cache?.get(key);
  if (!snapshot) {
    const row = await selectLatestVisit.first(db, { siteId, visitorId });
    snapshot = row && {
      id: row.id,
      firstAt: Number(row.first_action_at),
      lastAt: Number(row.last_action_at),
      visitNumber: row.visit_number,
      actions: row.actions,
      pageviews: row.pageviews,
      goals: row.goals_converted,
      revenue: Number(row.revenue),
      entryUrlId: row.entry_url_id,
      exitUrlId: row.exit_url_id,
      userId: row.user_id,
    };
  }
  const visit: VisitState | null = snapshot ? { current: { ...snapshot }, stored: snapshot } : null;
  state.visits.set(key, visit);
  return visit;
}

async function processHit(db: Db, hit: Hit, site: SiteContext, policy: TrackingPolicy, state: BatchState, cache: VisitCache | undefined): Promise<HitOutcome> {
  const { names, salts } = state;
  const p = hit.params;
  if (!hit.record) return { status: 'excluded', reason: 'rec is not 1' };
  const userAgent = p.get('ua') || hit.meta.userAgent;
  const device = detectDevice(userAgent, p.get('uadata'));
  if (device.isBot && p.get('bots') !== '1') return { status: 'excluded', reason: 'bot' };
  if (policy.honorDoNotTrack && hit.meta.doNotTrack) return { status: 'excluded', reason: 'do not track' };
  const rawIp = p.get('cip') || hit.meta.ip;
  if (site.excludedIps?.allows(rawIp)) return { status: 'excluded', reason: 'excluded IP' };
  if (site.excludedAgents.length > 0) {
    const agentLower = userAgent.toLowerCase();
    if (site.excludedAgents.some((agent) => agentLower.includes(agent))) return { status: 'excluded', reason: 'excluded user agent' };
  }

  // refusalOf() has checked the goal id and the items before anything is written.
  const idGoal = p.get('idgoal');
  const goal: GoalRow | undefined = idGoal ? site.goals.find((g) => String(g.goal_id) === idGoal.trim()) : undefined;
  const parsedItems = p.get('ec_items') ? parseJson(p.get('ec_items') ?? '') : undefined;
  const items = Array.isArray(parsedItems) ? JSON.stringify(parsedItems.slice(0, 1000)) : null;

  const language = (p.get('lang') || hit.meta.acceptLanguage).slice(0, 100);
  const timezone = site.row.timezone;
  const day = dayIn(timezone, hit.at);
  // A hit for a day already over (imports, cdt) makes that day's archives stale.
  let today = state.today.get(timezone);
  if (today === undefined) {
    today = dayIn(timezone, state.now);
    state.today.set(timezone, today);
  }
  if (day < today) state.pastDays.add(`${hit.siteId} ${day}`);
  let visitorId = hit.forcedVisitorId ?? hit.cookieVisitorId ?? (hit.userId ? visitorIdFromUserId(hit.userId) : null);
  if (!visitorId) {
    let salt = salts.get(day);
    if (!salt) {
      salt = await saltFor(db, day);
      salts.set(day, salt);
    }
    visitorId = fingerprintVisitorId(salt, hit.siteId, rawIp, userAgent, language);
  }

  // Most visitors are in the batch or the cache: no await then.
  const last = knownVisit(state, cache, hit.siteId, visitorId) ?? (await latestVisit(db, state, cache, hit.siteId, visitorId));
  const lastAt = last ? last.current.lastAt : 0;
  const continues =
    last !== null &&
    !hit.newVisit &&
    hit.at - lastAt <= policy.visitLengthSeconds &&
    hit.at >= last.current.firstAt - policy.visitLengthSeconds &&
    dayIn(timezone, lastAt) === day;

  const keepFragment = site.row.keep_url_fragment === 1;
  const type = actionTypeOf(hit);
  const pageUrl = cleanUrlCached(site, hit.url, keepFragment);

  if (hit.ping) {
    // A heartbeat only extends the visit it belongs to.
    if (!continues || !last) return { status: 'excluded', reason: 'ping without a visit' };
    last.current.lastAt = Math.max(lastAt, hit.at);
    state.changed.add(last);
    return { status: 'tracked' };
  }

  let visit: VisitState;
  if (continues && last) {
    visit = last;
  } else {
    const referrer = classifyReferrer({
      pageUrl: hit.url,
      referrerUrl: hit.urlRef,
      siteHosts: site.hosts,
      ...(p.get('_rcn') ? { campaignName: p.get('_rcn') } : {}),
      ...(p.get('_rck') ? { campaignKeyword: p.get('_rck') } : {}),
      campaignKeys: defaultCampaignKeys,
    });
    const h = p.get('h');
    const m = p.get('m');
    const s = p.get('s');
    const localTime = h !== undefined && m !== undefined && s !== undefined ? [h, m, s].map((v) => String(Math.min(59, Math.max(0, Number(v) || 0))).padStart(2, '0')).join(':') : '';
    const inserted = await insertVisit.first(db, {
        site_id: hit.siteId,
        visitor_id: visitorId,
        user_id: hit.userId,
        visit_number: last ? last.current.visitNumber + 1 : 1,
        first_action_at: hit.at,
        last_action_at: hit.at,
        actions: 0,
        pageviews: 0,
        entry_url_id: null,
        exit_url_id: null,
        goals_converted: 0,
        revenue: 0,
        referrer_type: referrer.type,
        referrer_name: referrer.name.slice(0, 255),
        referrer_keyword: referrer.keyword.slice(0, 255),
        referrer_url: referrer.url.slice(0, 1024),
        campaign_name: referrer.type === 'campaign' ? referrer.name.slice(0, 255) : '',
        campaign_keyword: referrer.type === 'campaign' ? referrer.keyword.slice(0, 255) : '',
        device_type: device.deviceType,
        device_brand: device.deviceBrand,
        device_model: device.deviceModel,
        os_name: device.osName,
        os_version: device.osVersion,
        browser_name: device.browserName,
        browser_version: device.browserVersion,
        language: language.split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? '',
        country: (p.get('country') || countryFromLanguage(language)).toLowerCase().slice(0, 2),
        region: (p.get('region') ?? '').slice(0, 100),
        city: (p.get('city') ?? '').slice(0, 100),
        latitude: num(p.get('lat')),
        longitude: num(p.get('long')),
        resolution: (p.get('res') ?? '').slice(0, 20),
        local_time: localTime,
        ip: anonymizeIp(rawIp, policy.ipAnonymizationBytes),
        cookie_enabled: p.get('cookie') === '1' ? 1 : 0,
        custom_json: customJson(hit, 'visit'),
    });
    if (!inserted) throw new Error('visit insert returned no id');
    const fresh: VisitSnapshot = {
      id: inserted.id,
      firstAt: hit.at,
      lastAt: hit.at,
      visitNumber: last ? last.current.visitNumber + 1 : 1,
      actions: 0,
      pageviews: 0,
      goals: 0,
      revenue: 0,
      entryUrlId: null,
      exitUrlId: null,
      userId: hit.userId,
    };
    visit = { current: { ...fresh }, stored: fresh };
    state.visits.set(`${hit.siteId}:${visitorId}`, visit);
  }
  const visitId = visit.current.id;

  // The dictionary strings this action refers to: its URL (or link target) and, for a pageview, its title.
  const urlName: readonly [string, string] | null =
    type === 'outlink' ? ['outlink', (p.get('link') ?? '').slice(0, 1024)]
    : type === 'download' ? ['download', (p.get('download') ?? '').slice(0, 1024)]
    : type === 'goal' ? null
    : ['url', pageUrl];
  const titleName: readonly [string, string] | null = type === 'pageview' || type === 'custom' ? ['title', hit.actionName] : null;
  // Known strings need no await (most hits); new ones are looked up or added.
  const knownUrl = urlName ? names.cached(urlName[0], urlName[1]) : null;
  const urlId: number | null = knownUrl !== undefined ? knownUrl : urlName ? await names.id(urlName[0], urlName[1]) : null;
  const knownTitle = titleName ? names.cached(titleName[0], titleName[1]) : null;
  const titleId: number | null = knownTitle !== undefined ? knownTitle : titleName ? await names.id(titleName[0], titleName[1]) : null;
  const record: { search_keyword?: string; search_category?: string; search_count?: number | null; event_category?: string; event_action?: string; event_name?: string | null; event_value?: number | null; content_name?: string; content_piece?: string | null; content_target?: string | null; content_interaction?: string | null } = {};
  switch (type) {
    case 'search':
      record.search_keyword = (p.get('search') ?? '').slice(0, 255);
      record.search_category = (p.get('search_cat') ?? '').slice(0, 255);
      record.search_count = num(p.get('search_count'));
      break;
    case 'event':
      record.event_category = (p.get('e_c') ?? '').slice(0, 255);
      record.event_action = (p.get('e_a') ?? '').slice(0, 255);
      record.event_name = p.get('e_n')?.slice(0, 255) ?? null;
      record.event_value = num(p.get('e_v'));
      break;
    case 'content_impression':
    case 'content_interaction':
      record.content_name = (p.get('c_n') ?? '').slice(0, 255);
      record.content_piece = p.get('c_p')?.slice(0, 255) ?? null;
      record.content_target = p.get('c_t')?.slice(0, 1024) ?? null;
      record.content_interaction = p.get('c_i')?.slice(0, 255) ?? null;
      break;
  }

  const isPageview = type === 'pageview';
  if (type !== 'goal') {
    const performance: Record<string, number> = {};
    for (const key of ['pf_net', 'pf_srv', 'pf_tfr', 'pf_dm1', 'pf_dm2', 'pf_onl']) {
      const value = num(p.get(key));
      if (value !== null && value >= 0) performance[key] = value;
    }
    state.actions.push({
      visit_id: visitId,
      site_id: hit.siteId,
      at: hit.at,
      type,
      url_id: urlId,
      title_id: titleId,
      pageview_id: p.get('pv_id')?.slice(0, 16) ?? null,
      search_keyword: record.search_keyword ?? null,
      search_category: record.search_category ?? null,
      search_count: record.search_count ?? null,
      event_category: record.event_category ?? null,
      event_action: record.event_action ?? null,
      event_name: record.event_name ?? null,
      event_value: record.event_value ?? null,
      content_name: record.content_name ?? null,
      content_piece: record.content_piece ?? null,
      content_target: record.content_target ?? null,
      content_interaction: record.content_interaction ?? null,
      performance_json: Object.keys(performance).length > 0 ? JSON.stringify(performance) : null,
      custom_json: customJson(hit, 'action'),
      // A product page view (Matomo's setEcommerceView) rides on the pageview.
      product_sku: isPageview ? (p.get('_pks')?.slice(0, 255) ?? null) : null,
      product_name: isPageview ? (p.get('_pkn')?.slice(0, 255) ?? null) : null,
      product_category: isPageview ? (p.get('_pkc')?.slice(0, 1024) ?? null) : null,
      product_price: isPageview ? num(p.get('_pkp')) : null,
    });
  }

  // Goals: the one named by idgoal, and pattern goals this action matches.
  const conversions: { goal: GoalRow | null; revenue: number }[] = [];
  if (goal) conversions.push({ goal, revenue: num(p.get('revenue')) ?? goal.revenue });
  for (const candidate of site.goals) {
    if (candidate.match_attribute === 'manually' || candidate === goal) continue;
    const subject =
      candidate.match_attribute === 'url' && isPageview ? pageUrl
      : candidate.match_attribute === 'title' && isPageview ? hit.actionName
      : candidate.match_attribute === 'event_category' ? (record.event_category ?? '')
      : candidate.match_attribute === 'event_action' ? (record.event_action ?? '')
      : candidate.match_attribute === 'event_name' ? (record.event_name ?? '')
      : '';
    if (matches(candidate, subject)) conversions.push({ goal: candidate, revenue: candidate.revenue });
  }
  let goalsAdded = 0;
  let revenueAdded = 0;
  for (const conversion of conversions) {
    const goalRow = conversion.goal;
    if (!goalRow) continue;
    if (!goalRow.allow_multiple) {
      const already = await db.selectFrom('conversion').select('id').where('visit_id', '=', visitId).where('goal_id', '=', goalRow.goal_id).executeTakeFirst();
      if (already) continue;
    }
    await db.insertInto('conversion').values({ visit_id: visitId, site_id: hit.siteId, goal_id: goalRow.goal_id, at: hit.at, revenue: conversion.revenue, url: pageUrl || null }).execute();
    goalsAdded += 1;
    revenueAdded += conversion.revenue;
  }

  // Ecommerce: idgoal=0 with ec_id is an order (recorded once per order id); without, a cart update.
  if (idGoal === '0') {
    const orderId = p.get('ec_id')?.slice(0, 100) ?? null;
    const duplicate = orderId ? await db.selectFrom('conversion').select('id').where('site_id', '=', hit.siteId).where('order_id', '=', orderId).executeTakeFirst() : undefined;
    if (!duplicate) {
      const revenue = num(p.get('revenue')) ?? 0;
      await db
        .insertInto('conversion')
        .values({
          visit_id: visitId,
          site_id: hit.siteId,
          // Matomo: 0 = order, -1 = abandoned cart (the latest cart update of a visit).
          goal_id: orderId ? 0 : -1,
          at: hit.at,
          revenue,
          order_id: orderId,
          items_json: items,
          subtotal: num(p.get('ec_st')),
          tax: num(p.get('ec_tx')),
          shipping: num(p.get('ec_sh')),
          discount: num(p.get('ec_dt')),
          url: pageUrl || null,
        })
        .execute();
      if (orderId) {
        goalsAdded += 1;
        revenueAdded += revenue;
      }
    }
  }

  const current = visit.current;
  current.lastAt = Math.max(hit.at, current.lastAt);
  if (type !== 'goal') current.actions += 1;
  if (isPageview && urlId !== null) {
    current.pageviews += 1;
    current.entryUrlId ??= urlId;
    current.exitUrlId = urlId;
  } else if (isPageview) current.pageviews += 1;
  current.goals += goalsAdded;
  current.revenue += revenueAdded;
  if (hit.userId) current.userId = hit.userId;
  state.changed.add(visit);
  return { status: 'tracked' };
}

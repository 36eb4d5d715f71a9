import type { Generated } from 'kysely';

/**
 * Raw tracking data of one tenant. Times are unix seconds (UTC) so that visit
 * windows and day boundaries are integer arithmetic on the hot path.
 */
export interface VisitTable {
  id: Generated<number>;
  site_id: number;
  visitor_id: string;
  user_id: string | null;
  /** 1 for a visitor's first visit, then 2, 3, ... */
  visit_number: number;
  first_action_at: number;
  last_action_at: number;
  actions: number;
  pageviews: number;
  entry_url_id: number | null;
  exit_url_id: number | null;
  goals_converted: number;
  revenue: number;
  referrer_type: string;
  referrer_name: string;
  referrer_keyword: string;
  referrer_url: string;
  campaign_name: string;
  campaign_keyword: string;
  device_type: string;
  device_brand: string;
  device_model: string;
  os_name: string;
  os_version: string;
  browser_name: string;
  browser_version: string;
  language: string;
  country: string;
  region: string;
  city: string;
  latitude: number | null;
  longitude: number | null;
  resolution: string;
  local_time: string;
  /** The visitor's IP after anonymisation (privacy settings). */
  ip: string;
  cookie_enabled: number;
  /** JSON of visit-scope custom dimensions and variables. */
  custom_json: string | null;
}

/** One action of a visit: pageview, download, outlink, site search, event, content, ping. */
export interface VisitActionTable {
  id: Generated<number>;
  visit_id: number;
  site_id: number;
  at: number;
  type: string;
  url_id: number | null;
  title_id: number | null;
  pageview_id: string | null;
  search_keyword: string | null;
  search_category: string | null;
  search_count: number | null;
  event_category: string | null;
  event_action: string | null;
  event_name: string | null;
  event_value: number | null;
  content_name: string | null;
  content_piece: string | null;
  content_target: string | null;
  content_interaction: string | null;
  /** Page performance timings in ms (pf_*), JSON. */
  performance_json: string | null;
  /** Action-scope custom dimensions and variables, JSON. */
  custom_json: string | null;
  /** Ecommerce product view on a pageview (_pks, _pkn, _pkc as JSON when several, _pkp). */
  product_sku: string | null;
  product_name: string | null;
  product_category: string | null;
  product_price: number | null;
}

/** Repeated strings (URLs, titles) stored once. */
export interface ActionNameTable {
  id: Generated<number>;
  kind: string;
  hash: string;
  name: string;
}

export interface ConversionTable {
  id: Generated<number>;
  visit_id: number;
  site_id: number;
  goal_id: number;
  at: number;
  revenue: number;
  order_id: string | null;
  /** JSON array of [sku, name, category, price, quantity] (ecommerce). */
  items_json: string | null;
  subtotal: number | null;
  tax: number | null;
  shipping: number | null;
  discount: number | null;
  url: string | null;
}

/** Goals defined per site (idgoal counts from 1 in each site). */
export interface GoalTable {
  site_id: number;
  goal_id: number;
  name: string;
  /** manually | url | title | event_category | event_action | event_name */
  match_attribute: string;
  /** contains | exact | regex */
  pattern_type: string;
  pattern: string;
  case_sensitive: number;
  allow_multiple: number;
  revenue: number;
  created_at: string;
}

/** The per-day salt of visitor fingerprints: rotates daily, never leaves the store. */
export interface TrackingSaltTable {
  day: string;
  salt: string;
}

export interface TrackingTables {
  visit: VisitTable;
  visit_action: VisitActionTable;
  action_name: ActionNameTable;
  conversion: ConversionTable;
  goal: GoalTable;
  tracking_salt: TrackingSaltTable;
  tracking_journal_mark: TrackingJournalMarkTable;
}

/**
 * How far each tracking journal has been applied to this store, written in the
 * same transaction as the hits: replaying a journal after a crash skips what is
 * already here, so no hit is stored twice.
 */
export interface TrackingJournalMarkTable {
  journal_id: string;
  applied_seq: number;
}

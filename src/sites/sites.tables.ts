import type { Generated } from 'kysely';

/** Tables the sites capability owns in every tenant store. */
export interface SiteTable {
  id: Generated<number>;
  name: string;
  main_url: string;
  timezone: string;
  currency: string;
  ecommerce: number;
  created_at: string;
  updated_at: string;
  excluded_ips: Generated<string>;
  excluded_parameters: Generated<string>;
  excluded_user_agents: Generated<string>;
  excluded_referrers: Generated<string>;
  sitesearch_keyword_parameters: Generated<string>;
  sitesearch_category_parameters: Generated<string>;
  sitesearch: Generated<number>;
  exclude_unknown_urls: Generated<number>;
  keep_url_fragment: Generated<number>;
  type: Generated<string>;
  group_name: Generated<string>;
  creator_login: Generated<string>;
  /** From which role sensitive data is shown: admin, write, or none (super users only). */
  sensitive_data_role: Generated<string>;
}

export interface SiteUrlTable {
  site_id: number;
  url: string;
}

export interface SitesTables {
  site: SiteTable;
  site_url: SiteUrlTable;
}

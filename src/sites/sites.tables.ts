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
}

export interface SiteUrlTable {
  site_id: number;
  url: string;
}

export interface SitesTables {
  site: SiteTable;
  site_url: SiteUrlTable;
}

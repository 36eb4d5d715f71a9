import type { SitesTables } from '../sites/sites.tables.js';
import { sitesMigrations } from '../sites/sites.migrations.js';
import type { Migration } from './migrations.js';

/**
 * Everything one tenant store holds: the union of the tables each capability owns.
 * A capability adds its tables here and its migrations to `tenantMigrations`.
 */
export type TenantDatabase = SitesTables;

export const tenantMigrations: readonly Migration[] = [...sitesMigrations];

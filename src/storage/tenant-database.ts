import type { IdentityTables } from '../access/identity.tables.js';
import { identityMigrations } from '../access/identity.migrations.js';
import type { AuditTables } from '../audit/audit.tables.js';
import type { ReportsTables } from '../reports/reports.tables.js';
import { reportsMigrations } from '../reports/reports.migrations.js';
import { auditMigrations } from '../audit/audit.migrations.js';
import type { SitesTables } from '../sites/sites.tables.js';
import type { TrackingTables } from '../tracking/tracking.tables.js';
import { trackingMigrations } from '../tracking/tracking.migrations.js';
import { sitesMigrations } from '../sites/sites.migrations.js';
import type { SsoTables } from '../sso/sso.tables.js';
import type { WorkspaceTenantTables } from '../workspace/workspace.tables.js';
import { workspaceTenantMigrations } from '../workspace/workspace.migrations.js';
import { ssoMigrations } from '../sso/sso.migrations.js';
import type { Migration } from './migrations.js';
import { storeIdentityMigrations, type StoreIdentityTables } from './store-identity.js';

/**
 * Everything one tenant store holds: the union of the tables each capability owns.
 * A capability adds its tables here and its migrations to `tenantMigrations`.
 */
export type TenantDatabase = SitesTables & IdentityTables & AuditTables & TrackingTables & ReportsTables & StoreIdentityTables & SsoTables & WorkspaceTenantTables;

export const tenantMigrations: readonly Migration[] = [...sitesMigrations, ...identityMigrations, ...auditMigrations, ...trackingMigrations, ...reportsMigrations, ...storeIdentityMigrations, ...ssoMigrations, ...workspaceTenantMigrations];

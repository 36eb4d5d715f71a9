import type { Generated } from 'kysely';
import type { IdentityTables } from '../access/identity.tables.js';
import type { AuditTables } from '../audit/audit.tables.js';
import type { SsoTables } from '../sso/sso.tables.js';
import type { WorkspaceRegistryTables } from '../workspace/workspace.tables.js';

/** Tables of the registry (control plane): one row per tenant and per hostname. */
export interface TenantTable {
  slug: string;
  name: string;
  status: string;
  /** JSON of TenantStorage: `{"kind":"sqlite"}` or the PostgreSQL location (never a password). */
  storage: string;
  /** JSON object of string attributes. */
  attributes: string;
  max_users: number | null;
  max_sites: number | null;
  brand_product_name: string | null;
  brand_logo_file: string | null;
  brand_primary_color: string | null;
  language: string | null;
  timezone: string | null;
  created_at: string;
  updated_at: string;
}

export interface TenantHostTable {
  host: string;
  tenant_slug: string;
  position: number;
}

/** One row: a counter bumped by every tenant change, so other processes notice within a poll. */
export interface RegistryStateTable {
  id: number;
  generation: number;
  initialized_at: string;
  demo_created: number;
  /** `multi-tenant` (default) or `single-tenant`: kept here, not in an INI file, because switching has effects. */
  strategy: Generated<string>;
  strategy_changed_at: string | null;
}

/** Platform users, their tokens and sessions, and the platform audit log share the tenant-store shapes. */
export interface RegistryDatabase extends IdentityTables, AuditTables, SsoTables, WorkspaceRegistryTables {
  tenant: TenantTable;
  tenant_host: TenantHostTable;
  registry_state: RegistryStateTable;
}

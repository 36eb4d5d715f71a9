import type { Generated } from 'kysely';

/**
 * Groups are defined once, by the platform, in the registry. Internal groups hold
 * platform users (members in the registry); tenant groups hold tenant users (members
 * in each tenant's own store), and every tenant can use them.
 */
export type GroupKind = 'internal' | 'tenant';

export interface UserGroupTable {
  id: Generated<number>;
  kind: string;
  name: string;
  description: string;
  /** `all_internal` / `all_tenant`: the two groups every user of the kind belongs to, implicitly. */
  special: string | null;
  /** Tenant groups: a segment template ANDed into every report members run (`pageUrl=^https://{{@tenant.slug}}.example.com`). */
  data_policy: string | null;
  /** Members may schedule email reports (off by default for tenant groups). */
  can_subscribe: number;
  created_at: string;
  updated_at: string;
}

/**
 * Collection kinds and where they live: `shared` and `internal` in the registry (with
 * a root each), `tenant` (one per tenant, id `tenant`) in the tenant's store,
 * `personal` beside its owner (registry for platform users, tenant store otherwise).
 */
export type CollectionKind = 'shared' | 'internal' | 'tenant' | 'personal';

export interface CollectionTable {
  id: string;
  kind: string;
  parent_id: string | null;
  name: string;
  description: string;
  /** The owner of a personal collection. */
  owner_user_id: number | null;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Group permissions on shared and internal collections (registry only); children inherit unless they have their own. */
export interface CollectionPermissionTable {
  collection_id: string;
  group_id: number;
  /** `view` or `curate`. */
  level: string;
}

/** A dashboard or a saved report, stored beside its collection. */
export interface WorkspaceItemTable {
  id: string;
  collection_id: string;
  /** `dashboard` or `saved_report`. */
  kind: string;
  name: string;
  description: string;
  /** JSON: a saved report `{method, params, segment, visualization}`, a dashboard `{widgets: [...]}`. */
  definition: string;
  archived_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** Per-user attribute overrides (JSON object), on top of the tenant's attributes. */
export interface UserAttributesTable {
  user_id: number;
  attributes: string;
}

/**
 * A scheduled email report of one user (tenant store for tenant users, registry for
 * platform users). `next_run_at` is the claim: a run owns a due row only if its
 * conditional UPDATE moved it on, so each period is sent once across processes.
 */
export interface SubscriptionTable {
  id: string;
  user_id: number;
  /** Registry rows: the tenant a platform admin subscribed in (its data is reported); null otherwise. */
  acting_tenant: string | null;
  item_id: string;
  /** JSON array of addresses. */
  recipients: string;
  /** `daily`, `weekly` or `monthly`. */
  frequency: string;
  hour: number;
  /** ISO weekday 1 (Monday) to 7 (Sunday), weekly only. */
  weekday: number | null;
  /** 1 to 31 (the month's last day when shorter), monthly only. */
  month_day: number | null;
  /** The site's or tenant's time zone the schedule was computed in. */
  timezone: string;
  id_site: string | null;
  period: string;
  date: string;
  /** `html_csv`, `html` or `csv`. */
  format: string;
  enabled: number;
  next_run_at: string;
  last_sent_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Why a tenant user is deactivated by something other than an admin: `tenant` (its tenant
 * is deactivated) or `strategy` (the platform runs single-tenant). Lifting a reason
 * reactivates the users it holds that no other reason holds.
 */
export interface UserSuspensionTable {
  user_id: number;
  reason: string;
  suspended_at: string;
}

/** Workspace tables of the registry. */
export interface WorkspaceRegistryTables {
  user_group: UserGroupTable;
  collection: CollectionTable;
  collection_permission: CollectionPermissionTable;
  workspace_item: WorkspaceItemTable;
  subscription: SubscriptionTable;
}

/** Workspace tables of every tenant store. */
export interface WorkspaceTenantTables {
  collection: CollectionTable;
  workspace_item: WorkspaceItemTable;
  user_attributes: UserAttributesTable;
  subscription: SubscriptionTable;
  user_suspension: UserSuspensionTable;
}

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

/** Workspace tables of the registry. */
export interface WorkspaceRegistryTables {
  user_group: UserGroupTable;
  collection: CollectionTable;
  collection_permission: CollectionPermissionTable;
  workspace_item: WorkspaceItemTable;
}

/** Workspace tables of every tenant store. */
export interface WorkspaceTenantTables {
  collection: CollectionTable;
  workspace_item: WorkspaceItemTable;
  user_attributes: UserAttributesTable;
}

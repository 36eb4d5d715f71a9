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
  created_at: string;
  updated_at: string;
}

/** Workspace tables of the registry. */
export interface WorkspaceRegistryTables {
  user_group: UserGroupTable;
}

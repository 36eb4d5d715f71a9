import type { Generated } from 'kysely';

/**
 * Single sign-on tables. Like the identity tables they live in every tenant store
 * (tenant users) and in the registry (platform users).
 */

/** Which identity at which provider is which user: `provider` is `jwt`, `oidc`, `saml`, `ldap` or `scim`. */
export interface SsoIdentityTable {
  provider: string;
  subject: string;
  user_id: number;
  created_at: string;
  last_sign_in_at: string | null;
}

/** JWT ids already accepted, until their token expires: a replayed token is refused. */
export interface SsoUsedJtiTable {
  jti: string;
  expires_at: string;
}

/** The identity provider's groups of a user, as the last sign-in (`sso`) or SCIM (`scim`) reported them. */
export interface SsoUserGroupTable {
  user_id: number;
  group_name: string;
  source: string;
}

/**
 * Rights the role mapping granted, with the role the user held before, so a group
 * that stops granting a right takes away only what it gave. `site_id` 0 stands for
 * super user (`previous_role` then is `superuser` or null).
 */
export interface SsoMappedGrantTable {
  user_id: number;
  site_id: number;
  role: string;
  previous_role: string | null;
}

/**
 * Membership of platform-defined groups (the registry's `user_group`): tenant groups
 * in a tenant store, internal groups in the registry.
 */
export interface GroupMemberTable {
  group_id: number;
  user_id: number;
  /** `manual` (granted by hand) or `sso` (by the role mapping, refreshed on every sign-in). */
  source: string;
}

/** SCIM 2.0 groups pushed by the tenant's identity provider. */
export interface ScimGroupTable {
  id: string;
  display_name: string;
  external_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface ScimGroupMemberTable {
  group_id: string;
  user_id: number;
}

/** Bearer tokens of the SCIM endpoint; only a keyed hash is stored. */
export interface ScimTokenTable {
  id: Generated<number>;
  token_hash: string;
  description: string;
  created_at: string;
  last_used_at: string | null;
}

export interface SsoTables {
  sso_identity: SsoIdentityTable;
  sso_used_jti: SsoUsedJtiTable;
  sso_user_group: SsoUserGroupTable;
  sso_mapped_grant: SsoMappedGrantTable;
  group_member: GroupMemberTable;
  scim_group: ScimGroupTable;
  scim_group_member: ScimGroupMemberTable;
  scim_token: ScimTokenTable;
}

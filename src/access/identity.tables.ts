import type { Generated } from 'kysely';

/**
 * Identity tables. The same shapes live in two places: in every tenant's own store
 * (that tenant's users) and in the registry (platform users). In the registry,
 * `superuser` means platform admin and the site tables stay empty.
 */
export interface UserTable {
  id: Generated<number>;
  login: string;
  email: string;
  alias: string | null;
  /** argon2id; null for users who only sign in through SSO or have not finished setup. */
  password_hash: string | null;
  superuser: Generated<number>;
  require_mfa: Generated<number>;
  totp_secret: string | null;
  /** 1 once the user confirmed a first TOTP code. */
  totp_enabled: Generated<number>;
  password_changed_at: string;
  created_at: string;
  updated_at: string;
  last_seen_at: string | null;
  /** Set while the user is deactivated (SCIM `active: false`, or by an admin): no sign-in, no session, no token. */
  deactivated_at: string | null;
  first_name: string | null;
  last_name: string | null;
  /** The identity provider's id of the user (SCIM `externalId`). */
  external_id: string | null;
}

export interface PasswordHistoryTable {
  id: Generated<number>;
  user_id: number;
  password_hash: string;
  created_at: string;
}

/** One role per user and site; no row = noaccess. */
export interface SiteAccessTable {
  user_id: number;
  site_id: number;
  role: string;
}

/** Capabilities granted one by one, on top of the role. */
export interface SiteCapabilityTable {
  user_id: number;
  site_id: number;
  capability: string;
}

export interface AuthTokenTable {
  id: Generated<number>;
  user_id: number;
  /** sha256(secret-keyed) of the 32-hex token; the token itself is shown once and never stored. */
  token_hash: string;
  description: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  post_only: number;
}

export interface SessionTable {
  /** Hash of the cookie value, so a leaked database does not yield live sessions. */
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  remember: number;
  /** 1 while the password was right but the second factor is still owed. */
  mfa_pending: number;
  ip: string | null;
  user_agent: string | null;
}

export interface MfaRecoveryCodeTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: string | null;
}

/** TOTP time steps already used, so a code cannot be replayed. */
export interface MfaUsedStepTable {
  user_id: number;
  step: number;
  used_at: string;
}

export interface LoginFailureTable {
  id: Generated<number>;
  ip: string;
  login: string | null;
  attempted_at: string;
}

/** Manual unblocks: failures from this IP before `unblocked_at` no longer count. */
export interface IpUnblockTable {
  ip: string;
  unblocked_at: string;
}

/** One-time links that create the first super user (or platform admin). */
export interface SetupTokenTable {
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/**
 * One-time invitations: a link that lets a user who has no password yet choose one
 * (and signs it in). Only a keyed hash of the token is stored; a newer invitation
 * replaces a pending one, and a deleted user takes its invitations with it.
 */
export interface UserInvitationTable {
  token_hash: string;
  user_id: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** Audit label of whoever issued it. */
  invited_by: string;
}

export interface IdentityTables {
  user: UserTable;
  password_history: PasswordHistoryTable;
  site_access: SiteAccessTable;
  site_capability: SiteCapabilityTable;
  auth_token: AuthTokenTable;
  session: SessionTable;
  mfa_recovery_code: MfaRecoveryCodeTable;
  mfa_used_step: MfaUsedStepTable;
  login_failure: LoginFailureTable;
  ip_unblock: IpUnblockTable;
  setup_token: SetupTokenTable;
  user_invitation: UserInvitationTable;
}

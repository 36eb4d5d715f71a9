import { randomBytes } from 'node:crypto';
import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import type { Platform } from '../platform/platform.js';
import { actorForUser } from './actors.js';
import { assertIpNotBlocked, bruteForceRule, recordLoginFailure } from './brute-force.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from './context.js';
import { identityStore, type IdentityDb, type UserRow } from './identity.store.js';
import { verifySecondFactor } from './mfa.js';
import { dummyVerify, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { isPasswordExpired } from './password-policy.js';
import type { Actor } from './policy.js';
import { createSession, sessionLifetimes, type CreatedSession } from './sessions.js';
import { createToken, hashSecretValue } from './tokens.js';
import { assertPasswordSignInAllowed, isBreakGlassDenied } from '../sso/sso-sign-in.js';
import { acceptNewPassword, createUser, passwordPolicyOf } from './users.service.js';

export interface Credentials {
  readonly login: string;
  readonly password: string;
  readonly totp?: string | undefined;
}

export interface Client {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export type SignInStatus = 'signed_in' | 'mfa_required' | 'mfa_enrollment_required';

export interface SignInResult {
  readonly status: SignInStatus;
  readonly user: UserRow;
  readonly session: CreatedSession;
}

const anonymousOf = (scope: Scope): Actor => ({ kind: 'anonymous', tenant: scope.kind === 'tenant' ? scope.tenant.slug : null, sites: new Map() });

/**
 * Checks a login and password in one scope (a tenant user only at its tenant's
 * hosts, a platform user only at the platform host), with brute-force counting.
 * Returns the user or throws; failures are logged and audited.
 */
export async function verifyCredentials(platform: Platform, scope: Scope, credentials: Credentials, client: Client, now = new Date()): Promise<UserRow> {
  assertPasswordSignInAllowed(platform, scope, credentials.login);
  const db = identityDbFor(platform, scope);
  const rule = bruteForceRule(settingsFor(platform, scope));
  await assertIpNotBlocked(db, client.ip, rule, now);
  const user = await identityStore.findUserByLogin(db, credentials.login);
  const ok = user?.password_hash ? await verifyPassword(user.password_hash, credentials.password) : (await dummyVerify(credentials.password), false);
  if (!user || !ok) {
    await recordLoginFailure(db, client.ip, credentials.login, now);
    await recordAudit({ platform, scope, actor: anonymousOf(scope), ip: client.ip }, 'login.failure', { after: { login: credentials.login } });
    throw new PluraError('invalid_credentials', 'Wrong username and/or password.');
  }
  if (isBreakGlassDenied(platform, scope, user)) {
    throw new PluraError('sso_required', 'Password sign-in is turned off here: sign in with your organisation\'s single sign-on.');
  }
  if (user.deactivated_at !== null) {
    await recordAudit({ platform, scope, actor: anonymousOf(scope), ip: client.ip }, 'login.refused_deactivated', { after: { login: user.login } });
    throw new PluraError('user_deactivated', 'This user is deactivated; ask an administrator of your organisation.');
  }
  if (needsRehash(user.password_hash ?? '')) {
    await db.updateTable('user').set({ password_hash: await hashPassword(credentials.password) }).where('id', '=', user.id).execute();
  }
  return user;
}

export function mfaRequiredFor(platform: Platform, scope: Scope, user: UserRow): boolean {
  return user.require_mfa === 1 || settingsFor(platform, scope).get('Security.require_mfa');
}

/** POST /auth/login: password, then (if enabled) TOTP; opens a session (pending while a second factor is owed). */
export async function signIn(platform: Platform, scope: Scope, credentials: Credentials, client: Client & { remember: boolean }, now = new Date()): Promise<SignInResult> {
  const db = identityDbFor(platform, scope);
  const user = await verifyCredentials(platform, scope, credentials, client, now);
  const ctx: ActContext = { platform, scope, actor: await actorForUser(scope, db, user), ip: client.ip };
  if (isPasswordExpired(user.password_changed_at, passwordPolicyOf(ctx), now)) {
    throw new PluraError('password_expired', 'Your password has expired; choose a new one (POST /auth/password).');
  }
  let status: SignInStatus = 'signed_in';
  if (user.totp_enabled === 1) {
    if (credentials.totp === undefined || credentials.totp === '') status = 'mfa_required';
    else await requireSecondFactor(ctx, db, user, credentials.totp, now);
  } else if (mfaRequiredFor(platform, scope, user)) {
    status = 'mfa_enrollment_required';
  }
  const session = await createSession(
    db,
    platform.secret,
    { userId: user.id, remember: client.remember, mfaPending: status !== 'signed_in', ip: client.ip, userAgent: client.userAgent, lifetimes: sessionLifetimes(settingsFor(platform, scope)) },
    now,
  );
  if (status === 'signed_in') await markSignedIn(ctx, db, user, now);
  return { status, user, session };
}

export async function markSignedIn(ctx: ActContext, db: IdentityDb, user: UserRow, now = new Date()): Promise<void> {
  await db.updateTable('user').set({ last_seen_at: now.toISOString() }).where('id', '=', user.id).execute();
  await recordAudit(ctx, 'login.success', { after: { login: user.login, mfa: user.totp_enabled === 1 } });
}

/** Checks a TOTP or recovery code; a wrong or replayed one counts as a failed sign-in. */
export async function requireSecondFactor(ctx: ActContext, db: IdentityDb, user: UserRow, code: string, now = new Date()): Promise<void> {
  const used = await verifySecondFactor(db, user, code, now);
  if (used === null) {
    await recordLoginFailure(db, ctx.ip, user.login, now);
    await recordAudit(ctx, 'mfa.failure', { after: { login: user.login } });
    throw new PluraError('invalid_mfa_code', 'The two-factor authentication code is wrong or was already used.');
  }
  await recordAudit(ctx, used === 'totp' ? 'mfa.used' : 'mfa.recovery_code_used', { after: { login: user.login } });
}

/** Matomo's createAppSpecificTokenAuth: authenticates by password (and authCode with 2FA), then issues a token. */
export async function createAppSpecificToken(
  platform: Platform,
  scope: Scope,
  input: Credentials & { description: string; expiresAt: string | null; postOnly: boolean },
  client: Client,
): Promise<string> {
  const db = identityDbFor(platform, scope);
  // Matomo: the login may also be given as the email address.
  let login = input.login;
  if (!(await identityStore.findUserByLogin(db, login))) {
    const byEmail = await identityStore.findUsersByEmail(db, login);
    if (byEmail.length === 1 && byEmail[0]) login = byEmail[0].login;
  }
  const user = await verifyCredentials(platform, scope, { ...input, login }, client);
  const ctx: ActContext = { platform, scope, actor: await actorForUser(scope, db, user), ip: client.ip };
  if (user.totp_enabled === 1) {
    if (!input.totp) throw new PluraError('mfa_required', 'This user uses two-factor authentication: pass the current code as authCode.');
    await requireSecondFactor(ctx, db, user, input.totp);
  }
  const { token, info } = await createToken(db, platform.secret, user.id, { description: input.description, expiresAt: input.expiresAt, postOnly: input.postOnly });
  await recordAudit(ctx, 'token.created', { after: { login: user.login, tokenId: info.id, description: info.description, postOnly: info.postOnly, expiresAt: info.expiresAt } });
  return token;
}

/** Changes an expired (or any) password with the old one, without a session. */
export async function changePasswordWithOld(platform: Platform, scope: Scope, input: { login: string; oldPassword: string; newPassword: string }, client: Client): Promise<void> {
  const db = identityDbFor(platform, scope);
  const user = await verifyCredentials(platform, scope, { login: input.login, password: input.oldPassword }, client);
  const ctx: ActContext = { platform, scope, actor: await actorForUser(scope, db, user), ip: client.ip };
  const hash = await acceptNewPassword(ctx, db, input.newPassword, { id: user.id, login: user.login, email: user.email });
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('user').set({ password_hash: hash, password_changed_at: now, updated_at: now }).where('id', '=', user.id).execute();
    await trx.insertInto('password_history').values({ user_id: user.id, password_hash: hash, created_at: now }).execute();
    await trx.deleteFrom('session').where('user_id', '=', user.id).execute();
    await recordAudit(ctx, 'user.password_changed', { after: { login: user.login } }, trx);
  });
}

// ---------------------------------------------------------------------------
// First start: a one-time setup link creates the first super user (no default password ever).

export async function hasSuperuser(db: IdentityDb): Promise<boolean> {
  return (await identityStore.countSuperusers(db)) > 0;
}

/** A fresh one-time setup token for a scope that has no super user yet, or null if it has one. */
export async function issueSetupToken(platform: Platform, scope: Scope, now = new Date()): Promise<string | null> {
  const db = identityDbFor(platform, scope);
  if (await hasSuperuser(db)) return null;
  const token = randomBytes(24).toString('base64url');
  const hours = platform.settings.get('General.setup_link_validity_hours');
  await db
    .insertInto('setup_token')
    .values({ token_hash: hashSecretValue(platform.secret, token), created_at: now.toISOString(), expires_at: new Date(now.getTime() + hours * 3_600_000).toISOString(), used_at: null })
    .execute();
  return token;
}

/** Redeems a setup token: creates the first super user, then voids every setup token of the scope. */
export async function completeSetup(platform: Platform, scope: Scope, token: string, input: { login: string; password: string; email: string }, client: Client, now = new Date()): Promise<UserRow> {
  const db = identityDbFor(platform, scope);
  const row = await db.selectFrom('setup_token').selectAll().where('token_hash', '=', hashSecretValue(platform.secret, token)).executeTakeFirst();
  if (!row || row.used_at !== null || Date.parse(row.expires_at) <= now.getTime()) {
    throw new PluraError('invalid_token', 'This setup link is unknown, used or expired; print a new one with `plura tenant:setup-link`.');
  }
  if (await hasSuperuser(db)) throw new PluraError('forbidden', 'A super user already exists; sign in instead.');
  const system: ActContext = { platform, scope, actor: { kind: 'system', name: 'setup-link' }, ip: client.ip };
  await createUser(system, { login: input.login, password: input.password, email: input.email, superuser: true });
  await db.updateTable('setup_token').set({ used_at: now.toISOString() }).where('used_at', 'is', null).execute();
  const user = await identityStore.findUserByLogin(db, input.login);
  if (!user) throw new PluraError('storage_failed', 'The super user was not stored.');
  return user;
}

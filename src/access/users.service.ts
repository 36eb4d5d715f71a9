import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from './context.js';
import { identityStore, type IdentityDb, type UserRow } from './identity.store.js';
import { ANONYMOUS_LOGIN } from './actors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { assertPasswordAcceptable, isInHistory, type PasswordPolicy } from './password-policy.js';
import {
  can,
  capabilitiesGrantableOn,
  capabilitiesImpliedBy,
  decide,
  isCapability,
  isSiteRole,
  roleAtLeast,
  siteFilter,
  type AccessContext,
  type Capability,
  type SiteGrant,
  type SiteRole,
  type SiteRoleOrNone,
} from './policy.js';
import { deleteAllTokens } from './tokens.js';
import { deleteUserSessions } from './sessions.js';
import { forgetMappedGrants } from '../sso/role-mapping.js';
import { assertTenantUsersAllowed } from '../tenancy/strategy.js';

/** Matomo: logins are 2–100 characters of letters, digits, `_ . @ + -` (and German umlauts). */
const LOGIN_PATTERN = /^[A-Za-z0-9_.@+\-äöüÄÖÜß]{2,100}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function passwordPolicyOf(ctx: Pick<ActContext, 'platform' | 'scope'>): PasswordPolicy {
  const settings = settingsFor(ctx.platform, ctx.scope);
  return {
    minLength: settings.get('Security.password_min_length'),
    requireComplexity: settings.get('Security.password_require_complexity'),
    historyCount: settings.get('Security.password_history'),
    expiryDays: settings.get('Security.password_expiry_days'),
  };
}

function tenantSlugOf(scope: Scope): string {
  if (scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Site permissions exist only inside a tenant.');
  return scope.tenant.slug;
}

/** The access context of the scope as a whole: a tenant, or the platform. */
export function scopeContext(scope: Scope): AccessContext {
  return scope.kind === 'tenant' ? { kind: 'tenant', tenant: scope.tenant.slug } : { kind: 'platform' };
}

/** The least role that implies a capability, for Matomo's wording of access errors. */
const roleNeededFor: Readonly<Record<Capability, string>> = {
  view_reports: 'view',
  create_reports: 'write',
  manage_goals: 'write',
  export_raw_data: 'write',
  manage_custom_dimensions: 'admin',
  configure_site: 'admin',
  manage_site_users: 'admin',
  view_sensitive_data: 'admin',
  manage_tenant: 'superuser',
  manage_platform: 'platform_admin',
};

/**
 * Throws 401 (anonymous: sign in first) or 403 (not allowed) from a policy decision.
 * Matomo: the message is Matomo's own text, so API clients that match on it keep working.
 */
export function authorize(ctx: ActContext, capability: Capability, context: AccessContext, what: string): void {
  const decision = decide(ctx.actor, capability, context);
  if (decision.allowed) return;
  const role = roleNeededFor[capability];
  const text =
    context.kind === 'site' && role !== 'superuser' && role !== 'platform_admin'
      ? `You can't access this resource as it requires ${role} access for the website id = ${context.siteId}.`
      : `You can't access this resource as it requires a '${role}' access.`;
  throw new PluraError(ctx.actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', text, { cause: `${what}: ${decision.reason}` });
}

/** Matomo's "some view/admin access" checks: the capability on at least one site of the tenant. */
export function authorizeSomeSite(ctx: ActContext, capability: Capability): void {
  if (ctx.scope.kind === 'tenant') {
    const sites = siteFilter(ctx.actor, capability, ctx.scope.tenant.slug);
    if (sites === 'all' || sites.length > 0) return;
  }
  const role = roleNeededFor[capability];
  throw new PluraError(ctx.actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `You can't access this resource as it requires ${role} access for at least one website.`);
}

/** Managing users in a scope: super user (tenant) or platform admin (platform). */
function authorizeUserAdmin(ctx: ActContext, what: string): void {
  authorize(ctx, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope), what);
}

function isSelf(ctx: ActContext, user: UserRow): boolean {
  const actor = ctx.actor;
  if (ctx.scope.kind === 'tenant') return actor.kind === 'tenant_user' && actor.tenant === ctx.scope.tenant.slug && actor.userId === user.id;
  return actor.kind === 'platform_user' && actor.actingIn === null && actor.userId === user.id;
}

export async function requireUser(db: IdentityDb, login: string): Promise<UserRow> {
  const user = await identityStore.findUserByLogin(db, login);
  if (!user || user.login === ANONYMOUS_LOGIN) throw new PluraError('unknown_user', `User '${login}' doesn't exist.`);
  return user;
}

/** Refuses unknown site ids with Matomo's wording. */
export async function requireSitesExist(ctx: ActContext, siteIds: readonly number[]): Promise<void> {
  if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'Sites exist only inside a tenant.');
  if (siteIds.length === 0) return;
  const rows = await ctx.scope.store.db.selectFrom('site').select('id').where('id', 'in', [...siteIds]).execute();
  const found = new Set(rows.map((row) => row.id));
  const missing = siteIds.find((id) => !found.has(id));
  if (missing !== undefined) throw new PluraError('unknown_site', `The website id = ${missing} was not found.`);
}

/** Public shape of a user (no hashes, no secrets). */
export interface UserView {
  readonly login: string;
  readonly email: string;
  readonly alias: string | null;
  readonly superuser_access: boolean;
  readonly uses_2fa: boolean;
  readonly require_mfa: boolean;
  readonly date_registered: string;
  readonly last_seen: string | null;
  readonly password_changed_at: string;
  readonly active: boolean;
  readonly first_name: string | null;
  readonly last_name: string | null;
}

export function presentUser(user: UserRow): UserView {
  return {
    login: user.login,
    email: user.email,
    alias: user.alias,
    superuser_access: user.superuser === 1,
    uses_2fa: user.totp_enabled === 1,
    require_mfa: user.require_mfa === 1,
    date_registered: user.created_at,
    last_seen: user.last_seen_at,
    password_changed_at: user.password_changed_at,
    active: user.deactivated_at === null,
    first_name: user.first_name,
    last_name: user.last_name,
  };
}

export interface CreateUserInput {
  readonly login: string;
  readonly password: string | null;
  readonly email: string;
  readonly alias?: string | null;
  readonly superuser?: boolean;
  readonly initialSiteId?: number | null;
}

/** Checks a new password against the scope's policy and the user's history; returns its hash. */
export async function acceptNewPassword(ctx: Pick<ActContext, 'platform' | 'scope'>, db: IdentityDb, password: string, user: { id?: number; login: string; email: string }): Promise<string> {
  const policy = passwordPolicyOf(ctx);
  assertPasswordAcceptable(password, policy, { login: user.login, email: user.email });
  if (user.id !== undefined && policy.historyCount > 0) {
    const previous = await db
      .selectFrom('password_history')
      .select('password_hash')
      .where('user_id', '=', user.id)
      .orderBy('id', 'desc')
      .limit(policy.historyCount)
      .execute();
    if (await isInHistory(password, previous.map((row) => row.password_hash))) {
      throw new PluraError('weak_password', `The new password must differ from your last ${policy.historyCount} passwords.`);
    }
  }
  return hashPassword(password);
}

async function rememberPassword(db: IdentityDb, userId: number, hash: string, now: string): Promise<void> {
  await db.insertInto('password_history').values({ user_id: userId, password_hash: hash, created_at: now }).execute();
}

/** Creates a user in the scope (tenant user or platform user). Matomo's addUser rules. */
export async function createUser(ctx: ActContext, input: CreateUserInput): Promise<UserView> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  const initialSiteId = input.initialSiteId ?? null;
  const isAdmin = can(ctx.actor, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope));
  if (!isAdmin) {
    // Matomo: an admin who is not super user must name a site they administer; the user gets view on it.
    if (ctx.scope.kind !== 'tenant' || initialSiteId === null) authorizeUserAdmin(ctx, 'create users');
    else authorize(ctx, 'manage_site_users', { kind: 'site', tenant: ctx.scope.tenant.slug, siteId: initialSiteId }, `add users to site ${initialSiteId}`);
  }
  if (input.superuser) authorizeUserAdmin(ctx, 'create super users');
  const login = input.login.trim();
  if (!LOGIN_PATTERN.test(login)) {
    throw new PluraError('invalid_input', `The login "${login}" is invalid: use 2 to 100 letters, digits or the characters _ . @ + -.`);
  }
  if (login === ANONYMOUS_LOGIN) throw new PluraError('invalid_input', 'The login "anonymous" is reserved.');
  const email = input.email.trim();
  if (!EMAIL_PATTERN.test(email) || email.length > 100) throw new PluraError('invalid_input', `The email "${email}" is not a valid email address.`);
  if (initialSiteId !== null) await requireSitesExist(ctx, [initialSiteId]);
  if (await identityStore.findUserByLogin(db, login)) throw new PluraError('duplicate_user', `Username '${login}' already exists.`);
  if ((await identityStore.findUsersByEmail(db, email)).length > 0) throw new PluraError('duplicate_user', `User with email '${email}' already exists.`);
  if (ctx.scope.kind === 'tenant' && ctx.scope.tenant.limits.maxUsers !== null && (await identityStore.countUsers(db)) >= ctx.scope.tenant.limits.maxUsers) {
    throw new PluraError('limit_reached', `Tenant "${ctx.scope.tenant.slug}" has reached its limit of ${ctx.scope.tenant.limits.maxUsers} users.`);
  }
  if (ctx.scope.kind === 'tenant') await assertTenantUsersAllowed(ctx.platform);
  const hash = input.password === null ? null : await acceptNewPassword(ctx, db, input.password, { login, email });
  const now = new Date().toISOString();
  const user = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('user')
      .values({
        login,
        email,
        alias: input.alias ?? null,
        password_hash: hash,
        superuser: input.superuser ? 1 : 0,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (hash !== null) await rememberPassword(trx, row.id, hash, now);
    if (initialSiteId !== null && !input.superuser) await identityStore.setRole(trx, row.id, [initialSiteId], 'view');
    await recordAudit(ctx, 'user.created', { siteId: initialSiteId, after: { login, email, superuser: Boolean(input.superuser), initialSiteId } }, trx);
    return row;
  });
  return presentUser(user);
}

export async function getUser(ctx: ActContext, login: string): Promise<UserView> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  const user = await requireUser(db, login);
  if (!isSelf(ctx, user)) authorizeUserAdmin(ctx, `see the user '${login}'`);
  return presentUser(user);
}

export interface UserWithAccess extends UserView {
  readonly role?: string;
  readonly capabilities?: readonly string[];
}

/**
 * Users the caller may see: every user for super users; for site admins only the
 * users holding a role on sites they administer (a policy-derived SQL filter).
 */
export async function listUsers(ctx: ActContext, logins?: readonly string[]): Promise<UserRow[]> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  if (can(ctx.actor, ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform', scopeContext(ctx.scope))) {
    const rows = await identityStore.listUsers(db, logins ? { logins } : {});
    return rows.filter((row) => row.login !== ANONYMOUS_LOGIN);
  }
  if (ctx.scope.kind !== 'tenant') authorizeUserAdmin(ctx, 'list users');
  const sites = siteFilter(ctx.actor, 'manage_site_users', tenantSlugOf(ctx.scope));
  if (sites !== 'all' && sites.length === 0) authorize(ctx, 'manage_site_users', scopeContext(ctx.scope), 'list users (requires admin access on at least one site)');
  const rows = await identityStore.listUsers(db, { ...(logins ? { logins } : {}), ...(sites === 'all' ? {} : { withRoleOnSites: sites }) });
  return rows.filter((row) => row.login !== ANONYMOUS_LOGIN);
}

export interface UpdateUserInput {
  readonly password?: string;
  readonly email?: string;
  readonly alias?: string | null;
  readonly requireMfa?: boolean;
  /** The caller's own current password; Matomo demands it to change a password or an email. */
  readonly passwordConfirmation?: string;
  /** The caller's session, kept alive when users change their own password. */
  readonly keepSessionId?: string;
}

/** The caller re-proves who they are with their password (the shell and platform admins need not). */
export async function confirmCallerPassword(ctx: ActContext, confirmation: string | undefined): Promise<void> {
  if (ctx.actor.kind === 'system') return;
  const db = ctx.actor.kind === 'platform_user' ? identityDbFor(ctx.platform, { kind: 'platform' }) : identityDbFor(ctx.platform, ctx.scope);
  const userId = ctx.actor.kind === 'tenant_user' || ctx.actor.kind === 'platform_user' ? ctx.actor.userId : null;
  const caller = userId === null ? undefined : await identityStore.findUserById(db, userId);
  if (!caller?.password_hash || confirmation === undefined || confirmation === '' || !(await verifyPassword(caller.password_hash, confirmation))) {
    throw new PluraError('confirmation_required', 'The current password you entered is not correct (passwordConfirmation).');
  }
}

export async function updateUser(ctx: ActContext, login: string, input: UpdateUserInput): Promise<UserView> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  const user = await requireUser(db, login);
  const self = isSelf(ctx, user);
  if (!self) authorizeUserAdmin(ctx, `change the user '${login}'`);
  if (input.requireMfa !== undefined) authorizeUserAdmin(ctx, 'require MFA for a user');
  if (input.password !== undefined || (input.email !== undefined && input.email !== user.email)) {
    await confirmCallerPassword(ctx, input.passwordConfirmation);
  }
  const email = input.email?.trim();
  if (email !== undefined && email !== user.email) {
    if (!EMAIL_PATTERN.test(email)) throw new PluraError('invalid_input', `The email "${email}" is not a valid email address.`);
    if ((await identityStore.findUsersByEmail(db, email)).some((row) => row.id !== user.id)) {
      throw new PluraError('duplicate_user', `User with email '${email}' already exists.`);
    }
  }
  const hash = input.password === undefined ? undefined : await acceptNewPassword(ctx, db, input.password, { id: user.id, login: user.login, email: email ?? user.email });
  const now = new Date().toISOString();
  const updated = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('user')
      .set({
        ...(email !== undefined ? { email } : {}),
        ...(input.alias !== undefined ? { alias: input.alias } : {}),
        ...(input.requireMfa !== undefined ? { require_mfa: input.requireMfa ? 1 : 0 } : {}),
        ...(hash !== undefined ? { password_hash: hash, password_changed_at: now } : {}),
        updated_at: now,
      })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (hash !== undefined) {
      await rememberPassword(trx, user.id, hash, now);
      // A changed password ends every other session of the user.
      const keep = self ? input.keepSessionId : undefined;
      await deleteUserSessions(trx, user.id, keep);
      // The caller's own session survives its password change (sessions older than a change are void).
      if (keep) await trx.updateTable('session').set({ created_at: now }).where('id', '=', keep).execute();
    }
    await recordAudit(
      ctx,
      hash !== undefined ? 'user.password_changed' : 'user.updated',
      { before: { email: user.email, alias: user.alias, require_mfa: user.require_mfa === 1 }, after: { login, email: row.email, alias: row.alias, require_mfa: row.require_mfa === 1 } },
      trx,
    );
    return row;
  });
  return presentUser(updated);
}

export async function deleteUser(ctx: ActContext, login: string): Promise<void> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  authorizeUserAdmin(ctx, `delete the user '${login}'`);
  const user = await requireUser(db, login);
  await db.transaction().execute(async (trx) => {
    if (user.superuser === 1 && (await identityStore.countSuperusers(trx)) <= 1) {
      throw new PluraError('forbidden', `The user '${login}' is the last ${ctx.scope.kind === 'tenant' ? 'super user' : 'platform admin'}; it cannot be deleted.`);
    }
    await trx.deleteFrom('user').where('id', '=', user.id).execute();
    await recordAudit(ctx, 'user.deleted', { before: presentUser(user) }, trx);
  });
}

/**
 * Deactivates or reactivates a user (an admin, or SCIM `active`). A deactivated user
 * cannot sign in by any method; its sessions end now and its tokens are refused
 * until it is reactivated. The last active super user cannot be deactivated.
 */
export async function setUserActive(ctx: ActContext, login: string, active: boolean): Promise<UserView> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  authorizeUserAdmin(ctx, `${active ? 'reactivate' : 'deactivate'} the user '${login}'`);
  const user = await requireUser(db, login);
  if (!active && user.deactivated_at !== null && ctx.scope.kind === 'tenant') {
    // Already off because its tenant or the strategy deactivated it: from now on it is the admin's decision, and lifting those leaves it off.
    const store = ctx.scope.store.db;
    const held = await store.deleteFrom('user_suspension').where('user_id', '=', user.id).executeTakeFirst();
    if (Number(held.numDeletedRows) > 0) await recordAudit(ctx, 'user.deactivated', { after: { login, wasSuspended: true } });
    return presentUser(user);
  }
  if ((user.deactivated_at === null) === active) return presentUser(user);
  const now = new Date().toISOString();
  const updated = await db.transaction().execute(async (trx) => {
    if (!active && user.superuser === 1) {
      if ((await identityStore.countOtherActiveSuperusers(trx, user.id)) === 0) throw new PluraError('forbidden', `The user '${login}' is the last active super user; it cannot be deactivated.`);
    }
    const row = await trx.updateTable('user').set({ deactivated_at: active ? null : now, updated_at: now }).where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
    if (!active) await trx.deleteFrom('session').where('user_id', '=', user.id).execute();
    await recordAudit(ctx, active ? 'user.reactivated' : 'user.deactivated', { after: { login } }, trx);
    return row;
  });
  return presentUser(updated);
}

/** Resolves `idSites` (`all` = every site the caller may manage users of). */
export async function resolveSiteIds(ctx: ActContext, raw: readonly number[] | 'all'): Promise<number[]> {
  const tenant = tenantSlugOf(ctx.scope);
  if (raw === 'all') {
    const filter = siteFilter(ctx.actor, 'manage_site_users', tenant);
    if (filter !== 'all') return [...filter];
    if (ctx.scope.kind !== 'tenant') return [];
    return (await ctx.scope.store.db.selectFrom('site').select('id').orderBy('id').execute()).map((row) => row.id);
  }
  await requireSitesExist(ctx, raw);
  return [...new Set(raw)];
}

/** Matomo's setUserAccess: one role on the given sites (replacing the previous one). */
export async function setUserAccess(ctx: ActContext, login: string, access: string, siteIds: readonly number[] | 'all'): Promise<void> {
  const tenant = tenantSlugOf(ctx.scope);
  const db = identityDbFor(ctx.platform, ctx.scope);
  if (access !== 'noaccess' && !isSiteRole(access)) {
    throw new PluraError('invalid_input', `The access "${access}" is not valid: use noaccess, view, write or admin.`);
  }
  const ids = await resolveSiteIds(ctx, siteIds);
  if (ids.length === 0) throw new PluraError('invalid_input', 'Name at least one site (idSites).');
  for (const siteId of ids) {
    authorize(ctx, 'manage_site_users', { kind: 'site', tenant, siteId }, `manage users of site ${siteId}`);
  }
  // Site admins grant view or write, never admin.
  if (access === 'admin') authorize(ctx, 'manage_tenant', { kind: 'tenant', tenant }, 'grant admin access');
  let user = await identityStore.findUserByLogin(db, login);
  if (login === ANONYMOUS_LOGIN) {
    if (access !== 'view' && access !== 'noaccess') throw new PluraError('invalid_input', 'The anonymous user can only be given view access or noaccess.');
    user ??= await createAnonymousUser(db);
  }
  if (!user) throw new PluraError('unknown_user', `User '${login}' doesn't exist.`);
  if (user.superuser === 1) {
    throw new PluraError('invalid_input', `The user '${login}' is a super user and has access to all websites; remove the super user access first.`);
  }
  const target = user;
  const before = await identityStore.grantsOf(db, target.id);
  const rose = access !== 'noaccess' && ids.some((siteId) => !roleAtLeast(before.get(siteId)?.role ?? 'noaccess', access as SiteRoleOrNone));
  await db.transaction().execute(async (trx) => {
    await identityStore.setRole(trx, target.id, ids, access as SiteRole | 'noaccess');
    await forgetMappedGrants(trx, target.id, ids);
    // Capabilities the new role implies are dropped, as Matomo stores only what the role lacks.
    if (access !== 'noaccess') {
      for (const siteId of ids) {
        for (const capability of before.get(siteId)?.capabilities ?? []) {
          if (!capabilitiesGrantableOn(access as SiteRole).includes(capability)) await identityStore.removeCapability(trx, target.id, siteId, capability);
        }
      }
    }
    let rotated = 0;
    if (rose && settingsFor(ctx.platform, ctx.scope).get('Security.rotate_tokens_on_role_rise')) rotated = await deleteAllTokens(trx, target.id);
    for (const siteId of ids) {
      await recordAudit(ctx, 'access.role_changed', { siteId, before: { login, role: before.get(siteId)?.role ?? 'noaccess' }, after: { login, role: access } }, trx);
    }
    if (rotated > 0) await recordAudit(ctx, 'token.rotated', { after: { login, deleted: rotated, reason: 'role rose' } }, trx);
  });
}

async function createAnonymousUser(db: IdentityDb): Promise<UserRow> {
  const now = new Date().toISOString();
  return db
    .insertInto('user')
    .values({ login: ANONYMOUS_LOGIN, email: 'anonymous@example.org', password_hash: null, password_changed_at: now, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Matomo's addCapabilities / removeCapabilities. */
export async function changeCapabilities(ctx: ActContext, login: string, names: readonly string[], siteIds: readonly number[] | 'all', add: boolean): Promise<void> {
  const tenant = tenantSlugOf(ctx.scope);
  const db = identityDbFor(ctx.platform, ctx.scope);
  const wanted: Capability[] = [];
  for (const name of names) {
    if (!isCapability(name)) throw new PluraError('invalid_input', `The capability "${name}" does not exist; see UsersManager.getAvailableCapabilities.`);
    wanted.push(name);
  }
  if (wanted.length === 0) throw new PluraError('invalid_input', 'Name at least one capability.');
  const ids = await resolveSiteIds(ctx, siteIds);
  for (const siteId of ids) authorize(ctx, 'manage_site_users', { kind: 'site', tenant, siteId }, `manage users of site ${siteId}`);
  const user = await requireUser(db, login);
  if (user.superuser === 1) throw new PluraError('invalid_input', `The user '${login}' is a super user; capabilities do not apply.`);
  const grants = await identityStore.grantsOf(db, user.id);
  await db.transaction().execute(async (trx) => {
    for (const siteId of ids) {
      const grant = grants.get(siteId);
      if (!grant) throw new PluraError('invalid_input', `The user '${login}' has no role on site ${siteId}; give a role before capabilities.`);
      for (const capability of wanted) {
        if (add) {
          if (capabilitiesImpliedBy(grant.role).includes(capability)) continue; // already implied: nothing stored
          if (!capabilitiesGrantableOn(grant.role).includes(capability)) {
            throw new PluraError('invalid_input', `The capability "${capability}" cannot be granted on top of the role ${grant.role}.`);
          }
          await identityStore.addCapability(trx, user.id, siteId, capability);
        } else {
          await identityStore.removeCapability(trx, user.id, siteId, capability);
        }
      }
      await recordAudit(ctx, add ? 'access.capabilities_added' : 'access.capabilities_removed', { siteId, after: { login, capabilities: wanted } }, trx);
    }
  });
}

/** Matomo's setSuperUserAccess (platform scope: platform admin). */
export async function setSuperUserAccess(ctx: ActContext, login: string, grant: boolean, passwordConfirmation: string | undefined): Promise<void> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  authorizeUserAdmin(ctx, 'change super user access');
  if (ctx.actor.kind === 'tenant_user') await confirmCallerPassword(ctx, passwordConfirmation);
  const user = await requireUser(db, login);
  await db.transaction().execute(async (trx) => {
    if (!grant && user.superuser === 1 && (await identityStore.countSuperusers(trx)) <= 1) {
      throw new PluraError('forbidden', 'Removing this super user access would leave no super user; grant it to someone else first.');
    }
    await trx.updateTable('user').set({ superuser: grant ? 1 : 0, updated_at: new Date().toISOString() }).where('id', '=', user.id).execute();
    // Matomo: per-site rows are dropped either way; a super user needs none.
    await identityStore.removeAllGrantsOf(trx, user.id);
    await forgetMappedGrants(trx, user.id, 'all');
    if (grant && user.superuser !== 1 && settingsFor(ctx.platform, ctx.scope).get('Security.rotate_tokens_on_role_rise')) await deleteAllTokens(trx, user.id);
    await recordAudit(ctx, 'access.superuser_changed', { before: { login, superuser: user.superuser === 1 }, after: { login, superuser: grant } }, trx);
  });
}

export interface SiteAccessEntry {
  readonly site: number;
  readonly access: string;
  readonly capabilities: readonly string[];
}

export async function getSitesAccessFromUser(ctx: ActContext, login: string): Promise<SiteAccessEntry[]> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  authorizeUserAdmin(ctx, "see a user's access");
  const user = await requireUser(db, login);
  if (user.superuser === 1 && ctx.scope.kind === 'tenant') {
    const sites = await ctx.scope.store.db.selectFrom('site').select('id').orderBy('id').execute();
    return sites.map((site) => ({ site: site.id, access: 'admin', capabilities: [] }));
  }
  const grants = await identityStore.grantsOf(db, user.id);
  return [...grants.entries()].sort(([a], [b]) => a - b).map(([site, grant]) => ({ site, access: grant.role, capabilities: [...grant.capabilities] }));
}

export async function getUsersAccessFromSite(ctx: ActContext, siteId: number): Promise<Record<string, string>> {
  const tenant = tenantSlugOf(ctx.scope);
  await requireSitesExist(ctx, [siteId]);
  authorize(ctx, 'manage_site_users', { kind: 'site', tenant, siteId }, `see the users of site ${siteId}`);
  const db = identityDbFor(ctx.platform, ctx.scope);
  const rows = await db.selectFrom('site_access').innerJoin('user', 'user.id', 'site_access.user_id').select(['user.login', 'site_access.role']).where('site_access.site_id', '=', siteId).orderBy('user.login').execute();
  return Object.fromEntries(rows.map((row) => [row.login, row.role]));
}

/** Role and capabilities of each user on one site, for getUsersPlusRole. */
export function roleOnSite(user: UserRow, grants: ReadonlyMap<number, SiteGrant> | undefined, siteId: number): { role: string; capabilities: string[] } {
  if (user.superuser === 1) return { role: 'superuser', capabilities: [] };
  const grant = grants?.get(siteId);
  if (!grant) return { role: 'noaccess', capabilities: [] };
  return { role: grant.role, capabilities: [...capabilitiesImpliedBy(grant.role), ...grant.capabilities] };
}

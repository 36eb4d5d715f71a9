import type { Kysely } from 'kysely';
import { PluraError } from '../core/errors.js';
import type { SitesTables } from '../sites/sites.tables.js';
import { recordAudit } from '../audit/audit.service.js';
import { actorForUser } from '../access/actors.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from '../access/context.js';
import { identityStore, type IdentityDb, type UserRow } from '../access/identity.store.js';
import type { Client } from '../access/login.service.js';
import type { Actor } from '../access/policy.js';
import { createSession, sessionLifetimes, type CreatedSession } from '../access/sessions.js';
import type { Platform } from '../platform/platform.js';
import { groupIdsByName } from '../workspace/groups.service.js';
import { assertTenantUsersAllowed } from '../tenancy/strategy.js';
import { applyMappedRights, mappedRightsFor, parseRoleMapping, type RightsChange } from './role-mapping.js';

export type SsoProvider = 'jwt' | 'oidc' | 'saml' | 'ldap';

/** What an identity provider vouched for, after the protocol checked every signature. */
export interface SsoProfile {
  readonly provider: SsoProvider;
  /** Stable id of the user at the provider (`sub`, SAML NameID, LDAP DN, ...). */
  readonly subject: string;
  readonly email: string;
  /** Preferred login for a new user (LDAP uid); else the email. */
  readonly login?: string | undefined;
  readonly firstName?: string | null | undefined;
  readonly lastName?: string | null | undefined;
  readonly groups: readonly string[];
}

export interface SsoSignInOptions {
  /** Create the user when no user matches. */
  readonly provisioning: boolean;
  readonly client: Client;
  readonly remember?: boolean;
  readonly now?: Date;
}

export interface SsoSignInResult {
  readonly user: UserRow;
  readonly session: CreatedSession;
  readonly created: boolean;
  readonly rights: RightsChange;
}

const LOGIN_PATTERN = /^[A-Za-z0-9_.@+\-äöüÄÖÜß]{2,100}$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const MAX_GROUPS = 500;
const MAX_GROUP_NAME = 256;
const MAX_NAME = 200;

const systemActor = (provider: SsoProvider): Actor => ({ kind: 'system', name: `sso:${provider}` });

/** A refusal: audited in the scope, then thrown with a clear message; nothing else was written. */
export async function refuseSso(platform: Platform, scope: Scope, provider: string, ip: string | null, message: string, details: Record<string, unknown> = {}): Promise<never> {
  await recordAudit({ platform, scope, actor: { kind: 'system', name: `sso:${provider}` }, ip }, 'sso.refused', { after: { provider, reason: message, ...details } });
  throw new PluraError('sso_refused', message);
}

function cleanProfile(profile: SsoProfile): SsoProfile {
  const email = profile.email.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email) || email.length > 100) throw new PluraError('sso_refused', `The identity provider sent no valid email address ("${profile.email.slice(0, 100)}").`);
  if (profile.subject === '' || profile.subject.length > 500) throw new PluraError('sso_refused', 'The identity provider sent no usable subject.');
  if (profile.groups.length > MAX_GROUPS) throw new PluraError('sso_refused', `The identity provider sent more than ${MAX_GROUPS} groups.`);
  const groups = [...new Set(profile.groups.map((group) => group.trim()).filter((group) => group !== ''))];
  if (groups.some((group) => group.length > MAX_GROUP_NAME)) throw new PluraError('sso_refused', `A group name is longer than ${MAX_GROUP_NAME} characters.`);
  const name = (value: string | null | undefined): string | null => (value ? value.trim().slice(0, MAX_NAME) || null : null);
  return { ...profile, email, firstName: name(profile.firstName), lastName: name(profile.lastName), groups };
}

/** Every group the provider reports for a user: the last sign-in's and SCIM's. */
export async function providerGroupsOf(db: IdentityDb, userId: number): Promise<string[]> {
  const [signIn, scim] = await Promise.all([
    db.selectFrom('sso_user_group').select('group_name').where('user_id', '=', userId).execute(),
    db.selectFrom('scim_group_member').innerJoin('scim_group', 'scim_group.id', 'scim_group_member.group_id').select('scim_group.display_name').where('scim_group_member.user_id', '=', userId).execute(),
  ]);
  return [...new Set([...signIn.map((row) => row.group_name), ...scim.map((row) => row.display_name)])];
}

/**
 * The sites of a tenant scope that exist among `siteIds`, read through `db` (the
 * caller's transaction: SQLite has one connection). Site rights mean nothing at the platform level.
 */
function siteLookup(scope: Scope, db: IdentityDb): ((siteIds: readonly number[]) => Promise<ReadonlySet<number>>) | null {
  if (scope.kind !== 'tenant') return null;
  const sites = db as unknown as Kysely<SitesTables>;
  return async (siteIds) => {
    const rows = await sites.selectFrom('site').select('id').where('id', 'in', [...siteIds]).execute();
    return new Set(rows.map((row) => row.id));
  };
}

/**
 * Re-applies the scope's role mapping to one user from the groups the provider
 * reported; audits what changed. Runs inside `trx` when given.
 */
export async function refreshMappedRights(ctx: ActContext, db: IdentityDb, user: UserRow): Promise<RightsChange> {
  const mapping = parseRoleMapping(settingsFor(ctx.platform, ctx.scope).get('SSO.role_mapping'));
  const groups = await providerGroupsOf(db, user.id);
  const change = await applyMappedRights(db, user.id, mappedRightsFor(mapping, groups), {
    existingSites: siteLookup(ctx.scope, db),
    resolveGroups: (names) => groupIdsByName(ctx.platform, ctx.scope.kind === 'tenant' ? 'tenant' : 'internal', names),
  });
  if (change.granted.length > 0 || change.revoked.length > 0 || change.unknownGroups.length > 0) {
    await recordAudit(ctx, 'sso.rights_changed', { after: { login: user.login, groups, granted: change.granted, revoked: change.revoked, unknownGroups: change.unknownGroups } }, db);
  }
  return change;
}

async function findUser(db: IdentityDb, profile: SsoProfile): Promise<UserRow | undefined> {
  const linked = await db.selectFrom('sso_identity').select('user_id').where('provider', '=', profile.provider).where('subject', '=', profile.subject).executeTakeFirst();
  if (linked) return identityStore.findUserById(db, linked.user_id);
  const byEmail = await identityStore.findUsersByEmail(db, profile.email);
  if (byEmail.length === 1) return byEmail[0];
  if (byEmail.length > 1) throw new PluraError('sso_refused', `Several users have the email ${profile.email}; an administrator must resolve it.`);
  return profile.login ? identityStore.findUserByLogin(db, profile.login) : undefined;
}

/**
 * Completes a sign-in a provider vouched for: finds the user (linked identity, then
 * email, then login), creates it when provisioning is on, refuses deactivated users,
 * updates names and groups, refreshes the mapped rights and opens a session — one
 * transaction for the writes, so a refusal leaves nothing behind. Everything is audited.
 */
export async function signInWithSso(platform: Platform, scope: Scope, rawProfile: SsoProfile, options: SsoSignInOptions): Promise<SsoSignInResult> {
  const ip = options.client.ip;
  let profile: SsoProfile;
  try {
    profile = cleanProfile(rawProfile);
  } catch (error) {
    return refuseSso(platform, scope, rawProfile.provider, ip, error instanceof Error ? error.message : String(error));
  }
  const db = identityDbFor(platform, scope);
  const now = options.now ?? new Date();
  const system: ActContext = { platform, scope, actor: systemActor(profile.provider), ip };
  const existing = await findUser(db, profile).catch((error: unknown) => refuseSso(platform, scope, profile.provider, ip, error instanceof Error ? error.message : String(error)));
  if (existing?.deactivated_at) {
    await recordAudit(system, 'login.refused_deactivated', { after: { login: existing.login, provider: profile.provider } });
    throw new PluraError('user_deactivated', 'This user is deactivated; ask an administrator of your organisation.');
  }
  if (!existing && !options.provisioning) {
    return refuseSso(platform, scope, profile.provider, ip, `No user matches ${profile.email}, and this ${scope.kind === 'tenant' ? 'tenant' : 'platform'} does not create users on sign-in.`);
  }
  if (!existing) {
    if (scope.kind === 'tenant') {
      await assertTenantUsersAllowed(platform).catch((error: unknown) => refuseSso(platform, scope, profile.provider, ip, error instanceof Error ? error.message : String(error)));
    }
    const login = profile.login && LOGIN_PATTERN.test(profile.login) ? profile.login : profile.email;
    if (!LOGIN_PATTERN.test(login)) return refuseSso(platform, scope, profile.provider, ip, `Cannot derive a valid login from "${login}".`);
    if (await identityStore.findUserByLogin(db, login)) return refuseSso(platform, scope, profile.provider, ip, `The login "${login}" already belongs to another user.`);
    if (scope.kind === 'tenant' && scope.tenant.limits.maxUsers !== null && (await identityStore.countUsers(db)) >= scope.tenant.limits.maxUsers) {
      return refuseSso(platform, scope, profile.provider, ip, `Tenant "${scope.tenant.slug}" has reached its limit of ${scope.tenant.limits.maxUsers} users.`);
    }
  }

  const at = now.toISOString();
  const { user, created, rights } = await db.transaction().execute(async (trx) => {
    let row: UserRow;
    let wasCreated = false;
    if (existing) {
      row = await trx
        .updateTable('user')
        .set({ email: profile.email, first_name: profile.firstName ?? existing.first_name, last_name: profile.lastName ?? existing.last_name, last_seen_at: at, updated_at: at })
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    } else {
      const login = profile.login && LOGIN_PATTERN.test(profile.login) ? profile.login : profile.email;
      const alias = [profile.firstName, profile.lastName].filter(Boolean).join(' ') || null;
      row = await trx
        .insertInto('user')
        .values({ login, email: profile.email, alias, password_hash: null, first_name: profile.firstName ?? null, last_name: profile.lastName ?? null, password_changed_at: at, created_at: at, updated_at: at, last_seen_at: at })
        .returningAll()
        .executeTakeFirstOrThrow();
      wasCreated = true;
      await recordAudit(system, 'sso.user_provisioned', { after: { login, email: profile.email, provider: profile.provider } }, trx);
    }
    await trx
      .insertInto('sso_identity')
      .values({ provider: profile.provider, subject: profile.subject, user_id: row.id, created_at: at, last_sign_in_at: at })
      .onConflict((oc) => oc.columns(['provider', 'subject']).doUpdateSet({ user_id: row.id, last_sign_in_at: at }))
      .execute();
    await trx.deleteFrom('sso_user_group').where('user_id', '=', row.id).where('source', '=', 'sso').execute();
    if (profile.groups.length > 0) {
      await trx.insertInto('sso_user_group').values(profile.groups.map((group) => ({ user_id: row.id, group_name: group, source: 'sso' }))).execute();
    }
    const change = await refreshMappedRights(system, trx, row);
    const refreshed = (await identityStore.findUserById(trx, row.id)) ?? row;
    const ctx: ActContext = { platform, scope, actor: await actorForUser(scope, trx, refreshed), ip };
    await recordAudit(ctx, 'login.success', { after: { login: refreshed.login, provider: profile.provider, groups: profile.groups } }, trx);
    return { user: refreshed, created: wasCreated, rights: change };
  });

  const session = await createSession(
    db,
    platform.secret,
    { userId: user.id, remember: options.remember ?? false, mfaPending: false, ip, userAgent: options.client.userAgent, lifetimes: sessionLifetimes(settingsFor(platform, scope)) },
    now,
  );
  return { user, session, created, rights };
}

/** Force SSO: password sign-in only for the listed break-glass super users. */
export function assertPasswordSignInAllowed(platform: Platform, scope: Scope, login: string): void {
  const settings = settingsFor(platform, scope);
  if (!settings.get('SSO.force_sso')) return;
  if (settings.get('SSO.break_glass_users').includes(login)) return;
  throw new PluraError('sso_required', 'Password sign-in is turned off here: sign in with your organisation\'s single sign-on.');
}

/** Whether a break-glass login may keep its password sign-in (only super users may). */
export function isBreakGlassDenied(platform: Platform, scope: Scope, user: UserRow): boolean {
  const settings = settingsFor(platform, scope);
  return settings.get('SSO.force_sso') && user.superuser !== 1;
}

import type { Kysely } from 'kysely';
import { PluraError, describeError, isPluraError } from '../core/errors.js';
import { ANONYMOUS_LOGIN } from '../access/actors.js';
import { identityDbOf, identityStore, type IdentityDb, type UserRow } from '../access/identity.store.js';
import { actorLabel, decideUserMove, type Actor } from '../access/policy.js';
import { auditDbOf } from '../audit/audit.service.js';
import { appendAuditEntry } from '../audit/audit.store.js';
import type { Platform } from '../platform/platform.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { CollectionTable, WorkspaceItemTable } from '../workspace/workspace.tables.js';
import { suspensionsOf } from './suspension.js';
import type { Tenant } from './tenant.js';

/** One side of a move: the platform (registry) or one tenant's store. */
type Side = { readonly kind: 'platform'; readonly db: IdentityDb } | { readonly kind: 'tenant'; readonly tenant: Tenant; readonly store: TenantStore; readonly db: IdentityDb };

type CollectionDb = Kysely<{ collection: CollectionTable; workspace_item: WorkspaceItemTable }>;

export interface AssignUserInput {
  readonly login: string;
  /** The tenant the user belongs to now (slug or host), or null for a platform user. */
  readonly from: string | null;
  /** The tenant to assign it to, or null to make it a platform user. */
  readonly to: string | null;
}

export interface UserAssignment {
  readonly login: string;
  readonly from: string | null;
  readonly to: string | null;
  /** Group memberships left behind: a user never joins a group of the other kind. */
  readonly droppedGroups: readonly string[];
  /** Rights that exist only on the side the user left (platform_admin, super user, site roles). */
  readonly droppedRights: readonly string[];
  readonly endedSessions: number;
  readonly endedTokens: number;
  /** False when the user comes out deactivated (an admin had deactivated it). */
  readonly active: boolean;
}

const where = (side: Side): string => (side.kind === 'platform' ? 'on the platform' : `in tenant ${side.tenant.slug}`);
const slugOf = (side: Side): string | null => (side.kind === 'platform' ? null : side.tenant.slug);

/**
 * Moves an existing user between the platform and a tenant, keeping its login, email,
 * names, password hash and MFA. Everything that only means something on the side it
 * leaves stays behind: group memberships, platform_admin or super user, site roles, SSO
 * links, tokens and sessions (which therefore end). The move spans two databases, so it
 * writes the target first, verifies it, then deletes the source, and undoes the target
 * when anything after its write fails.
 */
export async function assignUser(platform: Platform, actor: Actor, input: AssignUserInput, ip: string | null = null): Promise<UserAssignment> {
  const { strategy } = await platform.registry.strategy();
  const from = input.from === null ? null : await activeTenant(platform, input.from, 'out of');
  const to = input.to === null ? null : await activeTenant(platform, input.to, 'into');
  const decision = decideUserMove(actor, { from: from?.slug ?? null, to: to?.slug ?? null, strategy });
  if (!decision.allowed) {
    if (decision.refusal === 'actor') throw new PluraError(actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `You may not move users: ${decision.reason}.`);
    throw new PluraError('invalid_input', `This move is refused: ${decision.reason}.`);
  }
  const registry: Side = { kind: 'platform', db: identityDbOf(platform.registry.db) };
  const withSide = <T>(tenant: Tenant | null, fn: (side: Side) => Promise<T>): Promise<T> =>
    tenant === null ? fn(registry) : platform.withStore(tenant, (store) => fn({ kind: 'tenant', tenant, store, db: identityDbOf(store.db) }));
  return withSide(from, (source) => withSide(to, (target) => move(platform, actor, ip, input.login, source, target)));
}

async function activeTenant(platform: Platform, slugOrHost: string, direction: string): Promise<Tenant> {
  const tenant = await platform.tenants.get(slugOrHost);
  if (tenant.status !== 'active') throw new PluraError('tenant_deactivated', `Tenant "${tenant.slug}" is deactivated; activate it before moving users ${direction} it.`);
  return tenant;
}

async function move(platform: Platform, actor: Actor, ip: string | null, login: string, source: Side, target: Side): Promise<UserAssignment> {
  const user = await identityStore.findUserByLogin(source.db, login);
  if (!user || user.login === ANONYMOUS_LOGIN) throw new PluraError('unknown_user', `User '${login}' doesn't exist ${where(source)}.`);
  await refuseLastAdmin(source, user);
  await refusePersonalContent(source, user);

  const groups = await source.db.selectFrom('group_member').select('group_id').where('user_id', '=', user.id).execute();
  const groupNames = groups.length === 0 ? [] : (await platform.registry.db.selectFrom('user_group').select('name').where('id', 'in', groups.map((g) => g.group_id)).orderBy('name').execute()).map((g) => g.name);
  const droppedRights = await rightsOf(source, user);
  // A tenant user deactivated only by its tenant or the strategy is active on the platform.
  const suspendedOnly = source.kind === 'tenant' && user.deactivated_at !== null && (await suspensionsOf(source.store.db, user.id)).length > 0;
  const deactivatedAt = suspendedOnly ? null : user.deactivated_at;

  if (await identityStore.findUserByLogin(target.db, user.login)) throw new PluraError('duplicate_user', `Username '${user.login}' already exists ${where(target)}.`);
  if ((await identityStore.findUsersByEmail(target.db, user.email)).length > 0) throw new PluraError('duplicate_user', `User with email '${user.email}' already exists ${where(target)}.`);
  await refuseOverLimit(target, 0);

  const details = { login: user.login, from: slugOf(source) ?? 'platform', to: slugOf(target) ?? 'platform', droppedGroups: groupNames, droppedRights };
  const audit = (db: IdentityDb, side: Side, action: string, after: unknown): Promise<unknown> =>
    appendAuditEntry(auditDbOf(db), { actor: actorLabel(actor), actorKind: actor.kind, tenant: slugOf(side), siteId: null, ip, action, before: undefined, after });

  // 1. The target, with everything that travels.
  const now = new Date().toISOString();
  const created = await target.db
    .transaction()
    .execute(async (trx) => {
      const row = await trx
        .insertInto('user')
        .values({
          login: user.login,
          email: user.email,
          alias: user.alias,
          password_hash: user.password_hash,
          superuser: 0,
          require_mfa: user.require_mfa,
          totp_secret: user.totp_secret,
          totp_enabled: user.totp_enabled,
          password_changed_at: user.password_changed_at,
          created_at: user.created_at,
          updated_at: now,
          last_seen_at: user.last_seen_at,
          deactivated_at: deactivatedAt,
          first_name: user.first_name,
          last_name: user.last_name,
          external_id: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const history = await source.db.selectFrom('password_history').select(['password_hash', 'created_at']).where('user_id', '=', user.id).orderBy('id').execute();
      if (history.length > 0) await trx.insertInto('password_history').values(history.map((h) => ({ user_id: row.id, ...h }))).execute();
      const codes = await source.db.selectFrom('mfa_recovery_code').select(['code_hash', 'used_at']).where('user_id', '=', user.id).orderBy('id').execute();
      if (codes.length > 0) await trx.insertInto('mfa_recovery_code').values(codes.map((c) => ({ user_id: row.id, ...c }))).execute();
      // Used TOTP steps travel too, so a code seen on one side cannot be replayed on the other.
      const steps = await source.db.selectFrom('mfa_used_step').select(['step', 'used_at']).where('user_id', '=', user.id).execute();
      if (steps.length > 0) await trx.insertInto('mfa_used_step').values(steps.map((s) => ({ user_id: row.id, ...s }))).execute();
      await audit(trx, target, 'user.moved_in', details);
      return row;
    })
    .catch((error: unknown) => {
      // Nothing was written (one transaction): say so, whatever failed underneath.
      if (isPluraError(error)) throw error;
      throw new PluraError('storage_unavailable', `Copying '${user.login}' ${where(target)} failed; nothing was moved: ${describeError(error)}.`, { cause: error });
    });

  const undo = async (why: unknown): Promise<never> => {
    await target.db
      .transaction()
      .execute(async (trx) => {
        await (trx as unknown as CollectionDb).deleteFrom('collection').where('kind', '=', 'personal').where('owner_user_id', '=', created.id).execute();
        await trx.deleteFrom('user').where('id', '=', created.id).execute();
        await audit(trx, target, 'user.move_undone', { login: user.login, reason: describeError(why) });
      })
      .catch(() => undefined);
    if (isPluraError(why)) throw why;
    throw new PluraError('storage_unavailable', `Moving '${user.login}' failed, and its copy ${where(target)} was removed again: ${describeError(why)}.`, { cause: why });
  };

  try {
    // 2. Verify what was written: the same identity, no right and no group on the new side, the limit kept.
    const written = await identityStore.findUserById(target.db, created.id);
    const siteRights = await target.db.selectFrom('site_access').select('site_id').where('user_id', '=', created.id).execute();
    const memberships = await target.db.selectFrom('group_member').select('group_id').where('user_id', '=', created.id).execute();
    const sameEmail = await identityStore.findUsersByEmail(target.db, user.email);
    if (!written || written.login !== user.login || written.password_hash !== user.password_hash || written.totp_secret !== user.totp_secret || written.superuser !== 0 || siteRights.length > 0 || memberships.length > 0 || sameEmail.length !== 1) {
      throw new PluraError('storage_failed', `The copy of '${user.login}' ${where(target)} did not read back as written; nothing was moved.`);
    }
    await refuseOverLimit(target, 1);

    // 3. The source goes, with everything that only meant something there.
    return await source.db.transaction().execute(async (trx) => {
      await refuseLastAdmin({ ...source, db: trx }, user);
      await refusePersonalContent({ ...source, db: trx }, user);
      const sessions = await trx.selectFrom('session').select('id').where('user_id', '=', user.id).execute();
      const tokens = await trx.selectFrom('auth_token').select('id').where('user_id', '=', user.id).execute();
      await (trx as unknown as CollectionDb).deleteFrom('collection').where('kind', '=', 'personal').where('owner_user_id', '=', user.id).execute();
      await trx.deleteFrom('user').where('id', '=', user.id).execute();
      await audit(trx, source, 'user.moved_out', { ...details, endedSessions: sessions.length, endedTokens: tokens.length });
      return { login: user.login, from: slugOf(source), to: slugOf(target), droppedGroups: groupNames, droppedRights, endedSessions: sessions.length, endedTokens: tokens.length, active: deactivatedAt === null };
    });
  } catch (error) {
    return undo(error);
  }
}

/** The last active platform admin, or a tenant's last active super user, stays where it is. */
async function refuseLastAdmin(side: Side, user: UserRow): Promise<void> {
  if (user.superuser !== 1 || user.deactivated_at !== null) return;
  if ((await identityStore.countOtherActiveSuperusers(side.db, user.id)) > 0) return;
  throw new PluraError('forbidden', side.kind === 'platform' ? `The user '${user.login}' is the last active platform admin; it cannot leave the platform.` : `The user '${user.login}' is the last active super user of tenant ${side.tenant.slug}; it cannot leave it.`);
}

/** Personal dashboards and reports never cross between the platform and a tenant; the user moves them first. */
async function refusePersonalContent(side: Side, user: UserRow): Promise<void> {
  const db = side.db as unknown as CollectionDb;
  const row = await db
    .selectFrom('workspace_item')
    .innerJoin('collection', 'collection.id', 'workspace_item.collection_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('collection.kind', '=', 'personal')
    .where('collection.owner_user_id', '=', user.id)
    .executeTakeFirstOrThrow();
  const count = Number(row.n);
  if (count > 0) {
    throw new PluraError('invalid_input', `The personal collection of '${user.login}' ${where(side)} holds ${count} dashboard(s) or saved report(s); move them to another collection there or delete them first: personal content never crosses between the platform and a tenant.`);
  }
}

async function refuseOverLimit(side: Side, allowance: number): Promise<void> {
  if (side.kind !== 'tenant' || side.tenant.limits.maxUsers === null) return;
  const limit = side.tenant.limits.maxUsers;
  // The same count createUser uses; `allowance` is the user just written.
  if ((await identityStore.countUsers(side.db)) - allowance >= limit) {
    throw new PluraError('limit_reached', `Tenant "${side.tenant.slug}" has reached its limit of ${limit} users.`);
  }
}

async function rightsOf(side: Side, user: UserRow): Promise<string[]> {
  if (side.kind === 'platform') return user.superuser === 1 ? ['platform_admin'] : [];
  const rights = user.superuser === 1 ? ['superuser'] : [];
  const grants = await identityStore.grantsOf(side.db, user.id);
  for (const [siteId, grant] of [...grants.entries()].sort(([a], [b]) => a - b)) {
    rights.push(`${grant.role} on site ${siteId}`, ...[...grant.capabilities].map((capability) => `${capability} on site ${siteId}`));
  }
  return rights;
}

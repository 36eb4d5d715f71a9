import type { Kysely, Transaction } from 'kysely';
import { ANONYMOUS_LOGIN } from '../access/actors.js';
import type { TenantDatabase } from '../storage/tenant-database.js';

/**
 * Why users of a tenant are deactivated wholesale: their tenant is deactivated, or the
 * platform runs single-tenant. Each reason is recorded per user (`user_suspension`), so
 * lifting it reactivates exactly the users it deactivated and no one an admin had
 * deactivated by hand.
 */
export type SuspensionReason = 'tenant' | 'strategy';

export interface SuspensionOutcome {
  /** Users that were active and are deactivated now (their sessions ended). */
  readonly deactivated: readonly string[];
  /** Users already held by another reason, now held by this one too. */
  readonly alsoHeld: readonly string[];
}

export interface ReleaseOutcome {
  /** Users active again (their tokens work again). */
  readonly reactivated: readonly string[];
  /** Every user still deactivated afterwards: by an admin, or by another reason. */
  readonly stillDeactivated: readonly string[];
}

type TenantDb = Kysely<TenantDatabase>;

/** Chunks keep `in (...)` lists far below both engines' parameter limits. */
function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Deactivates every user of the store for `reason`, in one transaction: users active now,
 * and users deactivated only by other reasons (so each reason can be lifted on its own).
 * Users an admin deactivated are left alone, and stay deactivated when the reason is
 * lifted. Sessions end at once; tokens are refused while the user is deactivated.
 */
export async function suspendUsers(db: TenantDb, reason: SuspensionReason, now = new Date().toISOString(), within?: (trx: Transaction<TenantDatabase>, outcome: SuspensionOutcome) => Promise<void>): Promise<SuspensionOutcome> {
  return db.transaction().execute(async (trx) => {
    const candidates = await trx
      .selectFrom('user')
      .select(['user.id', 'user.login', 'user.deactivated_at'])
      .where('user.login', '!=', ANONYMOUS_LOGIN)
      .where((eb) => eb.or([eb('user.deactivated_at', 'is', null), eb.exists(eb.selectFrom('user_suspension').select('user_suspension.user_id').whereRef('user_suspension.user_id', '=', 'user.id'))]))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('user_suspension').select('user_suspension.user_id').whereRef('user_suspension.user_id', '=', 'user.id').where('user_suspension.reason', '=', reason))))
      .orderBy('user.login')
      .execute();
    const active = candidates.filter((row) => row.deactivated_at === null);
    for (const part of chunks(candidates)) {
      await trx.insertInto('user_suspension').values(part.map((row) => ({ user_id: row.id, reason, suspended_at: now }))).execute();
    }
    for (const part of chunks(active.map((row) => row.id))) {
      await trx.updateTable('user').set({ deactivated_at: now }).where('id', 'in', part).where('deactivated_at', 'is', null).execute();
      await trx.deleteFrom('session').where('user_id', 'in', part).execute();
    }
    const outcome = { deactivated: active.map((row) => row.login), alsoHeld: candidates.filter((row) => row.deactivated_at !== null).map((row) => row.login) };
    if (within) await within(trx, outcome);
    return outcome;
  });
}

/** Lifts `reason`: users no other reason holds are active again, exactly as before. */
export async function releaseUsers(db: TenantDb, reason: SuspensionReason, within?: (trx: Transaction<TenantDatabase>, outcome: ReleaseOutcome) => Promise<void>): Promise<ReleaseOutcome> {
  return db.transaction().execute(async (trx) => {
    const held = await trx
      .selectFrom('user_suspension')
      .innerJoin('user', 'user.id', 'user_suspension.user_id')
      .select(['user.id', 'user.login'])
      .where('user_suspension.reason', '=', reason)
      .orderBy('user.login')
      .execute();
    await trx.deleteFrom('user_suspension').where('reason', '=', reason).execute();
    const ids = held.map((row) => row.id);
    const stillHeldIds = new Set<number>();
    for (const part of chunks(ids)) {
      for (const row of await trx.selectFrom('user_suspension').select('user_id').where('user_id', 'in', part).execute()) stillHeldIds.add(row.user_id);
    }
    const free = held.filter((row) => !stillHeldIds.has(row.id));
    for (const part of chunks(free.map((row) => row.id))) {
      await trx.updateTable('user').set({ deactivated_at: null }).where('id', 'in', part).execute();
    }
    const still = await trx.selectFrom('user').select('login').where('deactivated_at', 'is not', null).where('login', '!=', ANONYMOUS_LOGIN).orderBy('login').execute();
    const outcome = { reactivated: free.map((row) => row.login), stillDeactivated: still.map((row) => row.login) };
    if (within) await within(trx, outcome);
    return outcome;
  });
}

/** The reasons holding one user (empty: active, or deactivated by an admin). */
export async function suspensionsOf(db: TenantDb, userId: number): Promise<SuspensionReason[]> {
  const rows = await db.selectFrom('user_suspension').select('reason').where('user_id', '=', userId).orderBy('reason').execute();
  return rows.map((row) => row.reason).filter((reason): reason is SuspensionReason => reason === 'tenant' || reason === 'strategy');
}

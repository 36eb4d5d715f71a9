import { PluraError } from '../core/errors.js';
import type { SettingsView } from '../settings/settings.js';
import type { IdentityDb } from './identity.store.js';
import { checkToken, type TokenCheck } from './tokens.js';

export interface BruteForceRule {
  readonly maxRetries: number;
  readonly windowMinutes: number;
}

export function bruteForceRule(settings: SettingsView): BruteForceRule {
  return { maxRetries: settings.get('Security.brute_force_max_retries'), windowMinutes: settings.get('Security.brute_force_window_minutes') };
}

async function failuresSince(db: IdentityDb, ip: string, rule: BruteForceRule, now: Date): Promise<{ count: number; oldest: string | null }> {
  const windowStart = new Date(now.getTime() - rule.windowMinutes * 60_000).toISOString();
  const unblock = await db.selectFrom('ip_unblock').select('unblocked_at').where('ip', '=', ip).executeTakeFirst();
  const since = unblock && unblock.unblocked_at > windowStart ? unblock.unblocked_at : windowStart;
  const row = await db
    .selectFrom('login_failure')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('attempted_at').as('oldest')])
    .where('ip', '=', ip)
    .where('attempted_at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: row.oldest ?? null };
}

/**
 * Refuses an IP that failed too often within the window (per scope: one tenant's
 * blocks never touch another). The block lifts as old failures age out.
 */
export async function assertIpNotBlocked(db: IdentityDb, ip: string | null, rule: BruteForceRule, now = new Date()): Promise<void> {
  if (ip === null) return;
  const { count, oldest } = await failuresSince(db, ip, rule, now);
  if (count >= rule.maxRetries) {
    const until = oldest ? new Date(Date.parse(oldest) + rule.windowMinutes * 60_000) : now;
    const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
    throw new PluraError(
      'ip_blocked',
      `Too many failed sign-ins from your IP address (${ip}). It is blocked for about ${minutes} more minute(s); an administrator can lift the block.`,
    );
  }
}

export async function recordLoginFailure(db: IdentityDb, ip: string | null, login: string | null, now = new Date()): Promise<void> {
  await db.insertInto('login_failure').values({ ip: ip ?? 'unknown', login: login?.slice(0, 200) ?? null, attempted_at: now.toISOString() }).execute();
  // Matomo keeps a week of attempts; older rows serve no decision.
  const cutoff = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  await db.deleteFrom('login_failure').where('attempted_at', '<', cutoff).execute();
}

export interface BlockedIp {
  readonly ip: string;
  readonly failures: number;
  readonly lastAttemptAt: string;
}

/** IPs currently blocked in this scope. */
export async function listBlockedIps(db: IdentityDb, rule: BruteForceRule, now = new Date()): Promise<BlockedIp[]> {
  const windowStart = new Date(now.getTime() - rule.windowMinutes * 60_000).toISOString();
  const rows = await db
    .selectFrom('login_failure')
    .leftJoin('ip_unblock', 'ip_unblock.ip', 'login_failure.ip')
    .select((eb) => ['login_failure.ip', eb.fn.countAll<number>().as('n'), eb.fn.max('login_failure.attempted_at').as('last')])
    .where('login_failure.attempted_at', '>', windowStart)
    .where((eb) => eb.or([eb('ip_unblock.unblocked_at', 'is', null), eb('login_failure.attempted_at', '>', eb.ref('ip_unblock.unblocked_at'))]))
    .groupBy('login_failure.ip')
    .execute();
  return rows
    .filter((row) => Number(row.n) >= rule.maxRetries)
    .map((row) => ({ ip: row.ip, failures: Number(row.n), lastAttemptAt: String(row.last) }));
}

/** Lifts a block: failures before now stop counting for this IP. */
export async function unblockIp(db: IdentityDb, ip: string, now = new Date()): Promise<void> {
  const at = now.toISOString();
  await db
    .insertInto('ip_unblock')
    .values({ ip, unblocked_at: at })
    .onConflict((oc) => oc.column('ip').doUpdateSet({ unblocked_at: at }))
    .execute();
}

/**
 * Checks a token presented from `ip` as Matomo does: a blocked IP is refused
 * before the token is looked at, and a token that is not valid counts as a failed
 * attempt (API and tracking requests alike), so tokens cannot be guessed freely.
 */
export async function checkTokenFromIp(db: IdentityDb, settings: SettingsView, secret: string, token: string, secure: boolean, ip: string | null): Promise<TokenCheck> {
  const rule = bruteForceRule(settings);
  await assertIpNotBlocked(db, ip, rule);
  const check = await checkToken(db, secret, token, secure);
  if (!check.ok) await recordLoginFailure(db, ip, null);
  return check;
}

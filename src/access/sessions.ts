import { randomBytes } from 'node:crypto';
import type { SettingsView } from '../settings/settings.js';
import type { IdentityDb, UserRow } from './identity.store.js';
import { hashSecretValue } from './tokens.js';

export const SESSION_COOKIE = 'plura_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionLifetimes {
  readonly idleSeconds: number;
  readonly absoluteSeconds: number;
  readonly rememberSeconds: number;
}

export function sessionLifetimes(settings: SettingsView): SessionLifetimes {
  return {
    idleSeconds: settings.get('General.login_session_not_remembered_idle_timeout'),
    absoluteSeconds: settings.get('General.login_session_absolute_lifetime'),
    rememberSeconds: settings.get('General.login_cookie_expire'),
  };
}

export interface CreatedSession {
  /** The cookie value; only its hash is stored. */
  readonly cookie: string;
  readonly csrfToken: string;
  readonly expiresAt: string;
  readonly maxAgeSeconds: number | undefined;
}

export async function createSession(
  db: IdentityDb,
  secret: string,
  input: { userId: number; remember: boolean; mfaPending: boolean; ip: string | null; userAgent: string | null; lifetimes: SessionLifetimes },
  now = new Date(),
): Promise<CreatedSession> {
  const cookie = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const lifetime = input.remember ? input.lifetimes.rememberSeconds : input.lifetimes.absoluteSeconds;
  const expiresAt = new Date(now.getTime() + lifetime * 1000).toISOString();
  await db
    .insertInto('session')
    .values({
      id: hashSecretValue(secret, cookie),
      user_id: input.userId,
      csrf_token: csrfToken,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: expiresAt,
      remember: input.remember ? 1 : 0,
      mfa_pending: input.mfaPending ? 1 : 0,
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
    })
    .execute();
  // A remembered session is a persistent cookie; otherwise it ends with the browser.
  return { cookie, csrfToken, expiresAt, maxAgeSeconds: input.remember ? lifetime : undefined };
}

export type SessionCheck =
  | { readonly ok: true; readonly user: UserRow; readonly sessionId: string; readonly csrfToken: string; readonly mfaPending: boolean }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' };

/** Resolves a session cookie: unknown, expired (absolute or idle), or the user as it is now. */
export async function checkSession(db: IdentityDb, secret: string, cookie: string, lifetimes: SessionLifetimes, now = new Date()): Promise<SessionCheck> {
  const id = hashSecretValue(secret, cookie);
  const row = await db
    .selectFrom('session')
    .innerJoin('user', 'user.id', 'session.user_id')
    .select(['session.id as session_id', 'session.csrf_token', 'session.expires_at', 'session.last_seen_at as session_last_seen_at', 'session.remember', 'session.mfa_pending', 'session.created_at as session_created_at'])
    .selectAll('user')
    .where('session.id', '=', id)
    .executeTakeFirst();
  if (!row) return { ok: false, reason: 'unknown' };
  const nowMs = now.getTime();
  const idleExpired = row.remember === 0 && nowMs - Date.parse(row.session_last_seen_at) > lifetimes.idleSeconds * 1000;
  // Matomo: sessions begun before the last password change are void.
  const beforePasswordChange = Date.parse(row.session_created_at) < Date.parse(row.password_changed_at);
  // A deactivated user's sessions end on its next request.
  if (Date.parse(row.expires_at) <= nowMs || idleExpired || beforePasswordChange || row.deactivated_at !== null) {
    await db.deleteFrom('session').where('id', '=', id).execute();
    return { ok: false, reason: 'expired' };
  }
  // Touch at most once a minute: idle timeouts need no finer grain, and reads stay cheap.
  if (nowMs - Date.parse(row.session_last_seen_at) > 60_000) {
    await db.updateTable('session').set({ last_seen_at: now.toISOString() }).where('id', '=', id).execute();
  }
  const { session_id: sessionId, csrf_token: csrfToken, expires_at: _e, session_last_seen_at: _l, remember: _r, mfa_pending: mfaPending, session_created_at: _c, ...user } = row;
  return { ok: true, user, sessionId, csrfToken, mfaPending: mfaPending === 1 };
}

export function sessionIdOf(secret: string, cookie: string): string {
  return hashSecretValue(secret, cookie);
}

export async function deleteSession(db: IdentityDb, sessionId: string): Promise<void> {
  await db.deleteFrom('session').where('id', '=', sessionId).execute();
}

/** Ends every session of a user, optionally keeping one (the caller's own). */
export async function deleteUserSessions(db: IdentityDb, userId: number, keepSessionId?: string): Promise<number> {
  let query = db.deleteFrom('session').where('user_id', '=', userId);
  if (keepSessionId) query = query.where('id', '!=', keepSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function completeMfa(db: IdentityDb, sessionId: string): Promise<void> {
  await db.updateTable('session').set({ mfa_pending: 0 }).where('id', '=', sessionId).execute();
}

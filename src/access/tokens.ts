import { createHmac, randomBytes } from 'node:crypto';
import { PluraError } from '../core/errors.js';
import type { IdentityDb, UserRow } from './identity.store.js';

/** Matomo: token_auth is 32 lowercase hex characters. */
export const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

export function generateTokenAuth(): string {
  return randomBytes(16).toString('hex');
}

/** Tokens are stored only as a keyed hash: a leaked database yields no usable token. */
export function hashSecretValue(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}

export interface TokenInfo {
  readonly id: number;
  readonly description: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  readonly postOnly: boolean;
}

export interface NewToken {
  readonly description: string;
  readonly expiresAt?: string | null;
  readonly postOnly?: boolean;
}

export async function createToken(db: IdentityDb, secret: string, userId: number, input: NewToken, now = new Date()): Promise<{ token: string; info: TokenInfo }> {
  const description = input.description.trim();
  if (description.length < 1 || description.length > 100) {
    throw new PluraError('invalid_input', 'A token needs a description of 1 to 100 characters.');
  }
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && !(Date.parse(expiresAt) > now.getTime())) {
    throw new PluraError('invalid_input', `The token expiry "${expiresAt}" must be a date in the future.`);
  }
  const token = generateTokenAuth();
  const createdAt = now.toISOString();
  const row = await db
    .insertInto('auth_token')
    .values({
      user_id: userId,
      token_hash: hashSecretValue(secret, token),
      description,
      created_at: createdAt,
      expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      post_only: input.postOnly ? 1 : 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return {
    token,
    info: { id: row.id, description, createdAt, lastUsedAt: null, expiresAt, postOnly: Boolean(input.postOnly) },
  };
}

export async function listTokens(db: IdentityDb, userId: number): Promise<TokenInfo[]> {
  const rows = await db.selectFrom('auth_token').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((row) => ({
    id: row.id,
    description: row.description,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    postOnly: row.post_only === 1,
  }));
}

export async function deleteToken(db: IdentityDb, userId: number, tokenId: number): Promise<boolean> {
  const result = await db.deleteFrom('auth_token').where('user_id', '=', userId).where('id', '=', tokenId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function deleteAllTokens(db: IdentityDb, userId: number): Promise<number> {
  const result = await db.deleteFrom('auth_token').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export type TokenCheck =
  | { readonly ok: true; readonly user: UserRow; readonly tokenId: number; readonly firstUse: boolean }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'expired' | 'post_only' };

/**
 * Looks a token up by its hash and returns its user as the user is *now*, so a
 * lowered role or a deleted user takes effect on the very next call.
 * `secure` is Matomo's rule: the token came in the POST body and not in the query.
 */
export async function checkToken(db: IdentityDb, secret: string, token: string, secure: boolean, now = new Date()): Promise<TokenCheck> {
  if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
  const row = await db
    .selectFrom('auth_token')
    .innerJoin('user', 'user.id', 'auth_token.user_id')
    .select(['auth_token.id as token_id', 'auth_token.expires_at', 'auth_token.post_only', 'auth_token.last_used_at'])
    .selectAll('user')
    .where('auth_token.token_hash', '=', hashSecretValue(secret, token))
    .executeTakeFirst();
  if (!row || row.deactivated_at !== null) return { ok: false, reason: 'unknown' };
  if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) return { ok: false, reason: 'expired' };
  if (row.post_only === 1 && !secure) return { ok: false, reason: 'post_only' };
  const firstUse = row.last_used_at === null;
  // Matomo: last use is written at most every 10 minutes, to keep token checks cheap.
  if (firstUse || now.getTime() - Date.parse(row.last_used_at ?? '') > 10 * 60_000) {
    await db.updateTable('auth_token').set({ last_used_at: now.toISOString() }).where('id', '=', row.token_id).execute();
  }
  const { token_id: tokenId, expires_at: _expires, post_only: _postOnly, last_used_at: _lastUsed, ...user } = row;
  return { ok: true, user, tokenId, firstUse };
}

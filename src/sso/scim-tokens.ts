import { randomBytes } from 'node:crypto';
import { PluraError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { identityDbFor, type ActContext, type Scope } from '../access/context.js';
import type { IdentityDb } from '../access/identity.store.js';
import { hashSecretValue } from '../access/tokens.js';
import { authorize, scopeContext } from '../access/users.service.js';
import type { Platform } from '../platform/platform.js';

/**
 * Bearer tokens of a tenant's SCIM endpoint. They belong to the tenant (not to a
 * user): the identity provider holds one, and only its keyed hash is stored, in the
 * tenant's own store, so a token of one tenant means nothing at another's host.
 */
export interface ScimTokenInfo {
  readonly id: number;
  readonly description: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

/** Longer than any token we issue, so hashing an oversized header costs nothing. */
const MAX_TOKEN_LENGTH = 200;
const TOKEN_PREFIX = 'scim_';

/** SCIM tokens exist per tenant, and only super users (or the operator) manage them. */
function authorizeTokenAdmin(ctx: ActContext, what: string): IdentityDb {
  if (ctx.scope.kind !== 'tenant') throw new PluraError('invalid_input', 'SCIM tokens belong to a tenant: use a tenant host (or name the tenant).');
  authorize(ctx, 'manage_tenant', scopeContext(ctx.scope), what);
  return identityDbFor(ctx.platform, ctx.scope);
}

export async function createScimToken(ctx: ActContext, rawDescription: string | undefined, now = new Date()): Promise<{ token: string; info: ScimTokenInfo }> {
  const db = authorizeTokenAdmin(ctx, 'create SCIM tokens');
  const description = (rawDescription ?? 'SCIM').trim();
  if (description.length < 1 || description.length > 100) throw new PluraError('invalid_input', 'A SCIM token needs a description of 1 to 100 characters.');
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const createdAt = now.toISOString();
  const info = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('scim_token')
      .values({ token_hash: hashSecretValue(ctx.platform.secret, token), description, created_at: createdAt, last_used_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(ctx, 'scim.token_created', { after: { tokenId: row.id, description } }, trx);
    return { id: row.id, description, createdAt, lastUsedAt: null };
  });
  return { token, info };
}

export async function listScimTokens(ctx: ActContext): Promise<ScimTokenInfo[]> {
  const db = authorizeTokenAdmin(ctx, 'list SCIM tokens');
  const rows = await db.selectFrom('scim_token').select(['id', 'description', 'created_at', 'last_used_at']).orderBy('id').execute();
  return rows.map((row) => ({ id: row.id, description: row.description, createdAt: row.created_at, lastUsedAt: row.last_used_at }));
}

export async function revokeScimToken(ctx: ActContext, id: number): Promise<void> {
  const db = authorizeTokenAdmin(ctx, 'revoke SCIM tokens');
  await db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('scim_token').where('id', '=', id).returning(['id', 'description']).executeTakeFirst();
    if (!row) throw new PluraError('not_found', `There is no SCIM token ${id} in this tenant.`);
    await recordAudit(ctx, 'scim.token_revoked', { after: { tokenId: row.id, description: row.description } }, trx);
  });
}

/**
 * The id of the scope's SCIM token `token`, or null. Last use is written at most once
 * a minute, so a provisioning burst does not turn every request into a write.
 */
export async function findScimToken(platform: Platform, scope: Scope, token: string, now = new Date()): Promise<number | null> {
  if (scope.kind !== 'tenant' || token.length < TOKEN_PREFIX.length || token.length > MAX_TOKEN_LENGTH) return null;
  const db = identityDbFor(platform, scope);
  const row = await db.selectFrom('scim_token').select(['id', 'last_used_at']).where('token_hash', '=', hashSecretValue(platform.secret, token)).executeTakeFirst();
  if (!row) return null;
  if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await db.updateTable('scim_token').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return row.id;
}

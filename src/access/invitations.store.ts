import type { Selectable } from 'kysely';
import type { IdentityDb, UserRow } from './identity.store.js';
import type { UserInvitationTable } from './identity.tables.js';

export type InvitationRow = Selectable<UserInvitationTable>;

/** The only SQL of invitations. Every function takes its database (a tenant store or the registry). */
export const invitationStore = {
  /** Stores a new invitation and voids the user's pending ones (a newer link replaces an older one). */
  async replacePending(db: IdentityDb, row: InvitationRow): Promise<number> {
    const voided = await db.deleteFrom('user_invitation').where('user_id', '=', row.user_id).where('used_at', 'is', null).executeTakeFirst();
    await db.insertInto('user_invitation').values(row).execute();
    return Number(voided.numDeletedRows);
  },

  /** The invitation with this token hash and its user as the user is now; undefined once the user is gone. */
  async findWithUser(db: IdentityDb, tokenHash: string): Promise<{ invitation: InvitationRow; user: UserRow } | undefined> {
    const row = await db
      .selectFrom('user_invitation')
      .innerJoin('user', 'user.id', 'user_invitation.user_id')
      .select([
        'user_invitation.token_hash as invitation_token_hash',
        'user_invitation.created_at as invitation_created_at',
        'user_invitation.expires_at as invitation_expires_at',
        'user_invitation.used_at as invitation_used_at',
        'user_invitation.invited_by as invitation_invited_by',
      ])
      .selectAll('user')
      .where('user_invitation.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const {
      invitation_token_hash: tokenHashOut,
      invitation_created_at: createdAt,
      invitation_expires_at: expiresAt,
      invitation_used_at: usedAt,
      invitation_invited_by: invitedBy,
      ...user
    } = row;
    return { invitation: { token_hash: tokenHashOut, user_id: user.id, created_at: createdAt, expires_at: expiresAt, used_at: usedAt, invited_by: invitedBy }, user };
  },

  /**
   * Claims an invitation for use: true for exactly one caller, and only while it is
   * unused and unexpired. The conditional update is the lock, so two requests racing
   * with the same link cannot both pass (SQLite serialises writers; PostgreSQL
   * re-checks the condition after the first writer commits).
   */
  async claim(db: IdentityDb, tokenHash: string, now: string): Promise<boolean> {
    const result = await db
      .updateTable('user_invitation')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Sets the first password of a user who still has none and is active; false when either changed meanwhile. */
  async setFirstPassword(db: IdentityDb, userId: number, hash: string, now: string): Promise<boolean> {
    const result = await db
      .updateTable('user')
      .set({ password_hash: hash, password_changed_at: now, updated_at: now })
      .where('id', '=', userId)
      .where('password_hash', 'is', null)
      .where('deactivated_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await db.insertInto('password_history').values({ user_id: userId, password_hash: hash, created_at: now }).execute();
    // Any other link for the same user is moot now.
    await db.deleteFrom('user_invitation').where('user_id', '=', userId).where('used_at', 'is', null).execute();
    return true;
  },
};

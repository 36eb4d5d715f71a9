import type { IdentityDb, UserRow } from './identity.store.js';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { generateTotpSecret, totpUri, verifyTotp } from './totp.js';

export interface MfaEnrollment {
  readonly secret: string;
  readonly uri: string;
  readonly recoveryCodes: readonly string[];
}

/** Starts (or restarts) TOTP enrolment: a new secret and new recovery codes; active once a code confirms it. */
export async function beginMfaEnrollment(db: IdentityDb, user: UserRow, issuer: string): Promise<MfaEnrollment> {
  const secret = generateTotpSecret();
  const recoveryCodes = generateRecoveryCodes(10);
  await db.updateTable('user').set({ totp_secret: secret, totp_enabled: 0 }).where('id', '=', user.id).execute();
  await db.deleteFrom('mfa_recovery_code').where('user_id', '=', user.id).execute();
  await db
    .insertInto('mfa_recovery_code')
    .values(recoveryCodes.map((code) => ({ user_id: user.id, code_hash: hashRecoveryCode(code), used_at: null })))
    .execute();
  return { secret, uri: totpUri({ secret, issuer, account: user.login }), recoveryCodes };
}

/**
 * Checks a second factor: a 6-digit TOTP code (each time step usable once) or an
 * unused recovery code (spent on use). Works for enrolment too (secret not yet enabled).
 */
export async function verifySecondFactor(db: IdentityDb, user: UserRow, code: string, now = new Date()): Promise<'totp' | 'recovery' | null> {
  const trimmed = code.trim();
  if (user.totp_secret === null) return null;
  if (/^\d{6}$/.test(trimmed)) {
    const step = verifyTotp(user.totp_secret, trimmed, now.getTime());
    if (step === null) return null;
    const inserted = await db
      .insertInto('mfa_used_step')
      .values({ user_id: user.id, step, used_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['user_id', 'step']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return null; // replayed code
    const cutoff = new Date(now.getTime() - 10 * 60_000).toISOString();
    await db.deleteFrom('mfa_used_step').where('user_id', '=', user.id).where('used_at', '<', cutoff).execute();
    return 'totp';
  }
  if (user.totp_enabled !== 1) return null; // recovery codes do not confirm an enrolment
  const hash = hashRecoveryCode(normalizeRecoveryCode(trimmed));
  const result = await db
    .updateTable('mfa_recovery_code')
    .set({ used_at: now.toISOString() })
    .where('user_id', '=', user.id)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? 'recovery' : null;
}

export async function enableMfa(db: IdentityDb, userId: number): Promise<void> {
  await db.updateTable('user').set({ totp_enabled: 1 }).where('id', '=', userId).execute();
}

export async function resetMfa(db: IdentityDb, userId: number): Promise<void> {
  await db.updateTable('user').set({ totp_enabled: 0, totp_secret: null }).where('id', '=', userId).execute();
  await db.deleteFrom('mfa_recovery_code').where('user_id', '=', userId).execute();
  await db.deleteFrom('mfa_used_step').where('user_id', '=', userId).execute();
}

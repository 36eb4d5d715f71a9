import { PluraError } from '../core/errors.js';
import { verifyPassword } from './passwords.js';

export interface PasswordPolicy {
  readonly minLength: number;
  readonly requireComplexity: boolean;
  /** A new password may not repeat this many previous ones (0: no history). */
  readonly historyCount: number;
  /** 0: passwords never expire. */
  readonly expiryDays: number;
}

/** Matomo's own limits, which apply whatever the tenant's policy says. */
export const MATOMO_PASSWORD_MIN = 6;
export const MATOMO_PASSWORD_MAX = 200;

/** Every problem with a candidate password, as sentences; empty when it is acceptable. */
export function checkPasswordStrength(password: string, policy: PasswordPolicy, context: { login: string; email?: string }): string[] {
  const problems: string[] = [];
  const minimum = Math.max(MATOMO_PASSWORD_MIN, policy.minLength);
  if (password.length < minimum) problems.push(`The password must be at least ${minimum} characters long.`);
  if (password.length > MATOMO_PASSWORD_MAX) problems.push(`The password must be at most ${MATOMO_PASSWORD_MAX} characters long.`);
  if (new Set(password).size < 2) problems.push('The password must contain at least two different characters.');
  if (policy.requireComplexity) {
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(password)).length;
    if (classes < 3) problems.push('The password must mix at least three of: lower case, upper case, digits, symbols.');
  }
  const lower = password.toLowerCase();
  if (context.login.length >= 3 && lower.includes(context.login.toLowerCase())) problems.push('The password must not contain the login.');
  const mailbox = context.email?.split('@')[0]?.toLowerCase();
  if (mailbox && mailbox.length >= 3 && lower.includes(mailbox)) problems.push('The password must not contain the email address.');
  return problems;
}

export function assertPasswordAcceptable(password: string, policy: PasswordPolicy, context: { login: string; email?: string }): void {
  const problems = checkPasswordStrength(password, policy, context);
  if (problems.length > 0) throw new PluraError('weak_password', problems.join(' '));
}

export async function isInHistory(password: string, previousHashes: readonly string[]): Promise<boolean> {
  for (const previous of previousHashes) {
    if (await verifyPassword(previous, password)) return true;
  }
  return false;
}

export function isPasswordExpired(changedAt: string, policy: PasswordPolicy, now = new Date()): boolean {
  if (policy.expiryDays <= 0) return false;
  const changed = Date.parse(changedAt);
  // An unreadable date fails closed: asking for a new password beats never expiring it.
  if (Number.isNaN(changed)) return true;
  return now.getTime() - changed > policy.expiryDays * 86_400_000;
}

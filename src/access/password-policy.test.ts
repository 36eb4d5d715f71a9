import { describe, expect, it } from 'vitest';
import { PluraError } from '../core/errors.js';
import { hashPassword } from './passwords.js';
import {
  MATOMO_PASSWORD_MAX,
  MATOMO_PASSWORD_MIN,
  assertPasswordAcceptable,
  checkPasswordStrength,
  isInHistory,
  isPasswordExpired,
  type PasswordPolicy,
} from './password-policy.js';

const lax: PasswordPolicy = { minLength: 0, requireComplexity: false, historyCount: 0, expiryDays: 0 };
const strict: PasswordPolicy = { minLength: 12, requireComplexity: true, historyCount: 3, expiryDays: 90 };
const who = { login: 'alice', email: 'alice.smith@example.com' };

describe('checkPasswordStrength: length', () => {
  it('applies Matomo minimum of 6 even when the policy asks for less', () => {
    expect(MATOMO_PASSWORD_MIN).toBe(6);
    expect(checkPasswordStrength('abcde', lax, who)).toEqual(['The password must be at least 6 characters long.']);
    expect(checkPasswordStrength('abcdef', lax, who)).toEqual([]);
  });

  it('applies the policy minimum when it is above 6', () => {
    const policy = { ...lax, minLength: 10 };
    expect(checkPasswordStrength('abcdefghi', policy, who)).toEqual(['The password must be at least 10 characters long.']);
    expect(checkPasswordStrength('abcdefghij', policy, who)).toEqual([]);
  });

  it('applies Matomo maximum of 200', () => {
    expect(MATOMO_PASSWORD_MAX).toBe(200);
    const at = 'ab'.repeat(100);
    expect(at).toHaveLength(200);
    expect(checkPasswordStrength(at, lax, who)).toEqual([]);
    expect(checkPasswordStrength(`${at}c`, lax, who)).toEqual(['The password must be at most 200 characters long.']);
  });

  it('requires at least two distinct characters', () => {
    expect(checkPasswordStrength('aaaaaaaa', lax, who)).toEqual(['The password must contain at least two different characters.']);
    expect(checkPasswordStrength('aaaaaaab', lax, who)).toEqual([]);
    // Both rules at once for a short, single-character password.
    expect(checkPasswordStrength('', lax, who)).toHaveLength(2);
  });
});

describe('checkPasswordStrength: complexity', () => {
  const complex = { ...lax, requireComplexity: true };
  const message = 'The password must mix at least three of: lower case, upper case, digits, symbols.';

  it('refuses passwords with fewer than three character classes', () => {
    expect(checkPasswordStrength('abcdefgh', complex, who)).toEqual([message]);
    expect(checkPasswordStrength('abcdEFGH', complex, who)).toEqual([message]);
    expect(checkPasswordStrength('abcd1234', complex, who)).toEqual([message]);
    expect(checkPasswordStrength('1234!@#$', complex, who)).toEqual([message]);
  });

  it('accepts any three (or four) of the four classes', () => {
    expect(checkPasswordStrength('abcdEF12', complex, who)).toEqual([]);
    expect(checkPasswordStrength('abcdEF!?', complex, who)).toEqual([]);
    expect(checkPasswordStrength('abcd12!?', complex, who)).toEqual([]);
    expect(checkPasswordStrength('ABCD12!?', complex, who)).toEqual([]);
    expect(checkPasswordStrength('abCD12!?', complex, who)).toEqual([]);
  });

  it('counts spaces and non-ASCII letters as symbols', () => {
    expect(checkPasswordStrength('abcd EFGH', complex, who)).toEqual([]);
    expect(checkPasswordStrength('abcdéFGH', complex, who)).toEqual([]);
  });

  it('does not apply when the policy does not ask for it', () => {
    expect(checkPasswordStrength('abcdefgh', lax, who)).toEqual([]);
  });
});

describe('checkPasswordStrength: login and email', () => {
  it('refuses a password containing the login, in any case', () => {
    expect(checkPasswordStrength('myALICEpass', lax, { login: 'alice' })).toEqual(['The password must not contain the login.']);
    expect(checkPasswordStrength('Alice123', lax, { login: 'aLiCe' })).toEqual(['The password must not contain the login.']);
  });

  it('ignores logins shorter than three characters', () => {
    expect(checkPasswordStrength('password-al', lax, { login: 'al' })).toEqual([]);
  });

  it('refuses a password containing the email mailbox, in any case', () => {
    expect(checkPasswordStrength('xxBob.Jonesxx', lax, { login: 'zed', email: 'bob.jones@example.com' })).toEqual([
      'The password must not contain the email address.',
    ]);
  });

  it('does not refuse the email domain, short mailboxes or a missing email', () => {
    expect(checkPasswordStrength('example.com!', lax, { login: 'zed', email: 'bob.jones@example.com' })).toEqual([]);
    expect(checkPasswordStrength('password-jo', lax, { login: 'zed', email: 'jo@example.com' })).toEqual([]);
    expect(checkPasswordStrength('password', lax, { login: 'zed' })).toEqual([]);
  });

  it('reports both login and mailbox', () => {
    expect(checkPasswordStrength('alice.smith-1', lax, who)).toEqual([
      'The password must not contain the login.',
      'The password must not contain the email address.',
    ]);
  });
});

describe('assertPasswordAcceptable', () => {
  it('passes silently for an acceptable password', () => {
    expect(() => assertPasswordAcceptable('Tr0ub4dor&3xyz', strict, who)).not.toThrow();
  });

  it('throws a weak_password PluraError listing every problem', () => {
    let caught: unknown;
    try {
      assertPasswordAcceptable('alice', strict, who);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PluraError);
    const error = caught as PluraError;
    expect(error.code).toBe('weak_password');
    expect(error.status).toBe(400);
    expect(error.message).toContain('at least 12 characters');
    expect(error.message).toContain('three of');
    expect(error.message).toContain('must not contain the login');
  });
});

describe('isInHistory', () => {
  it('finds a password among previous hashes and not otherwise', async () => {
    const previous = await Promise.all(['First-pass1', 'Second-pass2'].map((p) => hashPassword(p)));
    expect(await isInHistory('First-pass1', previous)).toBe(true);
    expect(await isInHistory('Second-pass2', previous)).toBe(true);
    expect(await isInHistory('Third-pass3', previous)).toBe(false);
  });

  it('is false for an empty history and skips malformed hashes', async () => {
    expect(await isInHistory('anything', [])).toBe(false);
    const good = await hashPassword('Kept-pass1');
    expect(await isInHistory('Kept-pass1', ['garbage', good])).toBe(true);
    expect(await isInHistory('Other-pass1', ['garbage', good])).toBe(false);
  });
});

describe('isPasswordExpired', () => {
  const now = new Date('2024-06-01T12:00:00Z');

  it('never expires when expiryDays is 0', () => {
    expect(isPasswordExpired('2000-01-01T00:00:00Z', lax, now)).toBe(false);
  });

  it('expires only once more than expiryDays have passed', () => {
    const policy = { ...lax, expiryDays: 30 };
    const exactly = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    const justOver = new Date(now.getTime() - 30 * 86_400_000 - 1).toISOString();
    expect(isPasswordExpired('2024-05-31T12:00:00Z', policy, now)).toBe(false);
    expect(isPasswordExpired(exactly, policy, now)).toBe(false);
    expect(isPasswordExpired(justOver, policy, now)).toBe(true);
    expect(isPasswordExpired('2024-01-01T00:00:00Z', policy, now)).toBe(true);
  });

  it('treats an unreadable change date as expired when expiry is on', () => {
    expect(isPasswordExpired('not a date', { ...lax, expiryDays: 30 }, now)).toBe(true);
    expect(isPasswordExpired('', { ...lax, expiryDays: 30 }, now)).toBe(true);
    expect(isPasswordExpired('not a date', lax, now)).toBe(false);
  });

  it('uses the current time by default', () => {
    const policy = { ...lax, expiryDays: 1 };
    expect(isPasswordExpired(new Date().toISOString(), policy)).toBe(false);
    expect(isPasswordExpired(new Date(Date.now() - 2 * 86_400_000).toISOString(), policy)).toBe(true);
  });
});

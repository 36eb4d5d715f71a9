import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';

const FORMAT = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}$/;

describe('generateRecoveryCodes', () => {
  it('returns 10 distinct codes in XXXX-XXXX-XXXX form by default', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
  });

  it('never uses the ambiguous characters 0, O, 1, I or L', () => {
    const all = generateRecoveryCodes(200).join('');
    expect(all).not.toMatch(/[01OIL]/);
  });

  it('honours another count and gives different sets each time', () => {
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(generateRecoveryCodes(0)).toEqual([]);
    expect(generateRecoveryCodes()).not.toEqual(generateRecoveryCodes());
  });
});

describe('normalizeRecoveryCode', () => {
  it('upper-cases and drops dashes and whitespace', () => {
    expect(normalizeRecoveryCode('ABCD-EFGH-JKMN')).toBe('ABCDEFGHJKMN');
    expect(normalizeRecoveryCode('abcd-efgh-jkmn')).toBe('ABCDEFGHJKMN');
    expect(normalizeRecoveryCode(' abcd efgh\tjkmn\n')).toBe('ABCDEFGHJKMN');
    expect(normalizeRecoveryCode('ab-cd--ef gh-jk mn')).toBe('ABCDEFGHJKMN');
  });
});

describe('hashRecoveryCode', () => {
  it('is a sha-256 hex digest', () => {
    expect(hashRecoveryCode('ABCD-EFGH-JKMN')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for every way of typing the same code', () => {
    const [code] = generateRecoveryCodes(1);
    if (code === undefined) throw new Error('no code generated');
    const expected = hashRecoveryCode(code);
    const variants = [code.toLowerCase(), code.replace(/-/g, ''), code.replace(/-/g, ' '), ` ${code.toLowerCase().replace(/-/g, ' - ')} `];
    for (const variant of variants) expect(hashRecoveryCode(variant)).toBe(expected);
    expect(hashRecoveryCode(normalizeRecoveryCode(code))).toBe(expected);
  });

  it('gives different hashes for different codes', () => {
    const codes = generateRecoveryCodes();
    expect(new Set(codes.map(hashRecoveryCode)).size).toBe(codes.length);
    expect(hashRecoveryCode('ABCD-EFGH-JKMN')).not.toBe(hashRecoveryCode('ABCD-EFGH-JKMP'));
  });
});

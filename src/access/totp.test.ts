import { describe, expect, it } from 'vitest';
import { currentTotp, generateTotpSecret, totpUri, verifyTotp } from './totp.js';

// RFC 6238 appendix B, SHA-1: the ASCII secret "12345678901234567890", truncated to 6 digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [number, string][] = [
  [59, '287082'],
  [1_111_111_109, '081804'],
  [1_111_111_111, '050471'],
  [1_234_567_890, '005924'],
  [2_000_000_000, '279037'],
];

const STEP = 30_000;
// Middle of a step, so ±n steps lands well inside the neighbouring step.
const T = 1_700_000_000_000 + 15_000 - (1_700_000_000_000 % STEP);

describe('generateTotpSecret', () => {
  it('returns a fresh 160-bit base32 secret each time', () => {
    const a = generateTotpSecret();
    const b = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(b).toMatch(/^[A-Z2-7]{32}$/);
    expect(a).not.toBe(b);
  });
});

describe('currentTotp', () => {
  it('matches the RFC 6238 SHA-1 test vectors', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(currentTotp(RFC_SECRET, seconds * 1000)).toBe(code);
    }
  });

  it('is stable within a 30-second step and changes at the boundary', () => {
    const start = Math.floor(T / STEP) * STEP;
    expect(currentTotp(RFC_SECRET, start)).toBe(currentTotp(RFC_SECRET, start + STEP - 1));
    expect(currentTotp(RFC_SECRET, start)).not.toBe(currentTotp(RFC_SECRET, start + STEP));
  });
});

describe('verifyTotp', () => {
  it('accepts the RFC vectors and returns their absolute step', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(verifyTotp(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor((seconds * 1000) / STEP));
    }
  });

  it('accepts codes from the previous, current and next step, returning floor(t/30000)+delta', () => {
    const secret = generateTotpSecret();
    const base = Math.floor(T / STEP);
    for (const delta of [-1, 0, 1]) {
      const code = currentTotp(secret, T + delta * STEP);
      expect(verifyTotp(secret, code, T)).toBe(base + delta);
    }
  });

  it('refuses codes two or more steps away', () => {
    for (const delta of [-3, -2, 2, 3]) {
      const code = currentTotp(RFC_SECRET, T + delta * STEP);
      expect(verifyTotp(RFC_SECRET, code, T)).toBeNull();
    }
  });

  it('refuses a code made with another secret', () => {
    const other = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    expect(verifyTotp(RFC_SECRET, currentTotp(other, T), T)).toBeNull();
  });

  it('returns null for malformed codes', () => {
    const good = currentTotp(RFC_SECRET, T);
    for (const code of ['', '12345', '1234567', `${good} `, ` ${good}`, 'abcdef', '12 345', '12-345', '١٢٣٤٥٦', `${good}\n`]) {
      expect(verifyTotp(RFC_SECRET, code, T)).toBeNull();
    }
  });

  it('returns null (rather than throwing) for a malformed secret', () => {
    expect(verifyTotp('not base32 !!!', '123456', T)).toBeNull();
  });

  it('uses the current time by default', () => {
    const secret = generateTotpSecret();
    const now = Date.now();
    const step = verifyTotp(secret, currentTotp(secret));
    expect(step).not.toBeNull();
    expect(Math.abs((step ?? 0) - Math.floor(now / STEP))).toBeLessThanOrEqual(1);
  });
});

describe('totpUri', () => {
  it('builds an otpauth:// URI with issuer, account and the authenticator settings', () => {
    const uri = new URL(totpUri({ secret: RFC_SECRET, issuer: 'Acme Analytics', account: 'alice@example.com' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toContain('alice@example.com');
    expect(uri.searchParams.get('secret')).toBe(RFC_SECRET);
    expect(uri.searchParams.get('issuer')).toBe('Acme Analytics');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});

import { hash } from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import { dummyVerify, hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('hashPassword / verifyPassword', () => {
  it('produces an argon2id hash that verifies the right password only', async () => {
    const hashed = await hashPassword('correct horse battery staple');
    expect(hashed.startsWith('$argon2id$')).toBe(true);
    expect(hashed).not.toContain('correct horse');
    expect(await verifyPassword(hashed, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hashed, 'correct horse battery stapl')).toBe(false);
    expect(await verifyPassword(hashed, 'Correct horse battery staple')).toBe(false);
    expect(await verifyPassword(hashed, '')).toBe(false);
  });

  it('salts every hash, so the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same-password'), hashPassword('same-password')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'same-password')).toBe(true);
    expect(await verifyPassword(b, 'same-password')).toBe(true);
  });

  it('handles non-ASCII passwords', async () => {
    const hashed = await hashPassword('pässwörd-日本語-🔑');
    expect(await verifyPassword(hashed, 'pässwörd-日本語-🔑')).toBe(true);
    expect(await verifyPassword(hashed, 'passwörd-日本語-🔑')).toBe(false);
  });

  it('returns false instead of throwing for a malformed hash', async () => {
    for (const malformed of ['', 'not-a-hash', '$argon2id$', '$argon2id$v=19$m=4096,t=2,p=1$garbage', '$2b$10$abcdefghijklmnopqrstuv']) {
      await expect(verifyPassword(malformed, 'whatever')).resolves.toBe(false);
    }
  });

  it('verifies hashes made with other parameters (the hash records its own)', async () => {
    const other = await hash('old-params', { memoryCost: 8192, timeCost: 3, parallelism: 1, algorithm: 2 });
    expect(await verifyPassword(other, 'old-params')).toBe(true);
    expect(await verifyPassword(other, 'new-params')).toBe(false);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made with the current parameters', async () => {
    expect(needsRehash(await hashPassword('fresh'))).toBe(false);
  });

  it('is true for a hash made with other parameters or another argon2 variant', async () => {
    const current = Number(process.env.PLURA_ARGON2_MEMORY_KIB ?? 19_456);
    const otherMemory = current === 8192 ? 16_384 : 8192;
    expect(needsRehash(await hash('x', { memoryCost: otherMemory, timeCost: 2, parallelism: 1, algorithm: 2 }))).toBe(true);
    expect(needsRehash(await hash('x', { memoryCost: current, timeCost: 3, parallelism: 1, algorithm: 2 }))).toBe(true);
    expect(needsRehash(await hash('x', { memoryCost: current, timeCost: 2, parallelism: 2, algorithm: 2 }))).toBe(true);
    // Argon2i (1) and Argon2d (0) are not today's algorithm.
    expect(needsRehash(await hash('x', { memoryCost: current, timeCost: 2, parallelism: 1, algorithm: 1 }))).toBe(true);
    expect(needsRehash(await hash('x', { memoryCost: current, timeCost: 2, parallelism: 1, algorithm: 0 }))).toBe(true);
  });

  it('is true for a hash made with argon2 version 0x10', async () => {
    const current = Number(process.env.PLURA_ARGON2_MEMORY_KIB ?? 19_456);
    // Version.V0x10 is 0 (an ambient const enum, so spelled out).
    expect(needsRehash(await hash('x', { memoryCost: current, timeCost: 2, parallelism: 1, algorithm: 2, version: 0 }))).toBe(true);
  });

  it('is true (rather than throwing) for a malformed hash', () => {
    expect(needsRehash('')).toBe(true);
    expect(needsRehash('not-a-hash')).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
  });
});

describe('dummyVerify', () => {
  it('resolves without a result, whatever the password, and can be called repeatedly', async () => {
    await expect(dummyVerify('anything')).resolves.toBeUndefined();
    await expect(dummyVerify('plura-dummy-password')).resolves.toBeUndefined();
    await expect(Promise.all([dummyVerify('a'), dummyVerify('b')])).resolves.toEqual([undefined, undefined]);
  });
});

describe('PLURA_ARGON2_MEMORY_KIB', () => {
  // The cost is read once at import, so each case loads a fresh copy of the module.
  it.each([
    ['8192', 'm=8192'],
    ['', 'm=19456'],
    ['lots', 'm=19456'],
    ['4', 'm=19456'],
    ['1024.5', 'm=19456'],
  ])('%j gives %s', async (value, expected) => {
    vi.stubEnv('PLURA_ARGON2_MEMORY_KIB', value);
    vi.resetModules();
    try {
      const fresh = await import('./passwords.js');
      const hashed = await fresh.hashPassword('x');
      expect(hashed).toContain(`$${expected},t=2,p=1$`);
      expect(fresh.needsRehash(hashed)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

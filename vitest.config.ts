import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Native database drivers are safest in child processes, one file per fork.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['src/storage/test-support/global-setup.ts'],
    // Cheaper argon2 in tests only: the hash records its own parameters, so behaviour is the same.
    env: { PLURA_ARGON2_MEMORY_KIB: '4096' },
  },
});

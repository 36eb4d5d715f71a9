import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ApiRateLimiter, type RateLimitResult } from './rate-limit.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

async function consumeTimes(limiter: ApiRateLimiter, times: number, tenant: string, subject: string, perMinute: number, perHour = 0): Promise<RateLimitResult[]> {
  const results: RateLimitResult[] = [];
  for (let i = 0; i < times; i++) results.push(await limiter.consume(tenant, subject, { perMinute, perHour }));
  return results;
}

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const hasRedis = await redisReachable();

describe('ApiRateLimiter (in memory)', () => {
  it('allows N calls a minute, then refuses with limit minute and a retry delay', async () => {
    const limiter = new ApiRateLimiter();
    const results = await consumeTimes(limiter, 5, 'acme', 'user:1', 3);
    expect(results.slice(0, 3)).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
    for (const refused of results.slice(3)) {
      expect(refused.allowed).toBe(false);
      if (refused.allowed) continue;
      expect(refused.limit).toBe('minute');
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(Number.isInteger(refused.retryAfterSeconds)).toBe(true);
    }
  });

  it('refuses with limit hour when the hourly budget runs out first', async () => {
    const limiter = new ApiRateLimiter();
    const results = await consumeTimes(limiter, 3, 'acme', 'user:1', 100, 2);
    expect(results[0]).toEqual({ allowed: true });
    expect(results[1]).toEqual({ allowed: true });
    const refused = results[2];
    expect(refused?.allowed).toBe(false);
    if (refused && !refused.allowed) {
      expect(refused.limit).toBe('hour');
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
    }
  });

  it('counts each tenant separately for the same subject', async () => {
    const limiter = new ApiRateLimiter();
    await consumeTimes(limiter, 2, 'acme', 'user:1', 2);
    expect((await limiter.consume('acme', 'user:1', { perMinute: 2, perHour: 0 })).allowed).toBe(false);
    expect(await limiter.consume('globex', 'user:1', { perMinute: 2, perHour: 0 })).toEqual({ allowed: true });
    expect(await limiter.consume('globex', 'user:1', { perMinute: 2, perHour: 0 })).toEqual({ allowed: true });
    expect((await limiter.consume('globex', 'user:1', { perMinute: 2, perHour: 0 })).allowed).toBe(false);
  });

  it('counts each subject separately within a tenant', async () => {
    const limiter = new ApiRateLimiter();
    await consumeTimes(limiter, 2, 'acme', 'user:1', 2);
    expect((await limiter.consume('acme', 'user:1', { perMinute: 2, perHour: 0 })).allowed).toBe(false);
    expect(await limiter.consume('acme', 'user:2', { perMinute: 2, perHour: 0 })).toEqual({ allowed: true });
    expect(await limiter.consume('acme', 'token:abc', { perMinute: 2, perHour: 0 })).toEqual({ allowed: true });
  });

  it('does not let keys collide across the tenant/subject separator', async () => {
    const limiter = new ApiRateLimiter();
    await consumeTimes(limiter, 1, 'a', 'b:c', 1);
    expect((await limiter.consume('a', 'b:c', { perMinute: 1, perHour: 0 })).allowed).toBe(false);
    // Distinct slugs and subjects; tenant slugs cannot contain ':'.
    expect(await limiter.consume('a', 'b:d', { perMinute: 1, perHour: 0 })).toEqual({ allowed: true });
  });

  it('treats 0 as unlimited for both windows', async () => {
    const limiter = new ApiRateLimiter();
    const results = await consumeTimes(limiter, 500, 'acme', 'user:1', 0, 0);
    expect(results.every((result) => result.allowed)).toBe(true);
  });

  it('applies only the hourly limit when the minute limit is 0, and the reverse', async () => {
    const limiter = new ApiRateLimiter();
    const hourly = await consumeTimes(limiter, 3, 'acme', 'hourly', 0, 2);
    expect(hourly.map((result) => result.allowed)).toEqual([true, true, false]);
    const last = hourly[2];
    if (last && !last.allowed) expect(last.limit).toBe('hour');
    const minutely = await consumeTimes(limiter, 3, 'acme', 'minutely', 2, 0);
    expect(minutely.map((result) => result.allowed)).toEqual([true, true, false]);
  });

  it('keeps rules with different budgets apart', async () => {
    const limiter = new ApiRateLimiter();
    expect((await consumeTimes(limiter, 2, 'acme', 'user:1', 1)).map((result) => result.allowed)).toEqual([true, false]);
    // Another rule (another plan) has its own counters.
    expect(await limiter.consume('acme', 'user:1', { perMinute: 5, perHour: 0 })).toEqual({ allowed: true });
  });

  it('does not share counters between limiter instances in memory', async () => {
    const first = new ApiRateLimiter();
    const second = new ApiRateLimiter();
    await consumeTimes(first, 1, 'acme', 'user:1', 1);
    expect((await first.consume('acme', 'user:1', { perMinute: 1, perHour: 0 })).allowed).toBe(false);
    expect(await second.consume('acme', 'user:1', { perMinute: 1, perHour: 0 })).toEqual({ allowed: true });
  });
});

describe('ApiRateLimiter (Redis)', () => {
  // Skipped only on a developer machine without Redis; CI (.ci/run starts Redis) always runs it.
  it.skipIf(!hasRedis && !process.env.CI)('shares counters through real Redis, per tenant and per subject', async () => {
    const redis = new Redis(REDIS_URL);
    const tenant = `rl-test-${randomUUID()}`;
    const other = `rl-test-${randomUUID()}`;
    try {
      // Two limiters (two Plura nodes) on one Redis spend the same budget.
      const nodeA = new ApiRateLimiter({ redis });
      const nodeB = new ApiRateLimiter({ redis });
      expect(await nodeA.consume(tenant, 'user:1', { perMinute: 3, perHour: 0 })).toEqual({ allowed: true });
      expect(await nodeB.consume(tenant, 'user:1', { perMinute: 3, perHour: 0 })).toEqual({ allowed: true });
      expect(await nodeA.consume(tenant, 'user:1', { perMinute: 3, perHour: 0 })).toEqual({ allowed: true });
      const refused = await nodeB.consume(tenant, 'user:1', { perMinute: 3, perHour: 0 });
      expect(refused.allowed).toBe(false);
      if (!refused.allowed) {
        expect(refused.limit).toBe('minute');
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
      expect(await nodeA.consume(tenant, 'user:2', { perMinute: 3, perHour: 0 })).toEqual({ allowed: true });
      expect(await nodeA.consume(other, 'user:1', { perMinute: 3, perHour: 0 })).toEqual({ allowed: true });
      expect(await nodeA.consume(tenant, 'user:1', { perMinute: 0, perHour: 0 })).toEqual({ allowed: true });
    } finally {
      const keys = [
        ...(await redis.keys(`plura-rl-*:${tenant}:*`)),
        ...(await redis.keys(`plura-rl-*:${other}:*`)),
      ];
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

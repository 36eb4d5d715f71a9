import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';

export interface RateLimitRule {
  /** 0: unlimited. */
  readonly perMinute: number;
  readonly perHour: number;
}

export type RateLimitResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number; readonly limit: 'minute' | 'hour' };

/**
 * API rate limits per user or token, counted per tenant (keys `<tenant>:<subject>`)
 * so one tenant cannot spend another's budget. In-process by default; with Redis
 * the counters are shared by every Plura node.
 */
export class ApiRateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly options: { readonly redis?: Redis | undefined } = {}) {}

  private limiter(points: number, duration: number): RateLimiterAbstract {
    const key = `${points}/${duration}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const keyPrefix = `plura-rl-${duration}-${points}`;
      limiter = this.options.redis
        ? new RateLimiterRedis({ storeClient: this.options.redis, points, duration, keyPrefix })
        : new RateLimiterMemory({ points, duration, keyPrefix });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  async consume(tenantSlug: string, subject: string, rule: RateLimitRule): Promise<RateLimitResult> {
    const key = `${tenantSlug}:${subject}`;
    const windows: ['minute' | 'hour', number, number][] = [
      ['minute', rule.perMinute, 60],
      ['hour', rule.perHour, 3600],
    ];
    for (const [limit, points, duration] of windows) {
      if (points <= 0) continue;
      try {
        await this.limiter(points, duration).consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          return { allowed: false, limit, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
        }
        throw error;
      }
    }
    return { allowed: true };
  }
}

import { LRUCache } from 'lru-cache';
import { PluraError, describeError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import type { Hit } from './hit.js';
import { processHits, type HitOutcome, type TrackingPolicy } from './hit-processor.js';

interface Pending {
  readonly hit: Hit;
  resolve(outcome: HitOutcome): void;
  reject(error: unknown): void;
}

interface TenantQueue {
  tenant: Tenant;
  /** Dictionary ids known to be committed in this tenant's store. */
  readonly names: LRUCache<string, number>;
  readonly pending: Pending[];
  timer: NodeJS.Timeout | null;
  flushing: boolean;
}

export interface WriterOptions {
  readonly maxBatch: number;
  readonly intervalMs: number;
  readonly maxQueued: number;
}

/**
 * Group commit: hits of one tenant that arrive together share one transaction.
 * A batch is written when it is full or after a short interval; every request is
 * answered only once the transaction holding its hits has committed. Tenants have
 * their own queues, so one tenant's slow store never delays another's hits.
 */
export class TrackingWriter {
  private readonly queues = new Map<string, TenantQueue>();
  private queued = 0;
  private closed = false;

  constructor(
    private readonly platform: Platform,
    private readonly options: WriterOptions,
  ) {}

  get queuedHits(): number {
    return this.queued;
  }

  /** Queues the hits; resolves with one outcome per hit once they are durable. */
  submit(tenant: Tenant, hits: readonly Hit[]): Promise<HitOutcome[]> {
    if (hits.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new PluraError('overloaded', 'The server is shutting down; send the hits again.', { headers: { 'Retry-After': '1' } }));
    if (this.queued + hits.length > this.options.maxQueued) {
      return Promise.reject(new PluraError('overloaded', 'Too many hits are waiting to be written; retry shortly.', { headers: { 'Retry-After': '1' } }));
    }
    let queue = this.queues.get(tenant.slug);
    if (!queue) {
      queue = { tenant, names: this.namesFor(tenant), pending: [], timer: null, flushing: false };
      this.queues.set(tenant.slug, queue);
    }
    queue.tenant = tenant;
    const target = queue;
    const promises = hits.map(
      (hit) =>
        new Promise<HitOutcome>((resolve, reject) => {
          target.pending.push({ hit, resolve, reject });
        }),
    );
    this.queued += hits.length;
    this.schedule(queue);
    return Promise.all(promises);
  }

  private schedule(queue: TenantQueue): void {
    if (queue.flushing) return; // the running flush picks the rest up
    if (queue.pending.length >= this.options.maxBatch || this.options.intervalMs === 0) {
      if (queue.timer) clearTimeout(queue.timer);
      queue.timer = null;
      void this.flush(queue);
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = null;
      void this.flush(queue);
    }, this.options.intervalMs);
  }

  private async flush(queue: TenantQueue): Promise<void> {
    if (queue.flushing || queue.pending.length === 0) return;
    queue.flushing = true;
    const batch = queue.pending.splice(0, this.options.maxBatch);
    try {
      const policy = this.policyFor(queue.tenant);
      const { outcomes, newNames } = await this.platform.withStore(queue.tenant, (store) =>
        store.db.transaction().execute((trx) => processHits(trx, batch.map((entry) => entry.hit), policy, queue.names)),
      );
      // Committed: these ids are now safe to reuse in later batches.
      for (const [hash, id] of newNames) queue.names.set(hash, id);
      batch.forEach((entry, index) => entry.resolve(outcomes[index] ?? { status: 'invalid', message: 'The hit was not processed.' }));
    } catch (error) {
      const failure = new PluraError('storage_failed', `Tracking data could not be written: ${describeError(error)}`, { cause: error });
      for (const entry of batch) entry.reject(failure);
    } finally {
      this.queued -= batch.length;
      queue.flushing = false;
      if (queue.pending.length > 0) this.schedule(queue);
      else if (!queue.timer) this.queues.delete(queue.tenant.slug);
    }
  }

  /**
   * Per-tenant dictionary caches outlive the queues (which come and go with traffic).
   * Keyed by slug and creation time, so a tenant deleted and made again starts empty.
   */
  private readonly names = new LRUCache<string, LRUCache<string, number>>({ max: 2000 });

  private namesFor(tenant: Tenant): LRUCache<string, number> {
    const key = `${tenant.slug}\u0000${tenant.createdAt}`;
    let cache = this.names.get(key);
    if (!cache) {
      cache = new LRUCache<string, number>({ max: 5000 });
      this.names.set(key, cache);
    }
    return cache;
  }

  private policyFor(tenant: Tenant): TrackingPolicy {
    const settings = this.platform.settings.forTenant(tenant.slug);
    return {
      visitLengthSeconds: settings.get('Tracker.visit_standard_length'),
      ipAnonymizationBytes: settings.get('Tracker.ip_anonymization_bytes'),
      honorDoNotTrack: settings.get('Tracker.honor_do_not_track'),
    };
  }

  /** Writes everything still queued, then refuses new hits. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queued > 0) {
      for (const queue of this.queues.values()) {
        if (queue.timer) clearTimeout(queue.timer);
        queue.timer = null;
        await this.flush(queue);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

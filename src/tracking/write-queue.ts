import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { PluraError, describeError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import { HitError, parseHit, type Hit } from './hit.js';
import { journalAppliedSeq, markJournalApplied, processHits, refusalOf, type HitOutcome, type TrackingPolicy, type VisitSnapshot } from './hit-processor.js';
import { TrackingJournal, type JournalRecord } from './journal.js';
import { SiteConfigCache, loadSiteContexts, type SiteContext } from './site-config.js';

export interface WriterOptions {
  /** Hits of one tenant applied in one transaction at most. */
  readonly maxBatch: number;
  /** How long acknowledged hits of a tenant may wait to share a transaction. */
  readonly intervalMs: number;
  /** Acknowledged hits not yet applied, across tenants, beyond which tracking answers 503. */
  readonly maxQueued: number;
  readonly journalDir: string;
  readonly fsync: boolean;
  /** Latest visits kept in memory across batches, all tenants together (0: none). */
  readonly visitCacheSize: number;
}

export interface WriterLog {
  error(message: string): void;
}

interface QueuedHit {
  readonly hit: Hit;
  readonly seq: number;
}

interface TenantQueue {
  tenant: Tenant;
  readonly hits: QueuedHit[];
  timer: NodeJS.Timeout | null;
  applying: Promise<void> | null;
}

/** Slug and creation time: a tenant deleted and made again under the same slug shares nothing with the old one. */
function tenantKey(tenant: Tenant): string {
  return `${tenant.slug}\u0000${tenant.createdAt}`;
}

const RETRY_LIMIT = 5;

/**
 * The tracking pipeline of one server process.
 *
 * A hit is checked against its site (cached settings), appended to the journal,
 * and acknowledged once the journal write returned: from then on it survives a
 * crash. Acknowledged hits wait per tenant, in memory, and are applied to the
 * tenant's store in one transaction per batch (full batch, `intervalMs` elapsed,
 * or a reader asking for them with `drain`). The transaction also records how far
 * the journal is applied, so replaying the journal after a crash stores every
 * acknowledged hit exactly once.
 *
 * Tenants have their own queues: one tenant's slow store never delays another's.
 */
export class TrackingWriter {
  private journal: TrackingJournal | null = null;
  private starting: Promise<void> | null = null;
  private readonly queues = new Map<string, TenantQueue>();
  private queued = 0;
  private closed = false;
  private log: WriterLog = { error: (message) => console.error(message) };
  readonly sites = new SiteConfigCache(30_000);
  /** Dictionary ids known to be committed, per tenant. */
  private readonly names = new LRUCache<string, LRUCache<string, number>>({ max: 2000 });
  private readonly visits: LRUCache<string, VisitSnapshot> | null;

  constructor(
    private readonly platform: Platform,
    private readonly options: WriterOptions,
  ) {
    this.visits = options.visitCacheSize > 0 ? new LRUCache<string, VisitSnapshot>({ max: options.visitCacheSize }) : null;
  }

  get queuedHits(): number {
    return this.queued;
  }

  /** Opens the journal and applies what a previous process left in it. Idempotent. */
  start(log?: WriterLog): Promise<void> {
    if (log) this.log = log;
    this.starting ??= this.recover();
    return this.starting;
  }

  private async recover(): Promise<void> {
    const { journal, leftover, discardLeftover } = TrackingJournal.open(this.options.journalDir, { fsync: this.options.fsync });
    this.journal = journal;
    if (leftover.length === 0) return;
    const byTenant = new Map<string, JournalRecord[]>();
    for (const record of leftover) {
      const list = byTenant.get(record.tenant) ?? [];
      list.push(record);
      byTenant.set(record.tenant, list);
    }
    for (const [slug, records] of byTenant) {
      const tenant = await this.platform.tenants.get(slug).catch(() => undefined);
      if (!tenant || tenant.createdAt !== records[0]?.tenantCreatedAt) continue; // deleted since: its hits go with it
      const applied = await this.platform.withStore(tenant, (store) => journalAppliedSeq(store.db, journal.id));
      const options = this.parseOptions(tenant);
      const queue = this.queueOf(tenant);
      for (const record of records) {
        if (record.seq <= applied) continue;
        try {
          queue.hits.push({ hit: parseHit(new Map(Object.entries(record.params)), record.meta, options), seq: record.seq });
          this.queued += 1;
        } catch (error) {
          if (!(error instanceof HitError)) throw error;
        }
      }
      await this.applyQueue(queue);
    }
    // Everything the old files held is in the stores now.
    discardLeftover();
  }

  private parseOptions(tenant: Tenant): { customTimeWithoutTokenSeconds: number } {
    return { customTimeWithoutTokenSeconds: this.platform.settings.forTenant(tenant.slug).get('Tracker.tracking_requests_require_authentication_when_custom_timestamp_newer_than') };
  }

  /** The tenant's site settings as tracking sees them (cached). */
  siteContexts(tenant: Tenant, siteIds: readonly number[]): Promise<Map<number, SiteContext>> {
    return this.sites.sites(tenantKey(tenant), siteIds, (missing) => this.platform.withStore(tenant, (store) => loadSiteContexts(store.db, missing)));
  }

  private readonly generations = new Map<string, number>();

  /**
   * Raw tracking data of the tenant was deleted (privacy tools, retention): the
   * cached visits and dictionary ids may point at rows that are gone, so they are
   * left behind (they age out of their LRU caches).
   */
  rawDataDeleted(tenant: Tenant): void {
    this.generations.set(tenant.slug, (this.generations.get(tenant.slug) ?? 0) + 1);
  }

  /** Site or goal settings of the tenant changed in this process: tracking reads them afresh. */
  siteConfigChanged(tenant: Tenant): void {
    this.sites.invalidate(tenantKey(tenant));
  }

  /**
   * Checks the hits against their sites, journals the valid ones and resolves once
   * they are durable, with one outcome per hit: `invalid` (with the reason) or
   * `tracked` (stored, or dropped by the privacy and exclusion rules when applied).
   */
  async submit(tenant: Tenant, hits: readonly Hit[]): Promise<HitOutcome[]> {
    if (hits.length === 0) return [];
    if (this.closed) throw new PluraError('overloaded', 'The server is shutting down; send the hits again.', { headers: { 'Retry-After': '1' } });
    if (this.queued + hits.length > this.options.maxQueued) {
      throw new PluraError('overloaded', 'Too many hits are waiting to be written; retry shortly.', { headers: { 'Retry-After': '1' } });
    }
    await this.start();
    const journal = this.journal;
    if (!journal) throw new PluraError('storage_unavailable', 'The tracking journal is not open.');
    const sites = await this.siteContexts(tenant, hits.map((hit) => hit.siteId));
    const outcomes: HitOutcome[] = [];
    const accepted: Hit[] = [];
    for (const hit of hits) {
      const refusal = refusalOf(hit, sites.get(hit.siteId));
      if (refusal === null) {
        accepted.push(hit);
        outcomes.push({ status: 'tracked' });
      } else outcomes.push({ status: 'invalid', message: refusal });
    }
    if (accepted.length === 0) return outcomes;
    const { seqs, durable } = journal.append(
      accepted.map((hit) => ({ tenant: tenant.slug, tenantCreatedAt: tenant.createdAt, params: Object.fromEntries(hit.params), meta: hit.meta })),
    );
    this.queued += accepted.length;
    try {
      await durable;
    } catch (error) {
      this.queued -= accepted.length;
      journal.markApplied(seqs);
      throw error;
    }
    const queue = this.queueOf(tenant);
    accepted.forEach((hit, index) => queue.hits.push({ hit, seq: seqs[index] ?? 0 }));
    this.schedule(queue);
    return outcomes;
  }

  /** Applies every acknowledged hit of the tenant (or of all tenants) before returning: readers call this first. */
  async drain(tenant?: Tenant): Promise<void> {
    const queues = tenant ? [this.queues.get(tenant.slug)].filter((q): q is TenantQueue => q !== undefined) : [...this.queues.values()];
    await Promise.all(queues.map((queue) => this.applyQueue(queue)));
  }

  private queueOf(tenant: Tenant): TenantQueue {
    let queue = this.queues.get(tenant.slug);
    if (!queue || queue.tenant.createdAt !== tenant.createdAt) {
      queue = { tenant, hits: [], timer: null, applying: null };
      this.queues.set(tenant.slug, queue);
    }
    queue.tenant = tenant;
    return queue;
  }

  private schedule(queue: TenantQueue): void {
    if (queue.applying) return; // the running apply picks the rest up
    if (queue.hits.length >= this.options.maxBatch || this.options.intervalMs === 0) {
      if (queue.timer) clearTimeout(queue.timer);
      queue.timer = null;
      setImmediate(() => void this.applyQueue(queue));
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = null;
      void this.applyQueue(queue);
    }, this.options.intervalMs);
  }

  /** Applies the queue's hits batch by batch until it is empty; one apply per tenant at a time. */
  private applyQueue(queue: TenantQueue): Promise<void> {
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = null;
    queue.applying ??= (async () => {
      try {
        while (queue.hits.length > 0) {
          const batch = queue.hits.splice(0, this.options.maxBatch);
          await this.applyBatch(queue.tenant, batch);
        }
      } finally {
        queue.applying = null;
        if (queue.hits.length === 0 && this.queues.get(queue.tenant.slug) === queue) this.queues.delete(queue.tenant.slug);
      }
    })();
    return queue.applying;
  }

  /**
   * One transaction for the batch. A failing batch is split in halves so that one
   * bad hit cannot hold back the others; a single hit is retried with a growing
   * pause and, if it still fails, dropped with an error in the log.
   */
  private async applyBatch(tenant: Tenant, batch: QueuedHit[], attempt = 0): Promise<void> {
    try {
      await this.write(tenant, batch);
    } catch (error) {
      if (batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        await this.applyBatch(tenant, batch.slice(0, middle));
        await this.applyBatch(tenant, batch.slice(middle));
        return;
      }
      if (attempt < RETRY_LIMIT && !this.closed) {
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
        await this.applyBatch(tenant, batch, attempt + 1);
        return;
      }
      this.log.error(`tracking: a hit for tenant ${tenant.slug} could not be stored and was dropped: ${describeError(error)}`);
      this.settle(batch);
    }
  }

  private async write(tenant: Tenant, batch: QueuedHit[]): Promise<void> {
    const journal = this.journal;
    if (!journal) throw new Error('journal not open');
    const hits = batch.map((entry) => entry.hit);
    const sites = await this.siteContexts(tenant, hits.map((hit) => hit.siteId));
    const key = `${tenantKey(tenant)}\u0000${this.generations.get(tenant.slug) ?? 0}`;
    let names = this.names.get(key);
    if (!names) {
      names = new LRUCache<string, number>({ max: 5000 });
      this.names.set(key, names);
    }
    const visits = this.visits ? { get: (k: string) => this.visits?.get(`${key}\u0000${k}`), set: (k: string, v: VisitSnapshot) => this.visits?.set(`${key}\u0000${k}`, v) } : undefined;
    const lastSeq = Math.max(...batch.map((entry) => entry.seq));
    const result = await this.platform.withStore(tenant, (store) =>
      store.db.transaction().execute(async (trx) => {
        const processed = await processHits(trx, hits, { policy: this.policyFor(tenant), sites, names, ...(visits ? { visits } : {}) });
        await markJournalApplied(trx, journal.id, lastSeq);
        return processed;
      }),
    );
    result.commit();
    this.settle(batch);
  }

  private settle(batch: readonly QueuedHit[]): void {
    this.queued -= batch.length;
    this.journal?.markApplied(batch.map((entry) => entry.seq));
  }

  private policyFor(tenant: Tenant): TrackingPolicy {
    const settings = this.platform.settings.forTenant(tenant.slug);
    return {
      visitLengthSeconds: settings.get('Tracker.visit_standard_length'),
      ipAnonymizationBytes: settings.get('Tracker.ip_anonymization_bytes'),
      honorDoNotTrack: settings.get('Tracker.honor_do_not_track'),
    };
  }

  /** Applies everything acknowledged, then refuses new hits and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.starting) return;
    await this.starting.catch(() => undefined);
    await this.drain();
    await this.journal?.close(this.queued === 0);
  }
}

/** The journal directory of a data directory, unless `[Tracker] journal_dir` names another. */
export function journalDirOf(dataDir: string, setting: string): string {
  return setting === '' ? join(dataDir, 'journal') : setting;
}

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import type { Hit } from './hit.js';
import { journalAppliedSeq, refusalOf, type HitOutcome, type TrackingPolicy } from './hit-processor.js';
import { TrackingJournal, type JournalLine, type JournalRecord } from './journal.js';
import { SiteConfigCache, loadSiteContexts, type SiteContext } from './site-config.js';
import { tenantKeyOf, type ApplierReply, type ApplierRequest, type ApplierSetup } from './apply-worker.js';

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
  readonly line: string;
  readonly seq: number;
}

interface TenantQueue {
  tenant: Tenant;
  readonly hits: QueuedHit[];
  timer: NodeJS.Timeout | null;
  applying: Promise<void> | null;
}

const RETRY_LIMIT = 5;

/** The applier thread and the requests waiting for its answers. */
class ApplierThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Set once the thread has failed or stopped: later requests fail at once. */
  private failure: Error | null = null;

  constructor(setup: ApplierSetup) {
    // Built, the applier is plain JavaScript. From sources (tsx, vitest) it is TypeScript:
    // the thread registers tsx's loader itself (loader flags do not reach worker threads on Node 20).
    if (import.meta.url.endsWith('.ts')) {
      const source = new URL('./apply-worker.ts', import.meta.url).href;
      this.worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`, { eval: true, workerData: setup });
    } else {
      this.worker = new Worker(new URL('./apply-worker.js', import.meta.url), { workerData: setup });
    }
    this.worker.on('message', (reply: ApplierReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve();
      else waiting.reject(new Error(reply.error));
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.failAll(error);
    });
    this.worker.on('exit', (code) => {
      this.failure ??= new Error(`the tracking applier thread stopped (exit code ${code})`);
      this.failAll(this.failure);
    });
    // An idle applier must not keep the process alive; one with work in flight does.
    this.worker.unref();
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }

  request(message: Omit<Extract<ApplierRequest, { type: 'apply' }>, 'id'> | { readonly type: 'close' }): Promise<void> {
    const id = this.nextId;
    this.nextId += 1;
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  notify(message: Extract<ApplierRequest, { type: 'site-config-changed' | 'raw-data-deleted' }>): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    await this.request({ type: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * The tracking pipeline of one server process.
 *
 * A hit is checked against its site (cached settings), appended to the journal,
 * and acknowledged once the journal write returned: from then on it survives a
 * crash. Acknowledged hits wait per tenant, in memory, and the applier thread
 * (apply-worker.ts) writes them to the tenant's store in one transaction per
 * batch (full batch, `intervalMs` elapsed, or a reader asking with `drain`). The
 * transaction also records how far the journal is applied, so replaying the
 * journal after a crash stores every acknowledged hit exactly once.
 *
 * Tenants have their own queues: one tenant's slow store never delays another's.
 */
export class TrackingWriter {
  private journal: TrackingJournal | null = null;
  private applier: ApplierThread | null = null;
  private starting: Promise<void> | null = null;
  private readonly queues = new Map<string, TenantQueue>();
  private queued = 0;
  private closed = false;
  private log: WriterLog = { error: (message) => console.error(message) };
  private readonly sites = new SiteConfigCache(30_000);

  constructor(
    private readonly platform: Platform,
    private readonly options: WriterOptions,
  ) {}

  /** Acknowledged hits not yet in their stores. */
  get queuedHits(): number {
    return this.queued;
  }

  /** Hits written to their stores (or dropped after retries) since start. */
  get appliedHits(): number {
    return this.applied;
  }

  private applied = 0;

  /** Opens the journal, starts the applier thread and applies what a previous process left. Idempotent. */
  start(log?: WriterLog): Promise<void> {
    if (log) this.log = log;
    this.starting ??= this.recover();
    return this.starting;
  }

  private async recover(): Promise<void> {
    const { journal, leftover, discardLeftover } = TrackingJournal.open(this.options.journalDir, { fsync: this.options.fsync });
    this.journal = journal;
    this.applier = new ApplierThread({
      dataDir: this.platform.paths.dataDir,
      secret: this.platform.secret,
      maxOpenStores: this.platform.settings.get('database.max_open_stores'),
      postgresPoolSize: this.platform.settings.get('database.postgres_pool_size'),
      visitCacheSize: this.options.visitCacheSize,
    });
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
      const queue = this.queueOf(tenant);
      for (const record of records) {
        if (record.seq <= applied) continue;
        queue.hits.push({ line: record.line, seq: record.seq });
        this.queued += 1;
      }
      await this.applyQueue(queue);
    }
    // Everything the old files held is in the stores now.
    discardLeftover();
  }

  /** The tenant's site settings as tracking sees them (cached). */
  siteContexts(tenant: Tenant, siteIds: readonly number[]): Promise<Map<number, SiteContext>> {
    return this.sites.sites(tenantKeyOf(tenant), siteIds, (missing) => this.platform.withStore(tenant, (store) => loadSiteContexts(store.db, missing)));
  }

  /** Site or goal settings of the tenant changed in this process: tracking reads them afresh. */
  siteConfigChanged(tenant: Tenant): void {
    this.sites.invalidate(tenantKeyOf(tenant));
    this.applier?.notify({ type: 'site-config-changed', tenantKey: tenantKeyOf(tenant) });
  }

  /**
   * Raw tracking data of the tenant was deleted (privacy tools, retention): the
   * applier's cached visits and dictionary ids may point at rows that are gone.
   */
  rawDataDeleted(tenant: Tenant): void {
    this.applier?.notify({ type: 'raw-data-deleted', slug: tenant.slug });
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
    const firstSeq = journal.reserve(accepted.length);
    const queuedHits = accepted.map((hit, index): QueuedHit => {
      const seq = firstSeq + index;
      const line: JournalLine = { s: seq, t: tenant.slug, c: tenant.createdAt, h: hit.source, m: hit.meta };
      return { line: JSON.stringify(line), seq };
    });
    this.queued += accepted.length;
    try {
      await journal.write(
        queuedHits.map((entry) => entry.line),
        firstSeq,
      );
    } catch (error) {
      this.queued -= accepted.length;
      throw error;
    }
    const queue = this.queueOf(tenant);
    for (const entry of queuedHits) queue.hits.push(entry);
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
      void this.applyQueue(queue);
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
      this.log.error(`tracking: a hit for tenant ${tenant.slug} could not be stored and was dropped: ${error instanceof Error ? error.message : String(error)}`);
      this.settle(batch);
    }
  }

  private async write(tenant: Tenant, batch: readonly QueuedHit[]): Promise<void> {
    const journal = this.journal;
    const applier = this.applier;
    if (!journal || !applier) throw new Error('the tracking pipeline is not started');
    const settings = this.platform.settings.forTenant(tenant.slug);
    await applier.request({
      type: 'apply',
      tenant: { slug: tenant.slug, storage: tenant.storage, createdAt: tenant.createdAt },
      journalId: journal.id,
      policy: this.policyFor(tenant),
      customTimeWithoutTokenSeconds: settings.get('Tracker.tracking_requests_require_authentication_when_custom_timestamp_newer_than'),
      lines: batch.map((entry) => entry.line).join('\n'),
    });
    this.settle(batch);
  }

  private settle(batch: readonly QueuedHit[]): void {
    this.queued -= batch.length;
    this.applied += batch.length;
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

  /** Applies everything acknowledged, then refuses new hits, stops the applier and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.starting) {
      this.closed = true;
      return;
    }
    await this.starting.catch(() => undefined);
    await this.drain();
    this.closed = true;
    await this.applier?.stop();
    await this.journal?.close(this.queued === 0);
  }
}

/** The journal directory of a data directory, unless `[Tracker] journal_dir` names another. */
export function journalDirOf(dataDir: string, setting: string): string {
  return setting === '' ? join(dataDir, 'journal') : setting;
}

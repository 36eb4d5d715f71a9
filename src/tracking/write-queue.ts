import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import { flatParams, type Hit } from './hit.js';
import { journalAppliedSeq, refusalOf, type HitOutcome } from './hit-processor.js';
import { TrackingJournal, type JournalLine, type JournalRecord } from './journal.js';
import { SiteConfigCache, loadSiteContexts, type SiteContext } from './site-config.js';
import { tenantKeyOf, type ApplierMessage, type ApplierRequest, type ApplierSetup, type ApplierTenant } from './apply-worker.js';

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

/** The applier thread; requests that wait for an answer (drain, close) are numbered. */
class ApplierThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Set once the thread has failed or stopped: later requests fail at once. */
  private failure: Error | null = null;

  constructor(
    setup: ApplierSetup,
    onMessage: (message: ApplierMessage) => void,
    private readonly onFailure: (error: Error) => void,
  ) {
    // A roomy young generation (≈ 64 MB semi-spaces): the applier makes many short-lived
    // objects per hit, and fewer, larger scavenges cost about 12 % less CPU per hit.
    const resourceLimits = { maxYoungGenerationSizeMb: 192 };
    // Built, the applier is plain JavaScript. From sources (tsx, vitest) it is TypeScript:
    // the thread registers tsx's loader itself (loader flags do not reach worker threads on Node 20).
    if (import.meta.url.endsWith('.ts')) {
      const source = new URL('./apply-worker.ts', import.meta.url).href;
      this.worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`, { eval: true, workerData: setup, resourceLimits });
    } else {
      this.worker = new Worker(new URL('./apply-worker.js', import.meta.url), { workerData: setup, resourceLimits });
    }
    this.worker.on('message', (message: ApplierMessage) => {
      if (message.type !== 'done') {
        onMessage(message);
        return;
      }
      const waiting = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      this.updateRef();
      waiting?.resolve();
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.failAll(error);
      this.onFailure(error);
    });
    this.worker.on('exit', (code) => {
      if (this.failure || this.stopping) return;
      this.failure = new Error(`the tracking applier thread stopped (exit code ${code})`);
      this.failAll(this.failure);
      this.onFailure(this.failure);
    });
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }

  post(message: Extract<ApplierRequest, { type: 'hits' | 'site-config-changed' | 'raw-data-deleted' }>): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  request(message: { readonly type: 'drain'; readonly slug: string | null } | { readonly type: 'close' }): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.updateRef();
      this.worker.postMessage({ ...message, id });
    });
  }

  private busy = false;

  /** An idle applier must not keep the process alive; one with hits to write, or an answer to give, does. */
  keepAlive(busy: boolean): void {
    this.busy = busy;
    this.updateRef();
  }

  private updateRef(): void {
    if (this.busy || this.waiting.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private stopping = false;

  /** Whether the thread is running (readiness). */
  get healthy(): boolean {
    return this.failure === null;
  }

  async stop(): Promise<void> {
    await this.request({ type: 'close' }).catch(() => undefined);
    this.stopping = true;
    await this.worker.terminate();
  }
}

/**
 * The tracking pipeline of one server process.
 *
 * A hit is checked against its site (cached settings), appended to the journal,
 * and acknowledged once the journal write returned: from then on it survives a
 * crash. Acknowledged hits go to the applier thread (apply-worker.ts), which
 * writes them to their tenant's store in one transaction per batch (full batch,
 * `intervalMs` elapsed, or a reader asking with `drain`). The transaction also
 * records how far the journal is applied, so replaying the journal after a crash
 * stores every acknowledged hit exactly once.
 *
 * Tenants have their own queues: one tenant's slow store never delays another's.
 */
export class TrackingWriter {
  private journal: TrackingJournal | null = null;
  private applier: ApplierThread | null = null;
  private starting: Promise<void> | null = null;
  private queued = 0;
  private applied = 0;
  private closed = false;
  private log: WriterLog = { error: (message) => console.error(message) };
  private readonly sites = new SiteConfigCache(30_000);
  /** Hits journaled in this turn of the event loop, handed to the applier together. */
  private outbox = new Map<string, { tenant: ApplierTenant; lines: string[] }>();
  private outboxScheduled = false;

  constructor(
    private readonly platform: Platform,
    private readonly options: WriterOptions,
  ) {}

  /** Acknowledged hits not yet in their stores. */
  get queuedHits(): number {
    return this.queued;
  }

  /** False once the applier thread has failed: the server should be taken out of rotation and restarted. */
  get healthy(): boolean {
    return this.applier?.healthy ?? true;
  }

  /** Hits written to their stores (or dropped after retries) since start. */
  get appliedHits(): number {
    return this.applied;
  }

  /** Opens the journal, starts the applier thread and applies what a previous process left. Idempotent. */
  start(log?: WriterLog): Promise<void> {
    if (log) this.log = log;
    this.starting ??= this.recover();
    return this.starting;
  }

  private async recover(): Promise<void> {
    const { journal, leftover, discardLeftover } = TrackingJournal.open(this.options.journalDir, { fsync: this.options.fsync });
    this.journal = journal;
    const applier = new ApplierThread(
      {
        dataDir: this.platform.paths.dataDir,
        secret: this.platform.secret,
        maxOpenStores: this.platform.settings.get('database.max_open_stores'),
        storeIdleMs: this.platform.settings.get('database.store_idle_timeout_seconds') * 1000,
        postgresPoolSize: this.platform.settings.get('database.postgres_pool_size'),
        visitCacheSize: this.options.visitCacheSize,
        maxBatch: this.options.maxBatch,
        intervalMs: this.options.intervalMs,
      },
      (message) => this.onApplierMessage(message),
      (error) =>
        this.log.error(`tracking: the applier thread failed (${error.message}); hits are still acknowledged into the journal and are stored at the next start`),
    );
    this.applier = applier;
    applier.keepAlive(false);
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
      const lines = records.filter((record) => record.seq > applied).map((record) => record.line);
      if (lines.length === 0) continue;
      this.queued += lines.length;
      applier.keepAlive(true);
      applier.post({ type: 'hits', groups: [{ tenant: this.applierTenant(tenant), lines: lines.join('\n') }] });
    }
    await applier.request({ type: 'drain', slug: null });
    // Everything the old files held is in the stores now.
    discardLeftover();
  }

  private onApplierMessage(message: ApplierMessage): void {
    if (message.type === 'log') {
      this.log.error(message.message);
      return;
    }
    if (message.type !== 'applied') return;
    this.queued -= message.seqs.length;
    this.applied += message.seqs.length;
    this.journal?.markApplied(message.seqs);
    if (this.queued === 0) this.applier?.keepAlive(false);
  }

  private applierTenant(tenant: Tenant): ApplierTenant {
    const settings = this.platform.settings.forTenant(tenant.slug);
    return {
      slug: tenant.slug,
      storage: tenant.storage,
      createdAt: tenant.createdAt,
      journalId: this.journal?.id ?? '',
      policy: {
        visitLengthSeconds: settings.get('Tracker.visit_standard_length'),
        ipAnonymizationBytes: settings.get('Tracker.ip_anonymization_bytes'),
        honorDoNotTrack: settings.get('Tracker.honor_do_not_track'),
      },
      customTimeWithoutTokenSeconds: settings.get('Tracker.tracking_requests_require_authentication_when_custom_timestamp_newer_than'),
    };
  }

  /** The tenant's site settings as tracking sees them (cached). */
  siteContexts(tenant: Tenant, siteIds: readonly number[]): Promise<Map<number, SiteContext>> {
    return this.sites.sites(tenantKeyOf(tenant), siteIds, (missing) => this.platform.withStore(tenant, (store) => loadSiteContexts(store.db, missing)));
  }

  /** Site or goal settings of the tenant changed in this process: tracking reads them afresh. */
  siteConfigChanged(tenant: Tenant): void {
    this.sites.invalidate(tenantKeyOf(tenant));
    this.applier?.post({ type: 'site-config-changed', tenantKey: tenantKeyOf(tenant) });
  }

  /**
   * Raw tracking data of the tenant was deleted (privacy tools, retention): the
   * applier's cached visits and dictionary ids may point at rows that are gone.
   */
  rawDataDeleted(tenant: Tenant): void {
    this.applier?.post({ type: 'raw-data-deleted', slug: tenant.slug });
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
    const lines = accepted.map((hit, index) => {
      // `s` first: the applier reads it without parsing the line.
      const line: JournalLine = { s: firstSeq + index, t: tenant.slug, c: tenant.createdAt, p: flatParams(hit.params), m: hit.meta };
      return JSON.stringify(line);
    });
    this.queued += accepted.length;
    try {
      await journal.write(lines, firstSeq);
    } catch (error) {
      this.queued -= accepted.length;
      throw error;
    }
    this.handOver(tenant, lines);
    return outcomes;
  }

  /** Queues journaled lines for the applier; everything of one turn of the event loop goes in one message. */
  private handOver(tenant: Tenant, lines: readonly string[]): void {
    let group = this.outbox.get(tenant.slug);
    if (!group || group.tenant.createdAt !== tenant.createdAt) {
      if (group) this.flushOutbox();
      group = { tenant: this.applierTenant(tenant), lines: [] };
      this.outbox.set(tenant.slug, group);
    }
    for (const line of lines) group.lines.push(line);
    if (!this.outboxScheduled) {
      this.outboxScheduled = true;
      setImmediate(() => this.flushOutbox());
    }
  }

  private flushOutbox(): void {
    this.outboxScheduled = false;
    if (this.outbox.size === 0) return;
    const groups = [...this.outbox.values()].map((group) => ({ tenant: group.tenant, lines: group.lines.join('\n') }));
    this.outbox = new Map();
    this.applier?.keepAlive(true);
    this.applier?.post({ type: 'hits', groups });
  }

  /** Applies every acknowledged hit of the tenant (or of all tenants) before returning: readers call this first. */
  async drain(tenant?: Tenant): Promise<void> {
    if (!this.applier) return;
    this.flushOutbox();
    await this.applier.request({ type: 'drain', slug: tenant?.slug ?? null });
  }

  /** Applies everything acknowledged, then refuses new hits, stops the applier and closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.starting) {
      this.closed = true;
      return;
    }
    await this.starting.catch(() => undefined);
    await this.drain().catch(() => undefined);
    this.closed = true;
    await this.applier?.stop();
    await this.journal?.close(this.queued === 0);
  }
}

/** The journal directory of a data directory, unless `[Tracker] journal_dir` names another. */
export function journalDirOf(dataDir: string, setting: string): string {
  return setting === '' ? join(dataDir, 'journal') : setting;
}

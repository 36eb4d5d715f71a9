/**
 * The tracking applier, in its own thread: turns journaled hits into visits and
 * actions in the tenants' stores. The main thread parses, checks, journals and
 * acknowledges hits, then hands them over here; this thread batches them per
 * tenant and does all the database work, so the two run on two cores and the
 * applier never waits for the main thread between batches. It opens the tenant
 * stores itself (its own SQLite handles or PostgreSQL pools) and keeps the caches
 * that make a batch cheap: site settings, latest visits and dictionary ids.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { describeError } from '../core/errors.js';
import { dataPaths } from '../core/paths.js';
import { StoreIdentityError, verifyStoreIdentity } from '../storage/store-identity.js';
import { TenantStores, type TenantStoreTarget } from '../storage/tenant-stores.js';
import { HitError, paramsOf, paramsOfFlat, parseHit, type Hit } from './hit.js';
import { markJournalApplied, processHits, type TrackingPolicy, type VisitSnapshot } from './hit-processor.js';
import type { JournalLine } from './journal.js';
import { SiteConfigCache, loadSiteContexts } from './site-config.js';

export interface ApplierSetup {
  readonly dataDir: string;
  readonly secret: string;
  readonly maxOpenStores: number;
  readonly storeIdleMs: number;
  readonly postgresPoolSize: number;
  readonly visitCacheSize: number;
  /** Hits of one tenant applied in one transaction at most. */
  readonly maxBatch: number;
  /** How long hits of a tenant may wait to share a transaction. */
  readonly intervalMs: number;
}

/** A tenant as the applier needs it: where its store is, which incarnation, and its tracking settings. */
export interface ApplierTenant extends TenantStoreTarget {
  readonly createdAt: string;
  readonly journalId: string;
  readonly policy: TrackingPolicy;
  readonly customTimeWithoutTokenSeconds: number;
}

export type ApplierRequest =
  /** Journal lines (JSON, one per hit, newline-separated: one string is cheaper to pass), in journal order. */
  | { readonly type: 'hits'; readonly groups: readonly { readonly tenant: ApplierTenant; readonly lines: string }[] }
  /** Apply everything queued (for one tenant, or all), then answer. */
  | { readonly type: 'drain'; readonly id: number; readonly slug: string | null }
  | { readonly type: 'site-config-changed'; readonly tenantKey: string }
  | { readonly type: 'raw-data-deleted'; readonly slug: string }
  | { readonly type: 'close'; readonly id: number };

export type ApplierMessage =
  /** These journal records are in their stores (or were dropped after retries): their files may go. */
  | { readonly type: 'applied'; readonly seqs: readonly number[] }
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'log'; readonly message: string };

export function tenantKeyOf(tenant: { readonly slug: string; readonly createdAt: string }): string {
  return `${tenant.slug}\u0000${tenant.createdAt}`;
}

interface QueuedHit {
  readonly line: string;
  readonly seq: number;
}

/**
 * Queued lines stay in the strings they arrived in (newline-separated) until a
 * batch takes them. A backlog of single line strings would be copied by every
 * young-generation GC; a large string is allocated outside it and never copied.
 */
interface QueuedChunk {
  readonly text: string;
  /** The text's lines, split when a batch first takes from it. */
  lines: string[] | null;
  /** Lines already taken by batches. */
  taken: number;
}

interface TenantQueue {
  tenant: ApplierTenant;
  readonly chunks: QueuedChunk[];
  /** Lines queued and not yet taken. */
  size: number;
  timer: NodeJS.Timeout | null;
  applying: Promise<void> | null;
}

/** Takes up to `max` lines off the front of the queue, in journal order. */
function takeBatch(queue: TenantQueue, max: number): QueuedHit[] {
  const batch: QueuedHit[] = [];
  while (batch.length < max && queue.chunks.length > 0) {
    const chunk = queue.chunks[0]!;
    const lines = (chunk.lines ??= chunk.text.split('\n'));
    const end = Math.min(lines.length, chunk.taken + max - batch.length);
    for (let i = chunk.taken; i < end; i += 1) {
      const line = lines[i]!;
      batch.push({ line, seq: seqOf(line) });
    }
    queue.size -= end - chunk.taken;
    chunk.taken = end;
    if (end === lines.length) queue.chunks.shift();
  }
  return batch;
}

const RETRY_LIMIT = 5;

/**
 * The batch's hits, parsed one at a time as they are applied: a hit is garbage
 * once written, instead of the whole batch's hits outliving young GCs.
 */
function* hitsOf(batch: readonly QueuedHit[], tenant: ApplierTenant): Generator<Hit> {
  for (const entry of batch) {
    const line = JSON.parse(entry.line) as JournalLine;
    const params = line.p ? paramsOfFlat(line.p) : line.h ? paramsOf(line.h) : null;
    if (!params) continue;
    try {
      yield parseHit(params, line.m, { customTimeWithoutTokenSeconds: tenant.customTimeWithoutTokenSeconds, checked: true });
    } catch (error) {
      // Checked before it was acknowledged; a hit that no longer parses is dropped.
      if (!(error instanceof HitError)) throw error;
    }
  }
}

function lineCount(text: string): number {
  let count = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}

function seqOf(line: string): number {
  // Lines start with {"s":<seq>, (JournalLine's first key): read it without parsing the whole line.
  return Number(line.slice(5, line.indexOf(',', 5)));
}

/**
 * Stores are opened here only for hits the main thread accepted, after it read
 * the tenant's sites through its own pool, which brought the store up to date.
 */
export class Applier {
  private readonly stores: TenantStores;
  private readonly sites = new SiteConfigCache(30_000);
  /** Dictionary ids known to be committed, all tenants in one budget (keys carry the tenant). */
  private readonly names = new LRUCache<string, number>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (_id, key) => 2 * key.length + 64 });
  private readonly visits: LRUCache<string, VisitSnapshot> | null;
  private readonly generations = new Map<string, number>();
  private readonly queues = new Map<string, TenantQueue>();
  private closing = false;

  constructor(
    private readonly setup: ApplierSetup,
    private readonly send: (message: ApplierMessage) => void,
  ) {
    this.stores = new TenantStores({ paths: dataPaths(setup.dataDir), secret: setup.secret, maxOpen: setup.maxOpenStores, idleMs: setup.storeIdleMs, postgresPoolSize: setup.postgresPoolSize, assumeMigrated: true });
    this.visits = setup.visitCacheSize > 0 ? new LRUCache<string, VisitSnapshot>({ max: setup.visitCacheSize }) : null;
  }

  handle(request: ApplierRequest): void {
    switch (request.type) {
      case 'hits':
        for (const group of request.groups) this.enqueue(group.tenant, group.lines);
        return;
      case 'drain':
        void this.drain(request.slug).then(() => this.send({ type: 'done', id: request.id }));
        return;
      case 'site-config-changed':
        this.sites.invalidate(request.tenantKey);
        return;
      case 'raw-data-deleted':
        this.generations.set(request.slug, (this.generations.get(request.slug) ?? 0) + 1);
        return;
      case 'close':
        this.closing = true;
        void this.drain(null)
          .then(() => this.stores.closeAll())
          .catch((error: unknown) => this.send({ type: 'log', message: `tracking: closing the applier's stores failed: ${describeError(error)}` }))
          .then(() => this.send({ type: 'done', id: request.id }));
        return;
    }
  }

  private enqueue(tenant: ApplierTenant, lines: string): void {
    let queue = this.queues.get(tenant.slug);
    if (!queue || queue.tenant.createdAt !== tenant.createdAt) {
      queue = { tenant, chunks: [], size: 0, timer: null, applying: null };
      this.queues.set(tenant.slug, queue);
    }
    queue.tenant = tenant; // the latest settings
    queue.chunks.push({ text: lines, lines: null, taken: 0 });
    queue.size += lineCount(lines);
    this.schedule(queue);
  }

  private schedule(queue: TenantQueue): void {
    if (queue.applying) return; // the running apply picks the rest up
    if (queue.size >= this.setup.maxBatch || this.setup.intervalMs === 0) {
      void this.applyQueue(queue);
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = null;
      void this.applyQueue(queue);
    }, this.setup.intervalMs);
  }

  private async drain(slug: string | null): Promise<void> {
    const queues = slug === null ? [...this.queues.values()] : [this.queues.get(slug)].filter((q): q is TenantQueue => q !== undefined);
    await Promise.all(queues.map((queue) => this.applyQueue(queue)));
  }

  /** Applies the queue's hits batch by batch until it is empty; one apply per tenant at a time, in journal order. */
  private applyQueue(queue: TenantQueue): Promise<void> {
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = null;
    queue.applying ??= (async () => {
      try {
        while (queue.size > 0) await this.applyBatch(queue.tenant, takeBatch(queue, this.setup.maxBatch));
      } finally {
        queue.applying = null;
        if (queue.size === 0 && this.queues.get(queue.tenant.slug) === queue) this.queues.delete(queue.tenant.slug);
      }
    })();
    return queue.applying;
  }

  /**
   * One transaction for the batch. A failing batch is split in halves so that one
   * bad hit cannot hold back the others; a single hit is retried with a growing
   * pause and, if it still fails, dropped with an error in the log.
   */
  private async applyBatch(tenant: ApplierTenant, batch: readonly QueuedHit[], attempt = 0): Promise<void> {
    try {
      await this.write(tenant, batch);
    } catch (error) {
      if (error instanceof StoreIdentityError) {
        // The tenant was deleted (and its slug taken again): its hits went with it.
        this.send({ type: 'log', message: `tracking: ${batch.length} hit(s) dropped: ${error.message}` });
        this.send({ type: 'applied', seqs: batch.map((entry) => entry.seq) });
        return;
      }
      if (batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        await this.applyBatch(tenant, batch.slice(0, middle));
        await this.applyBatch(tenant, batch.slice(middle));
        return;
      }
      if (attempt < RETRY_LIMIT && !this.closing) {
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
        await this.applyBatch(tenant, batch, attempt + 1);
        return;
      }
      this.send({ type: 'log', message: `tracking: a hit for tenant ${tenant.slug} could not be stored and was dropped: ${describeError(error)}` });
    }
    this.send({ type: 'applied', seqs: batch.map((entry) => entry.seq) });
  }

  private async write(tenant: ApplierTenant, batch: readonly QueuedHit[]): Promise<void> {
    let lastSeq = 0;
    for (const entry of batch) lastSeq = Math.max(lastSeq, entry.seq);
    const tenantKey = tenantKeyOf(tenant);
    const key = `${tenantKey}\u0000${this.generations.get(tenant.slug) ?? 0}`;
    const names = { get: (k: string) => this.names.get(`${key}\u0000${k}`), set: (k: string, id: number) => this.names.set(`${key}\u0000${k}`, id) };
    const cache = this.visits;
    const visits = cache ? { get: (k: string) => cache.get(`${key}\u0000${k}`), set: (k: string, v: VisitSnapshot) => cache.set(`${key}\u0000${k}`, v) } : undefined;
    const result = await this.stores.use(tenant, (store) =>
      store.db.transaction().execute(async (trx) => {
        const site = (siteId: number) => this.sites.site(tenantKey, siteId, (missing) => loadSiteContexts(trx, missing));
        // Checked again inside the transaction: the store may have been replaced since it was opened.
        await verifyStoreIdentity(trx, tenant.slug, tenant.createdAt);
        const processed = await processHits(trx, hitsOf(batch, tenant), { policy: tenant.policy, site, names, ...(visits ? { visits } : {}), ...(store.direct ? { direct: store.direct } : {}) });
        await markJournalApplied(trx, tenant.journalId, lastSeq);
        return processed;
      }),
    );
    result.commit();
  }
}

if (parentPort) {
  const port = parentPort;
  const applier = new Applier(workerData as ApplierSetup, (message) => port.postMessage(message));
  port.on('message', (request: ApplierRequest) => applier.handle(request));
}

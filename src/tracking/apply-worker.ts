/**
 * The tracking applier, in its own thread: turns journaled hits into visits and
 * actions in the tenants' stores. The main thread only parses, checks, journals
 * and acknowledges; this thread does the database work, so the two run on two
 * cores. It opens the tenant stores itself (its own SQLite handles or PostgreSQL
 * pools) and keeps the caches that make a batch cheap: site settings, the latest
 * visit per visitor and the dictionary ids.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { describeError } from '../core/errors.js';
import { dataPaths } from '../core/paths.js';
import { TenantStores, type TenantStoreTarget } from '../storage/tenant-stores.js';
import { HitError, paramsOf, parseHit, type Hit } from './hit.js';
import { markJournalApplied, processHits, type TrackingPolicy, type VisitSnapshot } from './hit-processor.js';
import type { JournalLine } from './journal.js';
import { SiteConfigCache, loadSiteContexts } from './site-config.js';

export interface ApplierSetup {
  readonly dataDir: string;
  readonly secret: string;
  readonly maxOpenStores: number;
  readonly postgresPoolSize: number;
  readonly visitCacheSize: number;
}

/** A tenant as the applier needs it: where its store is, and which incarnation it is. */
export interface ApplierTenant extends TenantStoreTarget {
  readonly createdAt: string;
}

export type ApplierRequest =
  | {
      readonly type: 'apply';
      readonly id: number;
      readonly tenant: ApplierTenant;
      readonly journalId: string;
      readonly policy: TrackingPolicy;
      readonly customTimeWithoutTokenSeconds: number;
      /** Journal lines (JSON, one per hit, newline-separated: one string is cheaper to pass), in journal order. */
      readonly lines: string;
    }
  | { readonly type: 'site-config-changed'; readonly tenantKey: string }
  | { readonly type: 'raw-data-deleted'; readonly slug: string }
  | { readonly type: 'close'; readonly id: number };

export type ApplierReply = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly error: string };

export function tenantKeyOf(tenant: { readonly slug: string; readonly createdAt: string }): string {
  return `${tenant.slug}\u0000${tenant.createdAt}`;
}

class Applier {
  private readonly stores: TenantStores;
  private readonly sites = new SiteConfigCache(30_000);
  /** Dictionary ids known to be committed, all tenants in one budget (keys carry the tenant). */
  private readonly names = new LRUCache<string, number>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (_id, key) => 2 * key.length + 64 });
  private readonly visits: LRUCache<string, VisitSnapshot> | null;
  private readonly generations = new Map<string, number>();

  constructor(setup: ApplierSetup) {
    this.stores = new TenantStores({ paths: dataPaths(setup.dataDir), secret: setup.secret, maxOpen: setup.maxOpenStores, postgresPoolSize: setup.postgresPoolSize });
    this.visits = setup.visitCacheSize > 0 ? new LRUCache<string, VisitSnapshot>({ max: setup.visitCacheSize }) : null;
  }

  async apply(request: Extract<ApplierRequest, { type: 'apply' }>): Promise<void> {
    const { tenant } = request;
    const hits: Hit[] = [];
    let lastSeq = 0;
    for (const text of request.lines.split('\n')) {
      const line = JSON.parse(text) as JournalLine;
      lastSeq = Math.max(lastSeq, line.s);
      const params = paramsOf(line.h);
      if (!params) continue;
      try {
        hits.push(parseHit(line.h, params, line.m, { customTimeWithoutTokenSeconds: request.customTimeWithoutTokenSeconds }));
      } catch (error) {
        // Checked before it was acknowledged; a hit that no longer parses is dropped.
        if (!(error instanceof HitError)) throw error;
      }
    }
    const key = `${tenantKeyOf(tenant)}\u0000${this.generations.get(tenant.slug) ?? 0}`;
    const names = { get: (k: string) => this.names.get(`${key}\u0000${k}`), set: (k: string, id: number) => this.names.set(`${key}\u0000${k}`, id) };
    const cache = this.visits;
    const visits = cache ? { get: (k: string) => cache.get(`${key}\u0000${k}`), set: (k: string, v: VisitSnapshot) => cache.set(`${key}\u0000${k}`, v) } : undefined;
    const result = await this.stores.use(tenant, async (store) => {
      const sites = await this.sites.sites(tenantKeyOf(tenant), hits.map((hit) => hit.siteId), (missing) => loadSiteContexts(store.db, missing));
      return store.db.transaction().execute(async (trx) => {
        const processed = await processHits(trx, hits, { policy: request.policy, sites, names, ...(visits ? { visits } : {}) });
        await markJournalApplied(trx, request.journalId, lastSeq);
        return processed;
      });
    });
    result.commit();
  }

  handle(request: ApplierRequest, reply: (message: ApplierReply) => void): void {
    switch (request.type) {
      case 'apply':
        this.apply(request).then(
          () => reply({ id: request.id, ok: true }),
          (error: unknown) => reply({ id: request.id, ok: false, error: describeError(error) }),
        );
        return;
      case 'site-config-changed':
        this.sites.invalidate(request.tenantKey);
        return;
      case 'raw-data-deleted':
        this.generations.set(request.slug, (this.generations.get(request.slug) ?? 0) + 1);
        return;
      case 'close':
        this.stores.closeAll().then(
          () => reply({ id: request.id, ok: true }),
          (error: unknown) => reply({ id: request.id, ok: false, error: describeError(error) }),
        );
        return;
    }
  }
}

if (parentPort) {
  const port = parentPort;
  const applier = new Applier(workerData as ApplierSetup);
  port.on('message', (request: ApplierRequest) => applier.handle(request, (message) => port.postMessage(message)));
}

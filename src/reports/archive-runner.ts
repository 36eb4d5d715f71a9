import { PluraError } from '../core/errors.js';
import type { Platform } from '../platform/platform.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import { recordsOf, type ArchiveScope } from './archiver.js';
import { addDays, dayInZone, periodOf, type Period } from './periods.js';

/**
 * Archiving a tenant's sites ahead of requests: `plura core:archive` and the
 * in-process scheduler. Each period is looked at in order day → week → month →
 * year, and (re)built only when it is missing or out of date, so a run over an
 * archived range costs a few queries per period.
 */

export interface ArchiveRunOptions {
  /** Only these sites (default: all of the tenant's). */
  readonly siteIds?: readonly number[];
  /** Every day in [start, end] and the weeks, months and years containing them. */
  readonly dateRange?: readonly [string, string];
  readonly onProgress?: (done: number, total: number, what: string) => void;
  readonly nowMs?: number;
}

export interface ArchiveRunResult {
  readonly sites: number;
  readonly periods: number;
  readonly seconds: number;
}

export function archiveScopeFor(platform: Platform, tenant: Tenant, store: TenantStore, site: { id: number; timezone: string }, nowMs?: number): ArchiveScope {
  const settings = platform.settings.forTenant(tenant.slug);
  const maxRows = settings.get('General.datatable_archiving_maximum_rows');
  return {
    db: store.db,
    tenantKey: `${tenant.slug}\u0000${tenant.createdAt}`,
    site,
    build: true,
    ttlSeconds: settings.get('General.time_before_today_archive_considered_outdated'),
    limits: { maxRows, maxSubRows: Math.max(100, Math.floor(maxRows / 5)) },
    ...(store.direct ? { direct: store.direct } : {}),
    ...(nowMs !== undefined ? { nowMs } : {}),
  };
}

/** Days to look at without a range: today, yesterday and every day hits arrived for late. */
async function defaultDays(store: TenantStore, siteId: number, timezone: string, nowMs: number): Promise<string[]> {
  const today = dayInZone(timezone, nowMs);
  const days = new Set([today, addDays(today, -1)]);
  const late = await store.db.selectFrom('archive_invalidation').select('day').where('site_id', '=', siteId).execute();
  for (const row of late) if (row.day <= today) days.add(row.day);
  return [...days].sort();
}

function periodsFor(days: readonly string[]): Period[] {
  const seen = new Set<string>();
  const periods: Period[] = [];
  for (const kind of ['day', 'week', 'month', 'year'] as const) {
    for (const day of days) {
      const period = periodOf(kind, day);
      const key = `${kind}:${period.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      periods.push(period);
    }
  }
  return periods;
}

export function daysBetween(start: string, end: string): string[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end) || Number.isNaN(Date.parse(start)) || Number.isNaN(Date.parse(end))) {
    throw new PluraError('invalid_input', `The date range '${start},${end}' must be two dates written YYYY-MM-DD.`);
  }
  if (end < start) throw new PluraError('invalid_input', `The date range '${start},${end}' ends before it starts.`);
  const days: string[] = [];
  for (let day = start; day <= end; day = addDays(day, 1)) {
    days.push(day);
    if (days.length > 20 * 366) throw new PluraError('invalid_input', 'A date range to archive can span at most 20 years.');
  }
  return days;
}

/** Archives one tenant's sites; returns how much it looked at. */
export async function archiveTenant(platform: Platform, tenant: Tenant, options: ArchiveRunOptions = {}): Promise<ArchiveRunResult> {
  const started = performance.now();
  const nowMs = options.nowMs ?? Date.now();
  return platform.withStore(tenant, async (store) => {
    await platform.tracking.drain(tenant);
    let query = store.db.selectFrom('site').select(['id', 'timezone']).orderBy('id');
    if (options.siteIds) query = query.where('id', 'in', options.siteIds.length > 0 ? [...options.siteIds] : [-1]);
    const sites = await query.execute();
    if (options.siteIds) {
      const missing = options.siteIds.find((id) => !sites.some((site) => site.id === id));
      if (missing !== undefined) throw new PluraError('unknown_site', `Tenant "${tenant.slug}" has no site ${missing}.`);
    }
    const jobs: { site: { id: number; timezone: string }; period: Period }[] = [];
    for (const site of sites) {
      const today = dayInZone(site.timezone, nowMs);
      const days = options.dateRange ? daysBetween(options.dateRange[0], options.dateRange[1]).filter((day) => day <= today) : await defaultDays(store, site.id, site.timezone, nowMs);
      for (const period of periodsFor(days)) jobs.push({ site, period });
    }
    let done = 0;
    for (const job of jobs) {
      await recordsOf(archiveScopeFor(platform, tenant, store, job.site, nowMs), job.period, null, []);
      done += 1;
      options.onProgress?.(done, jobs.length, `site ${job.site.id} ${job.period.kind} ${job.period.label}`);
      // A real turn of the event loop between periods (SQLite work resolves as microtasks only).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { sites: sites.length, periods: jobs.length, seconds: (performance.now() - started) / 1000 };
  });
}

/**
 * Archives every tenant on its own cadence (`General.archiving_interval_seconds`,
 * per tenant). Tenants run side by side, a few at a time: one tenant's long run
 * holds one slot and never the others' turn.
 */
export class ArchiveScheduler {
  private readonly lastRun = new Map<string, number>();
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly platform: Platform,
    private readonly options: { tickMs?: number; concurrency?: number; log?: (message: string) => void } = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.tickMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Starts the runs that are due (exposed for tests); resolves once they are started, not finished. */
  async tick(nowMs = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const tenants = await this.platform.tenants.list();
      for (const tenant of tenants) {
        if (this.running.size >= (this.options.concurrency ?? 4)) break;
        if (tenant.status !== 'active' || this.running.has(tenant.slug)) continue;
        const interval = this.platform.settings.forTenant(tenant.slug).get('General.archiving_interval_seconds');
        if (interval === 0) continue;
        const last = this.lastRun.get(tenant.slug);
        if (last !== undefined && nowMs - last < interval * 1000) continue;
        this.lastRun.set(tenant.slug, nowMs);
        this.running.add(tenant.slug);
        void archiveTenant(this.platform, tenant)
          .catch((error: unknown) => this.options.log?.(`archiving tenant ${tenant.slug} failed: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => this.running.delete(tenant.slug));
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Tenants whose run is in progress. */
  get active(): readonly string[] {
    return [...this.running];
  }
}

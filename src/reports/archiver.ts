import type { Kysely } from 'kysely';
import type { DirectSqlite } from '../storage/database.js';
import type { TenantDatabase } from '../storage/tenant-database.js';
import { findArchive, invalidationMark, readRecords, saveArchive, type ArchiveKey } from './archive-store.js';
import { mergeNumeric, mergeTables, renameColumn, sortForArchive, truncateTable, type NumericRecord, type ReportTable } from './datatable.js';
import { buildDay, type BuildLimits, type DaySite, type RecordValue, type Records } from './day-builder.js';
import { addDays, dayInZone, dayRange, periodOf, subPeriods, type Period } from './periods.js';
import type { Segment } from './segments.js';

/**
 * Finds or builds the archives a report needs. A day is built from raw hits; a
 * week or month from its days, a year from its months; a range is summed from the
 * largest whole periods inside it (not stored). An archive is reused while no late
 * hit changed its days (invalidation mark) and, for a period not over when it was
 * built, while it is younger than the configured time to live.
 */

export interface ArchiveScope {
  readonly db: Kysely<TenantDatabase>;
  /** Tells tenants apart in the in-flight build map (slug and creation time). */
  readonly tenantKey: string;
  readonly site: DaySite;
  /** Build what is missing or out of date (browser archiving, or the archiver itself). */
  readonly build: boolean;
  /** Seconds an archive of a period not yet over stays fresh. */
  readonly ttlSeconds: number;
  readonly limits: BuildLimits;
  readonly nowMs?: number;
  /** SQLite stores: rows read without an object per row. */
  readonly direct?: DirectSqlite;
}

/** Numbers of distinct visitors are sets until they are counted: they add up over a week or month by union. */
const SET_RECORDS = new Set(['VisitsSummary_visitors', 'VisitsSummary_users']);
const NUMERIC_RECORDS = new Set(['VisitsSummary', 'Actions', 'Goals']);

const inFlight = new Map<string, Promise<Records>>();

function isNumeric(name: string): boolean {
  return NUMERIC_RECORDS.has(name);
}

function emptyRecords(names: readonly string[] | null): Records {
  const records: Records = new Map();
  for (const name of names ?? []) records.set(name, isNumeric(name) ? {} : []);
  return records;
}

/** Sums records of sub-periods. `countVisitors`: distinct visitors are counted (week, month) rather than dropped (year, range). */
export function mergeRecords(parts: readonly Records[], countVisitors: boolean, limits: BuildLimits): Records {
  const names = new Set<string>();
  for (const part of parts) for (const name of part.keys()) names.add(name);
  const merged: Records = new Map();
  for (const name of names) {
    const values = parts.map((part) => part.get(name)).filter((value): value is RecordValue => value !== undefined);
    if (SET_RECORDS.has(name)) {
      if (!countVisitors) continue;
      const union = new Set<string>();
      for (const value of values) for (const id of value as string[]) union.add(id);
      merged.set(name, [...union].sort());
    } else if (isNumeric(name)) {
      const sum: NumericRecord = {};
      for (const value of values) mergeNumeric(sum, value as NumericRecord);
      merged.set(name, sum);
    } else {
      const table = mergeTables(values as ReportTable[]);
      sortForArchive(table, 'nb_visits');
      merged.set(name, truncateTable(table, limits.maxRows, limits.maxSubRows));
    }
  }
  const summary = merged.get('VisitsSummary') as NumericRecord | undefined;
  if (summary) {
    const visitors = merged.get('VisitsSummary_visitors') as string[] | undefined;
    const users = merged.get('VisitsSummary_users') as string[] | undefined;
    if (countVisitors && visitors && users) {
      summary['nb_uniq_visitors'] = visitors.length;
      summary['nb_users'] = users.length;
    } else {
      // Matomo: no unique visitors for years and ranges (they would need raw data).
      delete summary['nb_uniq_visitors'];
      delete summary['nb_users'];
    }
  }
  return merged;
}

function children(key: ArchiveKey): Period[] {
  const result: Period[] = [];
  if (key.kind === 'year') {
    for (let month = periodOf('month', key.start); month.start <= key.end; month = periodOf('month', addDays(month.end, 1))) result.push(month);
  } else {
    for (let day = key.start; day <= key.end; day = addDays(day, 1)) result.push(periodOf('day', day));
  }
  return result;
}

async function build(scope: ArchiveScope, key: ArchiveKey, segment: Segment | null, today: string): Promise<Records> {
  const nowMs = scope.nowMs ?? Date.now();
  const builtAt = Math.floor(nowMs / 1000);
  // Read before the raw data: a late hit committed meanwhile leaves this mark behind, so the archive is redone.
  const mark = await invalidationMark(scope.db, key.siteId, key.start, key.end);
  let records: Records;
  if (key.kind === 'day') {
    records = await buildDay(scope.db, scope.site, key.start, segment, scope.limits, scope.direct);
  } else {
    const parts: Records[] = [];
    for (const child of children(key)) {
      if (child.start > today) break;
      parts.push(await recordsOf(scope, child, segment, null));
    }
    records = mergeRecords(parts, key.kind !== 'year', scope.limits);
    // Per-row unique visitors of days do not add up; Matomo names their sum so.
    for (const [name, value] of records) if (!isNumeric(name) && !SET_RECORDS.has(name)) renameColumn(value as ReportTable, 'nb_uniq_visitors', 'sum_daily_nb_uniq_visitors');
  }
  const periodOver = dayRange(scope.site.timezone, key.end)[1];
  await saveArchive(scope.db, key, { mark, builtAt, complete: builtAt >= periodOver }, records);
  return records;
}

/**
 * The records of one period (all of them when `names` is null). Missing or stale
 * archives are built when the scope allows it; otherwise what is stored is used,
 * and a period with no archive reads as empty.
 */
export async function recordsOf(scope: ArchiveScope, period: Period, segment: Segment | null, names: readonly string[] | null): Promise<Records> {
  const nowMs = scope.nowMs ?? Date.now();
  const today = dayInZone(scope.site.timezone, nowMs);
  if (period.start > today) return emptyRecords(names);
  if (period.kind === 'range') {
    const parts = await Promise.all(subPeriods(period, today).map((part) => recordsOf(scope, part, segment, names)));
    const merged = mergeRecords(parts, false, scope.limits);
    for (const [name, value] of merged) if (!isNumeric(name)) renameColumn(value as ReportTable, 'nb_uniq_visitors', 'sum_daily_nb_uniq_visitors');
    for (const name of names ?? []) if (!merged.has(name)) merged.set(name, isNumeric(name) ? {} : []);
    return merged;
  }
  const key: ArchiveKey = { siteId: scope.site.id, kind: period.kind, start: period.start, end: period.end, segment: segment?.definition ?? '' };
  const stored = await findArchive(scope.db, key);
  if (stored) {
    const fresh = scope.build
      ? stored.mark === (await invalidationMark(scope.db, key.siteId, key.start, key.end)) && (stored.complete || nowMs / 1000 - stored.builtAt < scope.ttlSeconds)
      : true;
    if (fresh) {
      const records = await readRecords(scope.db, stored.id, names ?? undefined);
      for (const name of names ?? []) if (!records.has(name)) records.set(name, isNumeric(name) ? {} : []);
      return records;
    }
  }
  if (!scope.build) return emptyRecords(names);
  const flightKey = `${scope.tenantKey}\u0000${key.siteId}\u0000${key.kind}\u0000${key.start}\u0000${key.segment}`;
  let building = inFlight.get(flightKey);
  if (!building) {
    building = build(scope, key, segment, today).finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, building);
  }
  const all = await building;
  if (!names) return all;
  return new Map(names.map((name) => [name, all.get(name) ?? (isNumeric(name) ? {} : [])]));
}

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { TenantDatabase } from '../storage/tenant-database.js';
import type { RecordValue, Records } from './day-builder.js';

/** Which stored archive: a site's day, week, month or year, for all visits or one segment. */
export interface ArchiveKey {
  readonly siteId: number;
  readonly kind: 'day' | 'week' | 'month' | 'year';
  readonly start: string;
  readonly end: string;
  /** The segment definition; '' for all visits. */
  readonly segment: string;
}

export interface StoredArchive {
  readonly id: number;
  readonly mark: number;
  readonly builtAt: number;
  readonly complete: boolean;
}

const DEFLATE_ABOVE = 2048;

export function encodeRecord(value: RecordValue): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  if (json.length <= DEFLATE_ABOVE) return Buffer.concat([Buffer.from('j'), json]);
  return Buffer.concat([Buffer.from('z'), deflateRawSync(json, { level: 3 })]);
}

export function decodeRecord(bytes: Uint8Array): RecordValue {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = buffer.subarray(1);
  const json = buffer[0] === 0x7a /* z */ ? inflateRawSync(body) : body;
  return JSON.parse(json.toString('utf8')) as RecordValue;
}

export async function findArchive(db: Kysely<TenantDatabase>, key: ArchiveKey): Promise<StoredArchive | undefined> {
  const row = await db
    .selectFrom('archive')
    .select(['id', 'mark', 'built_at', 'complete'])
    .where('site_id', '=', key.siteId)
    .where('period', '=', key.kind)
    .where('date1', '=', key.start)
    .where('segment', '=', key.segment)
    .executeTakeFirst();
  return row && { id: row.id, mark: Number(row.mark), builtAt: Number(row.built_at), complete: row.complete === 1 };
}

/** The records of an archive; all of them when `names` is absent. */
export async function readRecords(db: Kysely<TenantDatabase>, archiveId: number, names?: readonly string[]): Promise<Records> {
  if (names && names.length === 0) return new Map();
  let query = db.selectFrom('archive_record').select(['name', 'value']).where('archive_id', '=', archiveId);
  if (names) query = query.where('name', 'in', names);
  const rows = await query.execute();
  return new Map(rows.map((row) => [row.name, decodeRecord(row.value)]));
}

/**
 * The sum of the invalidation versions of the site's days in [start, end]. Late
 * hits raise a day's version in their own transaction, so an archive whose stored
 * mark differs from this was built before some of its hits arrived.
 */
export async function invalidationMark(db: Kysely<TenantDatabase>, siteId: number, start: string, end: string): Promise<number> {
  const row = await db
    .selectFrom('archive_invalidation')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('version'), eb.lit(0)).as('mark'))
    .where('site_id', '=', siteId)
    .where('day', '>=', start)
    .where('day', '<=', end)
    .executeTakeFirst();
  return Number(row?.mark ?? 0);
}

/** Replaces the archive of `key` with these records, in one transaction. */
export async function saveArchive(db: Kysely<TenantDatabase>, key: ArchiveKey, archive: { mark: number; builtAt: number; complete: boolean }, records: Records): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom('archive').select('id').where('site_id', '=', key.siteId).where('period', '=', key.kind).where('date1', '=', key.start).where('segment', '=', key.segment).execute();
    if (old.length > 0) {
      const ids = old.map((row) => row.id);
      await trx.deleteFrom('archive_record').where('archive_id', 'in', ids).execute();
      await trx.deleteFrom('archive').where('id', 'in', ids).execute();
    }
    const inserted = await trx
      .insertInto('archive')
      .values({ site_id: key.siteId, period: key.kind, date1: key.start, date2: key.end, segment: key.segment, mark: archive.mark, built_at: archive.builtAt, complete: archive.complete ? 1 : 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const rows = [...records].map(([name, value]) => ({ archive_id: inserted.id, name, value: encodeRecord(value) }));
    for (let i = 0; i < rows.length; i += 50) await trx.insertInto('archive_record').values(rows.slice(i, i + 50)).execute();
  });
}

/** Removes a deleted site's archives, invalidations, saved segments, annotations and custom dimensions (in the caller's transaction). */
export async function deleteSiteReports(db: Kysely<TenantDatabase>, siteId: number): Promise<void> {
  const ids = (await db.selectFrom('archive').select('id').where('site_id', '=', siteId).execute()).map((row) => row.id);
  for (let i = 0; i < ids.length; i += 500) await db.deleteFrom('archive_record').where('archive_id', 'in', ids.slice(i, i + 500)).execute();
  await db.deleteFrom('archive').where('site_id', '=', siteId).execute();
  await db.deleteFrom('archive_invalidation').where('site_id', '=', siteId).execute();
  await db.deleteFrom('saved_segment').where('site_id', '=', siteId).execute();
  await db.deleteFrom('annotation').where('site_id', '=', siteId).execute();
  await db.deleteFrom('custom_dimension').where('site_id', '=', siteId).execute();
}

import type { Generated } from 'kysely';

/**
 * Days whose archives are out of date: hits arrived for them after the day was
 * over (log imports, `cdt`). Each such batch raises the day's `version`; an archive
 * remembers the sum of the versions of its days when it was built, and is stale
 * once that sum has changed (see archive-store.ts).
 */
export interface ArchiveInvalidationTable {
  site_id: number;
  /** Calendar day in the site's time zone, YYYY-MM-DD. */
  day: string;
  /** Unix seconds of the latest batch that made the day stale. */
  invalidated_at: number;
  version: number;
}

/** One pre-computed set of reports: a site, a period, a segment. */
export interface ArchiveTable {
  id: Generated<number>;
  site_id: number;
  /** day | week | month | year */
  period: string;
  date1: string;
  date2: string;
  /** The segment definition, '' for all visits. */
  segment: string;
  /** Sum of the invalidation versions of its days when it was built. */
  mark: number;
  /** Unix seconds when its build began. */
  built_at: number;
  /** 1 when built after the period was over: final until invalidated. */
  complete: number;
}

/** One report of an archive: JSON, deflated when large (first byte: j or z). */
export interface ArchiveRecordTable {
  archive_id: number;
  name: string;
  value: Uint8Array;
}

/** Segments saved with the SegmentEditor: per user, shared with all users or one site optional. */
export interface SavedSegmentTable {
  id: Generated<number>;
  name: string;
  definition: string;
  /** Login of the creator (tenant user or platform user). */
  login: string;
  /** 0: all sites */
  site_id: number;
  enable_all_users: number;
  auto_archive: number;
  created_at: string;
  updated_at: string;
}

export interface AnnotationTable {
  id: Generated<number>;
  site_id: number;
  /** YYYY-MM-DD */
  day: string;
  note: string;
  starred: number;
  login: string;
  created_at: string;
}

/** Matomo's custom dimensions: `dimension<id>` in hits is reported with the configured scope. */
export interface CustomDimensionTable {
  site_id: number;
  id: number;
  name: string;
  /** visit | action */
  scope: string;
  active: number;
  case_sensitive: number;
  /** JSON of Matomo's extractions ([{dimension, pattern}]) */
  extractions: string;
}

export interface ReportsTables {
  archive_invalidation: ArchiveInvalidationTable;
  archive: ArchiveTable;
  archive_record: ArchiveRecordTable;
  saved_segment: SavedSegmentTable;
  annotation: AnnotationTable;
  custom_dimension: CustomDimensionTable;
}

/**
 * Days whose archives are out of date: hits arrived for them after the day was
 * over (log imports, `cdt`). The archiver rebuilds such a day and every period
 * containing it, then removes the row.
 */
export interface ArchiveInvalidationTable {
  site_id: number;
  /** Calendar day in the site's time zone, YYYY-MM-DD. */
  day: string;
  /** Unix seconds of the latest hit that made the day stale. */
  invalidated_at: number;
}

export interface ReportsTables {
  archive_invalidation: ArchiveInvalidationTable;
}

import type { Kysely } from 'kysely';
import type { TenantDatabase } from '../storage/tenant-database.js';

/** Removes a site's raw tracking data and goals (in the caller's transaction), when the site is deleted. */
export async function deleteSiteRawData(db: Kysely<TenantDatabase>, siteId: number): Promise<void> {
  // Through the site's visits: actions are indexed by visit.
  await db.deleteFrom('visit_action').where('visit_id', 'in', db.selectFrom('visit').select('id').where('site_id', '=', siteId)).execute();
  await db.deleteFrom('conversion').where('site_id', '=', siteId).execute();
  await db.deleteFrom('visit').where('site_id', '=', siteId).execute();
  await db.deleteFrom('goal').where('site_id', '=', siteId).execute();
}

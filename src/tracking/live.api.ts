import { PluraError } from '../core/errors.js';
import { requireTenantScope } from '../access/context.js';
import { decide } from '../access/policy.js';
import { authorize, requireSitesExist } from '../access/users.service.js';
import type { MatomoModule } from '../matomo-api/method.js';
import { requireSiteId } from '../matomo-api/method.js';
import type { MatomoValue } from '../matomo-api/render.js';
import { visitsMatchingSegment } from '../reports/day-builder.js';
import { dayRange, resolvePeriods } from '../reports/periods.js';
import { effectiveSegment } from '../workspace/data-policy.js';

/** Visits a segmented Live request looks through at most. */
const MAX_SEGMENT_SCAN = 100_000;

function todayIn(timezone: string, nowMs: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(nowMs);
}


function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

/** Live.getLastVisitsDetails and Live.getCounters, so tracking can be watched end to end. */
export const liveApi: MatomoModule = {
  async getCounters({ ctx, params }) {
    const { tenant, store } = requireTenantScope(ctx.scope);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see site ${siteId}`);
    await requireSitesExist(ctx, [siteId]);
    // Every acknowledged hit is counted, also those still waiting for their batch.
    await ctx.platform.tracking.drain(tenant);
    const minutes = params.getInt('lastMinutes') ?? 30;
    // Matomo: 1 to 2880 minutes.
    if (minutes < 1 || minutes > 2880) throw new PluraError('invalid_input', 'lastMinutes must be between 1 and 2880.');
    const since = Math.floor(Date.now() / 1000) - minutes * 60;
    // Counters respect the segment and the caller's data policy like every other read.
    const segment = await effectiveSegment(ctx, params.get('segment'), [siteId]);
    if (segment) {
      const site = await store.db.selectFrom('site').select('timezone').where('id', '=', siteId).executeTakeFirst();
      const counted = { visits: 0, actions: 0, converted: 0, visitors: new Set<string>() };
      for (let offset = 0; offset < MAX_SEGMENT_SCAN; offset += 1000) {
        const candidates = await store.db.selectFrom('visit').select(['id', 'visitor_id', 'actions', 'goals_converted']).where('site_id', '=', siteId).where('last_action_at', '>=', since).orderBy('id').limit(1000).offset(offset).execute();
        const matching = await visitsMatchingSegment(store.db, site?.timezone ?? 'UTC', segment, candidates.map((v) => v.id));
        for (const visit of candidates) {
          if (!matching.has(visit.id)) continue;
          counted.visits += 1;
          counted.actions += visit.actions;
          counted.visitors.add(visit.visitor_id);
          if (visit.goals_converted > 0) counted.converted += 1;
        }
        if (candidates.length < 1000) break;
      }
      return [{ visits: counted.visits, actions: counted.actions, visitors: counted.visitors.size, visitsConverted: counted.converted }];
    }
    const row = await store.db
      .selectFrom('visit')
      .select((eb) => [
        eb.fn.countAll<number>().as('visits'),
        eb.fn.coalesce(eb.fn.sum<number>('actions'), eb.lit(0)).as('actions'),
        eb.fn.count<number>('visitor_id').distinct().as('visitors'),
        eb.fn.coalesce(eb.fn.sum<number>(eb.case().when('goals_converted', '>', 0).then(1).else(0).end()), eb.lit(0)).as('converted'),
      ])
      .where('site_id', '=', siteId)
      .where('last_action_at', '>=', since)
      .executeTakeFirstOrThrow();
    return [{ visits: Number(row.visits), actions: Number(row.actions), visitors: Number(row.visitors), visitsConverted: Number(row.converted) }];
  },

  async getLastVisitsDetails({ ctx, params }) {
    const { tenant, store } = requireTenantScope(ctx.scope);
    const siteId = requireSiteId(params);
    authorize(ctx, 'view_reports', { kind: 'site', tenant: tenant.slug, siteId }, `see site ${siteId}`);
    const site = await store.db.selectFrom('site').select(['timezone', 'currency', 'name', 'sensitive_data_role']).where('id', '=', siteId).executeTakeFirst();
    if (!site) throw new PluraError('unknown_site', `An unexpected website was found in the request: website id = ${siteId} not found.`);
    await ctx.platform.tracking.drain(tenant);
    // IP addresses and user ids are sensitive data: shown only where the policy allows.
    const sensitive = decide(ctx.actor, 'view_sensitive_data', { kind: 'site', tenant: tenant.slug, siteId, sensitiveData: site.sensitive_data_role as 'admin' | 'write' | 'none' }).allowed;
    let query = store.db.selectFrom('visit').selectAll().where('site_id', '=', siteId);
    const date = params.get('date');
    if (date) {
      // Any of Matomo's periods and dates: the visits between the first period's start and the last one's end.
      const { periods } = resolvePeriods(params.get('period') ?? 'day', date, site.timezone);
      const first = periods[0];
      const last = periods[periods.length - 1];
      if (first && last) query = query.where('last_action_at', '>=', dayRange(site.timezone, first.start)[0]).where('first_action_at', '<', dayRange(site.timezone, last.end)[1]);
    }
    const minTimestamp = params.getInt('minTimestamp');
    if (minTimestamp !== undefined) query = query.where('last_action_at', '>=', minTimestamp);
    const limit = params.getInt('filter_limit') ?? 10;
    const offset = Math.max(0, params.getInt('filter_offset') ?? 0);
    const wanted = limit < 0 ? 100_000 : limit;
    const ordered = query.orderBy('last_action_at', 'desc').orderBy('id', 'desc');
    // The request's segment with the caller's data policy ANDed in (row-level filters).
    const segment = await effectiveSegment(ctx, params.get('segment'), [siteId]);
    let visits: Awaited<ReturnType<typeof ordered.execute>>;
    if (segment) {
      // Visits are matched as archives match them, page by page until enough are found.
      visits = [];
      let skipped = 0;
      const page = Math.max(100, (wanted + offset) * 2);
      for (let scanned = 0; visits.length < wanted && scanned < MAX_SEGMENT_SCAN; scanned += page) {
        const candidates = await ordered.limit(page).offset(scanned).execute();
        const matching = await visitsMatchingSegment(store.db, site.timezone, segment, candidates.map((v) => v.id));
        for (const visit of candidates) {
          if (!matching.has(visit.id)) continue;
          if (skipped < offset) skipped += 1;
          else if (visits.length < wanted) visits.push(visit);
        }
        if (candidates.length < page) break;
      }
    } else {
      visits = await ordered.limit(wanted).offset(offset).execute();
    }
    const ids = visits.map((v) => v.id);
    const actions =
      ids.length === 0 || params.getBool('doNotFetchActions', false)
        ? []
        : await store.db
            .selectFrom('visit_action')
            .leftJoin('action_name as u', 'u.id', 'visit_action.url_id')
            .leftJoin('action_name as t', 't.id', 'visit_action.title_id')
            .select(['visit_action.visit_id', 'visit_action.type', 'visit_action.at', 'visit_action.pageview_id', 'u.name as url', 't.name as title', 'visit_action.event_category', 'visit_action.event_action', 'visit_action.event_name', 'visit_action.event_value', 'visit_action.search_keyword', 'visit_action.search_category', 'visit_action.search_count', 'visit_action.content_name', 'visit_action.content_piece', 'visit_action.content_target'])
            .where('visit_action.visit_id', 'in', ids)
            .orderBy('visit_action.id')
            .execute();
    const matomoType: Record<string, string> = { pageview: 'action', outlink: 'outlink', download: 'download', search: 'search', event: 'event', content_impression: 'content', content_interaction: 'content', custom: 'action' };
    return visits.map((visit): MatomoValue => {
      const first = Number(visit.first_action_at);
      const last = Number(visit.last_action_at);
      const details = actions.filter((a) => a.visit_id === visit.id);
      return {
        idSite: siteId,
        idVisit: visit.id,
        // The visitor id singles out a person as well (with a user id it is derived from it).
        visitIp: sensitive ? visit.ip : null,
        visitorId: sensitive ? visit.visitor_id : null,
        userId: sensitive ? visit.user_id : null,
        visitorType: visit.visit_number > 1 ? 'returning' : 'new',
        visitCount: visit.visit_number,
        visitConverted: visit.goals_converted > 0 ? 1 : 0,
        firstActionTimestamp: first,
        lastActionTimestamp: last,
        lastActionDateTime: iso(last),
        serverTimestamp: last,
        serverDate: todayIn(site.timezone, last * 1000),
        visitDuration: last - first,
        actions: visit.actions,
        siteName: site.name,
        siteCurrency: site.currency,
        referrerType: visit.referrer_type,
        referrerName: visit.referrer_name,
        referrerKeyword: visit.referrer_keyword,
        referrerUrl: visit.referrer_url,
        deviceType: visit.device_type,
        deviceBrand: visit.device_brand,
        deviceModel: visit.device_model,
        operatingSystemName: visit.os_name,
        operatingSystemVersion: visit.os_version,
        browserName: visit.browser_name,
        browserVersion: visit.browser_version,
        languageCode: visit.language,
        countryCode: visit.country,
        city: visit.city,
        resolution: visit.resolution,
        visitLocalTime: visit.local_time,
        revenue: visit.revenue,
        actionDetails: details.map((a) => ({
          type: matomoType[a.type] ?? a.type,
          url: a.url,
          pageTitle: a.title,
          timestamp: Number(a.at),
          idpageview: a.pageview_id,
          ...(a.type === 'event' ? { eventCategory: a.event_category, eventAction: a.event_action, eventName: a.event_name, eventValue: a.event_value } : {}),
          ...(a.type === 'search' ? { siteSearchKeyword: a.search_keyword, siteSearchCategory: a.search_category, siteSearchCount: a.search_count } : {}),
          ...(a.type.startsWith('content') ? { contentName: a.content_name, contentPiece: a.content_piece, contentTarget: a.content_target } : {}),
        })),
      };
    });
  },
};

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '../http/test-support/harness.js';
import { buildDay, urlPath } from './day-builder.js';
import { dayRange } from './periods.js';

const EMPTY_TEXT = Object.fromEntries(
  ['referrer_name', 'referrer_keyword', 'referrer_url', 'campaign_name', 'campaign_keyword', 'device_type', 'device_brand', 'device_model', 'os_name', 'os_version', 'browser_name', 'browser_version', 'language', 'country', 'region', 'city', 'resolution', 'local_time', 'ip'].map((column) => [column, '']),
) as Record<'referrer_name' | 'referrer_keyword' | 'referrer_url' | 'campaign_name' | 'campaign_keyword' | 'device_type' | 'device_brand' | 'device_model' | 'os_name' | 'os_version' | 'browser_name' | 'browser_version' | 'language' | 'country' | 'region' | 'city' | 'resolution' | 'local_time' | 'ip', string>;

describe('day archives', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await openHarness();
    await h.addTenant('days', ['days.test']);
    await h.addSite('days', 'site');
  });

  afterAll(async () => {
    await h.close();
  });

  it('nests page URLs as Matomo does: folders, then the page, /index for an empty one', () => {
    expect(urlPath('https://a.example/')).toEqual({ folders: [], page: '/index' });
    expect(urlPath('https://a.example')).toEqual({ folders: [], page: '/index' });
    expect(urlPath('https://a.example/blog/2026/post?x=1')).toEqual({ folders: ['blog', '2026'], page: '/post?x=1' });
    expect(urlPath('https://a.example/docs/')).toEqual({ folders: ['docs'], page: '/index' });
    expect(urlPath('https://a.example/?utm=1')).toEqual({ folders: [], page: '/index?utm=1' });
  });

  it('lets other work run while a large day is built (it yields between pages)', async () => {
    const day = '2026-10-05';
    const [start] = dayRange('UTC', day);
    const visits = 7000;
    await h.asOperator('days', async (ctx) => {
      if (ctx.scope.kind !== 'tenant') throw new Error('tenant scope expected');
      await ctx.scope.store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < visits; i += 500) {
          await trx
            .insertInto('visit')
            .values(Array.from({ length: Math.min(500, visits - i) }, (_, j) => ({ site_id: 1, visitor_id: (i + j).toString(16).padStart(16, '0'), user_id: null, visit_number: 1, first_action_at: start + i + j, last_action_at: start + i + j, actions: 1, pageviews: 1, entry_url_id: null, exit_url_id: null, goals_converted: 0, revenue: 0, latitude: null, longitude: null, custom_json: null, ...EMPTY_TEXT, referrer_type: 'direct', cookie_enabled: 1 })))
            .execute();
        }
      });
      let turns = 0;
      const timer = setInterval(() => (turns += 1), 1);
      try {
        const records = await buildDay(ctx.scope.store.db, { id: 1, timezone: 'UTC' }, day, null, { maxRows: 500, maxSubRows: 100 }, ctx.scope.store.direct);
        expect(records.get('VisitsSummary')).toMatchObject({ nb_visits: visits, nb_uniq_visitors: visits, bounce_count: visits });
      } finally {
        clearInterval(timer);
      }
      expect(turns).toBeGreaterThan(0);
    });
  });
});

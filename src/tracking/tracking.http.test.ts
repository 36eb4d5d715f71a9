import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActContext } from '../access/context.js';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { createToken } from '../access/tokens.js';
import { setUserAccess } from '../access/users.service.js';
import { openHarness, type Harness } from '../http/test-support/harness.js';

const A = 'alpha.test';
const B = 'beta.test';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

describe('tracking API', () => {
  let h: Harness;
  let writerToken: string;
  let viewToken: string;
  const now = () => Math.floor(Date.now() / 1000);

  const track = (host: string, query: string, init: { method?: 'GET' | 'POST'; payload?: string; headers?: Record<string, string>; url?: string } = {}) =>
    h.app.inject({
      method: init.method ?? 'GET',
      url: `${init.url ?? '/matomo.php'}?${query}`,
      headers: { host, 'user-agent': CHROME, 'accept-language': 'fr-FR,fr;q=0.9', ...init.headers },
      ...(init.payload !== undefined ? { payload: init.payload } : {}),
    });

  // Acknowledged hits reach the store in batches: reading the store directly waits for them first.
  const inTenant = async <T>(slug: string, fn: (ctx: ActContext & { scope: { kind: 'tenant' } }) => Promise<T>) => {
    await h.platform.tracking.drain();
    return h.asOperator(slug, (ctx) => {
      if (ctx.scope.kind !== 'tenant') throw new Error('tenant scope expected');
      return fn(ctx as ActContext & { scope: { kind: 'tenant' } });
    });
  };

  const visits = (slug: string) =>
    inTenant(slug, (ctx) => ctx.scope.store.db.selectFrom('visit').selectAll().orderBy('id').execute());
  const actions = (slug: string) =>
    inTenant(slug, (ctx) =>
      ctx.scope.store.db
        .selectFrom('visit_action')
        .leftJoin('action_name as u', 'u.id', 'visit_action.url_id')
        .leftJoin('action_name as t', 't.id', 'visit_action.title_id')
        .select(['visit_action.visit_id', 'visit_action.type', 'u.name as url', 't.name as title', 'visit_action.event_category', 'visit_action.event_action', 'visit_action.event_name', 'visit_action.event_value', 'visit_action.search_keyword', 'visit_action.search_count', 'visit_action.content_name', 'visit_action.custom_json', 'visit_action.performance_json'])
        .orderBy('visit_action.id')
        .execute(),
    );
  const clear = (slug: string) =>
    inTenant(slug, async (ctx) => {
      await ctx.scope.store.db.deleteFrom('visit_action').execute();
      await ctx.scope.store.db.deleteFrom('visit').execute();
      await ctx.scope.store.db.deleteFrom('conversion').execute();
      await ctx.scope.store.db.deleteFrom('archive_invalidation').execute();
      ctx.platform.tracking.rawDataDeleted(ctx.scope.tenant);
    });

  beforeAll(async () => {
    h = await openHarness();
    await h.addTenant('alpha', [A]);
    await h.addTenant('beta', [B]);
    await h.addSite('alpha', 'shop');
    await h.addSite('beta', 'blog');
    await h.addUser('alpha', 'writer');
    await h.addUser('alpha', 'viewer');
    await inTenant('alpha', async (ctx) => {
      await setUserAccess(ctx, 'writer', 'write', [1]);
      await setUserAccess(ctx, 'viewer', 'view', [1]);
      const db = identityDbFor(ctx.platform, ctx.scope);
      writerToken = (await createToken(db, ctx.platform.secret, (await identityStore.findUserByLogin(db, 'writer'))?.id ?? 0, { description: 't' })).token;
      viewToken = (await createToken(db, ctx.platform.secret, (await identityStore.findUserByLogin(db, 'viewer'))?.id ?? 0, { description: 't' })).token;
      await ctx.scope.store.db
        .insertInto('goal')
        .values([
          { site_id: 1, goal_id: 1, name: 'Signup', match_attribute: 'manually', pattern_type: 'contains', pattern: '', case_sensitive: 0, allow_multiple: 0, revenue: 5, created_at: new Date().toISOString() },
          { site_id: 1, goal_id: 2, name: 'Thanks page', match_attribute: 'url', pattern_type: 'contains', pattern: '/thanks', case_sensitive: 0, allow_multiple: 0, revenue: 0, created_at: new Date().toISOString() },
        ])
        .execute();
    });
  });
  afterAll(() => h.close());

  it('answers a pageview with a GIF once stored, or 204 with send_image=0', async () => {
    await clear('alpha');
    const response = await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fhome%3Fgclid%3Dx&action_name=Home&_id=0123456789abcdef&res=1280x1024&h=10&m=5&s=7&cookie=1&pf_net=12&pf_srv=40&dimension1=gold');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/gif');
    expect(response.rawPayload.subarray(0, 6).toString()).toBe('GIF89a');
    expect(response.headers['cache-control']).toBe('no-store');
    expect((await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fabout&_id=0123456789abcdef&send_image=0')).statusCode).toBe(204);
    const [visit] = await visits('alpha');
    expect(visit).toMatchObject({ site_id: 1, visitor_id: '0123456789abcdef', actions: 2, pageviews: 2, resolution: '1280x1024', local_time: '10:05:07', language: 'fr-fr', country: 'fr', browser_name: 'Chrome', os_name: 'Windows', device_type: 'desktop', referrer_type: 'direct', ip: '127.0.0.0', cookie_enabled: 1 });
    const rows = await actions('alpha');
    expect(rows).toMatchObject([
      { type: 'pageview', url: 'https://shop.example/home', title: 'Home', custom_json: '{"dimension1":"gold"}', performance_json: '{"pf_net":12,"pf_srv":40}' },
      { type: 'pageview', url: 'https://shop.example/about', title: null },
    ]);
  });

  it('keeps custom variables of every scope and reads text in the page charset (cs)', async () => {
    await clear('alpha');
    const cvar = encodeURIComponent(JSON.stringify({ '1': ['plan', 'pro'] }));
    const eCvar = encodeURIComponent(JSON.stringify({ '2': ['source', 'banner'] }));
    expect((await track(A, `idsite=1&rec=1&send_image=0&_id=2222222222222222&cs=ISO-8859-1&url=https%3A%2F%2Fshop.example%2Fcaf%E9&action_name=Caf%E9&_cvar=${cvar}&cvar=${cvar}`)).statusCode).toBe(204);
    expect((await track(A, `idsite=1&rec=1&send_image=0&_id=2222222222222222&url=https%3A%2F%2Fshop.example%2F&e_c=Ads&e_a=Click&e_cvar=${eCvar}`)).statusCode).toBe(204);
    const [visit] = await visits('alpha');
    expect(JSON.parse(visit?.custom_json ?? '{}')).toEqual({ cvar: { '1': ['plan', 'pro'] } });
    const rows = await actions('alpha');
    expect(rows[0]).toMatchObject({ title: 'Café', url: 'https://shop.example/caf%C3%A9' });
    expect(JSON.parse(rows[0]?.custom_json ?? '{}')).toEqual({ cvar: { '1': ['plan', 'pro'] } });
    expect(JSON.parse(rows[1]?.custom_json ?? '{}')).toEqual({ e_cvar: { '2': ['source', 'banner'] } });
  });

  it('accepts POST form bodies and the JavaScript tracker\'s POST with everything in the query', async () => {
    await clear('alpha');
    const form = await track(A, '', { method: 'POST', payload: 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fa&_id=1111111111111111', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.statusCode).toBe(200);
    const beacon = await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fb&_id=1111111111111111&send_image=0', { method: 'POST', payload: '', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' } });
    expect(beacon.statusCode).toBe(204);
    expect((await visits('alpha'))[0]).toMatchObject({ actions: 2 });
  });

  it('splits visits by the inactivity window and on new_visit=1', async () => {
    await clear('alpha');
    const t0 = now() - 7200;
    const hit = (at: number, extra = '') => track(A, `idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fp&_id=2222222222222222&cdt=${at}${extra}`);
    await hit(t0);
    await hit(t0 + 600); // same visit (10 minutes later)
    await hit(t0 + 600 + 1801); // new visit (more than 30 minutes of inactivity)
    await hit(t0 + 600 + 1900, '&new_visit=1'); // forced new visit
    const rows = await visits('alpha');
    expect(rows.map((v) => [v.visit_number, v.actions])).toEqual([[1, 2], [2, 1], [3, 1]]);
    expect(Number(rows[0]?.last_action_at) - Number(rows[0]?.first_action_at)).toBe(600);
  });

  it('records outlinks, downloads, site searches, events, content, goals and ecommerce orders', async () => {
    await clear('alpha');
    const base = 'idsite=1&rec=1&_id=3333333333333333&url=https%3A%2F%2Fshop.example%2Fcart';
    expect((await track(A, `${base}&link=https%3A%2F%2Fpartner.example%2F`)).statusCode).toBe(200);
    await track(A, `${base}&download=https%3A%2F%2Fshop.example%2Fcatalog.pdf`);
    await track(A, `${base}&search=red%20shoes&search_cat=shoes&search_count=12`);
    await track(A, `${base}&e_c=Video&e_a=Play&e_n=Intro&e_v=3.5`);
    await track(A, `${base}&c_n=Banner&c_p=spring.png&c_t=https%3A%2F%2Fshop.example%2Fspring`);
    await track(A, `${base}&idgoal=1&revenue=12.5`);
    await track(A, 'idsite=1&rec=1&_id=3333333333333333&url=https%3A%2F%2Fshop.example%2Fthanks&action_name=Thanks');
    const items = encodeURIComponent(JSON.stringify([['SKU1', 'Shoe', 'Shoes', 50, 2]]));
    await track(A, `${base}&idgoal=0&ec_id=A100&revenue=110&ec_st=100&ec_tx=10&ec_sh=5&ec_dt=5&ec_items=${items}`);
    await track(A, `${base}&idgoal=0&ec_id=A100&revenue=110`); // the same order again is not counted twice
    expect((await track(A, `${base}&idgoal=99`)).statusCode).toBe(400);
    const rows = await actions('alpha');
    expect(rows.map((r) => r.type)).toEqual(['outlink', 'download', 'search', 'event', 'content_impression', 'pageview']);
    expect(rows[0]).toMatchObject({ url: 'https://partner.example/' });
    expect(rows[2]).toMatchObject({ search_keyword: 'red shoes', search_count: 12 });
    expect(rows[3]).toMatchObject({ event_category: 'Video', event_action: 'Play', event_name: 'Intro', event_value: 3.5 });
    expect(rows[4]).toMatchObject({ content_name: 'Banner' });
    const conversions = await inTenant('alpha', (ctx) => ctx.scope.store.db.selectFrom('conversion').selectAll().orderBy('id').execute());
    expect(conversions.map((c) => [c.goal_id, c.revenue, c.order_id])).toEqual([[1, 12.5, null], [2, 0, null], [0, 110, 'A100']]);
    expect(JSON.parse(conversions[2]?.items_json ?? '[]')).toEqual([['SKU1', 'Shoe', 'Shoes', 50, 2]]);
    expect((await visits('alpha'))[0]).toMatchObject({ goals_converted: 3, revenue: 122.5 });
  });

  it('refuses privileged parameters without a write token, and uses them with one', async () => {
    await clear('alpha');
    const without = await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F&cip=203.0.113.77');
    expect(without.statusCode).toBe(400);
    expect(without.body).toContain('cip need a token_auth with write or admin access');
    const viewer = await track(A, `idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F&cip=203.0.113.77&token_auth=${viewToken}`);
    expect(viewer.statusCode).toBe(400);
    expect(viewer.body).toContain('role view');
    const old = now() - 3 * 86400;
    expect((await track(A, `idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F&cdt=${old}`)).statusCode).toBe(400);
    const ok = await track(A, `idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F&cip=203.0.113.77&cdt=${old}&country=de&city=Berlin&token_auth=${writerToken}`);
    expect(ok.statusCode).toBe(200);
    expect((await visits('alpha'))[0]).toMatchObject({ ip: '203.0.0.0', country: 'de', city: 'Berlin', first_action_at: old });
    // The past day's archives are stale now; today's hits invalidate nothing.
    const stale = await inTenant('alpha', (ctx) => ctx.scope.store.db.selectFrom('archive_invalidation').select(['site_id', 'day']).execute());
    expect(stale).toEqual([{ site_id: 1, day: new Date(old * 1000).toISOString().slice(0, 10) }]);
  });

  it('keeps two tenants tracking site id 1 apart, and refuses unknown sites', async () => {
    await clear('alpha');
    await clear('beta');
    await Promise.all([
      track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2Fx&_id=4444444444444444'),
      track(B, 'idsite=1&rec=1&url=https%3A%2F%2Fblog.example%2Fy&_id=4444444444444444'),
      track(B, 'idsite=1&rec=1&url=https%3A%2F%2Fblog.example%2Fz&_id=4444444444444444'),
    ]);
    expect((await actions('alpha')).map((a) => a.url)).toEqual(['https://shop.example/x']);
    expect((await actions('beta')).map((a) => a.url).sort()).toEqual(['https://blog.example/y', 'https://blog.example/z']);
    const unknown = await track(B, 'idsite=2&rec=1&url=https%3A%2F%2Fblog.example%2F');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain("website id was set to '2'");
    expect((await track('nowhere.test', 'idsite=1&rec=1')).statusCode).toBe(404);
  });

  it('stores the good requests of a bulk beside the bad ones, from strings and objects', async () => {
    await clear('alpha');
    const payload = JSON.stringify({
      requests: [
        '?idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F1&_id=5555555555555555',
        '?idsite=abc&rec=1',
        { idsite: 1, rec: 1, url: 'https://shop.example/2', _id: '5555555555555555', action_name: 'Two' },
        '?idsite=77&rec=1&url=x',
        'no query string',
        { idsite: 1, rec: 1, url: 'https://shop.example/3', cip: '1.2.3.4' },
      ],
    });
    const response = await track(A, 'queuedtracking=0', { url: '/piwik.php', method: 'POST', payload, headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'success', tracked: 2, invalid: 4, invalid_indices: [1, 3, 4, 5] });
    expect((await actions('alpha')).map((a) => a.url)).toEqual(['https://shop.example/1', 'https://shop.example/2']);
    const withToken = await track(A, '', { method: 'POST', payload: JSON.stringify({ requests: [{ idsite: 1, rec: 1, url: 'https://shop.example/4', cip: '1.2.3.4' }], token_auth: writerToken }), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' } });
    expect(withToken.json()).toMatchObject({ tracked: 1, invalid: 0 });
    const quiet = await track(A, '', { method: 'POST', payload: JSON.stringify({ requests: ['?idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F5'], send_image: 0 }), headers: { 'content-type': 'text/plain' } });
    expect(quiet.statusCode).toBe(204);
  });

  it('excludes bots, honours DNT when asked, and answers bad input clearly', async () => {
    await clear('alpha');
    expect((await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F', { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } })).statusCode).toBe(200);
    expect(await visits('alpha')).toHaveLength(0);
    expect((await track(A, 'idsite=1&url=https%3A%2F%2Fshop.example%2F')).statusCode).toBe(200); // rec missing: accepted, not stored
    expect(await visits('alpha')).toHaveLength(0);
    expect((await track(A, 'idsite=1&rec=1&cid=xyz')).body).toContain("'cid' must be exactly 16 hexadecimal");
    expect((await track(A, 'idsite=1&rec=1&url=%C3%28')).statusCode).toBe(400);
    expect((await track(A, '')).body).toContain('endpoint for tracking requests');
    const preflight = await h.app.inject({ method: 'OPTIONS', url: '/matomo.php', headers: { host: A, origin: 'https://shop.example' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST');
    const cors = await track(A, 'idsite=1&rec=1&url=https%3A%2F%2Fshop.example%2F&send_image=0', { method: 'POST', payload: '', headers: { origin: 'https://shop.example' } });
    expect(cors.headers['access-control-allow-origin']).toBe('https://shop.example');
    const huge = await track(A, '', { method: 'POST', payload: 'x'.repeat(9 * 1024 * 1024), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(huge.statusCode).toBe(413);
  });
});

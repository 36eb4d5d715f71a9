/**
 * Reports against numbers computed here, independently, from the hits the test
 * generates: visits, actions, bounces and unique visitors per day, week, month,
 * year and range, with and without segments, in two time zones, on SQLite and
 * PostgreSQL tenants; late hits must invalidate what was archived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tokenFor, type Harness } from '../http/test-support/harness.js';
import { createSite } from '../sites/sites-access.service.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { addDays, dayRange, periodOf } from './periods.js';
import { seededRandom } from './test-support/random.js';

const AGENTS = {
  desktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  smartphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  linux: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
} as const;
type Agent = keyof typeof AGENTS;

interface GeneratedHit {
  readonly query: Record<string, string>;
  readonly kind: 'pageview' | 'event' | 'download' | 'outlink' | 'search';
  readonly url: string;
}

interface GeneratedVisit {
  readonly visitor: string;
  readonly day: string;
  readonly agent: Agent;
  readonly referrer: 'direct' | 'search' | 'website';
  readonly hits: GeneratedHit[];
}

const FIRST_DAY = '2026-10-05';
const DAYS = 16;

function generate(timezone: string, seed: number): GeneratedVisit[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const visits: GeneratedVisit[] = [];
  for (let v = 0; v < 40; v += 1) {
    const visitor = (0xa000 + v).toString(16).padStart(16, '0');
    const agent = pick(['desktop', 'smartphone', 'linux'] as const);
    const visitDays = new Set<string>();
    for (let n = 0; n < 1 + Math.floor(next() * 4); n += 1) visitDays.add(addDays(FIRST_DAY, Math.floor(next() * DAYS)));
    for (const day of visitDays) {
      // Two visits of the visitor on one day are hours apart: never one visit.
      for (const hour of next() < 0.3 ? [9, 15] : [11]) {
        const referrer = pick(['direct', 'search', 'website'] as const);
        let at = dayRange(timezone, day)[0] + hour * 3600 + Math.floor(next() * 1800);
        const hits: GeneratedHit[] = [];
        const count = next() < 0.3 ? 1 : 2 + Math.floor(next() * 5);
        for (let i = 0; i < count; i += 1) {
          const kind = i === 0 ? 'pageview' : pick(['pageview', 'pageview', 'pageview', 'event', 'download', 'outlink', 'search'] as const);
          const page = pick(['/', '/blog/first', '/blog/second', '/shop/item?id=3', '/about']);
          const url = `https://shop.example${page}`;
          const query: Record<string, string> = { idsite: '1', rec: '1', _id: visitor, cdt: String(at), ua: AGENTS[agent], res: agent === 'smartphone' ? '390x844' : '1920x1080', lang: 'de-DE', url };
          if (i === 0 && referrer === 'search') query['urlref'] = 'https://www.google.com/search?q=garden+tools';
          if (i === 0 && referrer === 'website') query['urlref'] = 'https://blog.partner.example/post';
          if (kind === 'pageview') query['action_name'] = `Title ${page}`;
          if (kind === 'event') Object.assign(query, { e_c: 'Video', e_a: pick(['Play', 'Pause']), e_n: 'Intro', e_v: '3' });
          if (kind === 'download') query['download'] = 'https://shop.example/files/catalog.pdf';
          if (kind === 'outlink') query['link'] = 'https://partner.example/out';
          if (kind === 'search') query['search'] = pick(['Rake', 'shovel']);
          hits.push({ query, kind, url });
          at += 60 + Math.floor(next() * 300);
        }
        visits.push({ visitor, day, agent, referrer, hits });
      }
    }
  }
  return visits;
}

/** What the reports must say, computed from the generated visits alone. */
function expected(visits: readonly GeneratedVisit[], from: string, to: string, keep: (visit: GeneratedVisit) => boolean = () => true) {
  const inside = visits.filter((v) => v.day >= from && v.day <= to && keep(v));
  return {
    nb_visits: inside.length,
    nb_actions: inside.reduce((sum, v) => sum + v.hits.length, 0),
    bounce_count: inside.filter((v) => v.hits.length === 1).length,
    nb_uniq_visitors: new Set(inside.map((v) => v.visitor)).size,
    max_actions: Math.max(0, ...inside.map((v) => v.hits.length)),
    nb_pageviews: inside.reduce((sum, v) => sum + v.hits.filter((hit) => hit.kind === 'pageview').length, 0),
  };
}

describe('Reporting API on archives', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const tokens = new Map<string, string>();
  const generated = new Map<string, GeneratedVisit[]>();
  const tenants = [
    { slug: 'rlite', timezone: 'America/New_York', seed: 7 },
    { slug: 'rpost', timezone: 'Asia/Tokyo', seed: 11 },
  ] as const;

  const send = async (slug: string, hits: readonly GeneratedHit[]) => {
    for (let i = 0; i < hits.length; i += 200) {
      const response = await h.app.inject({
        method: 'POST',
        url: '/matomo.php',
        headers: { host: `${slug}.test`, 'content-type': 'application/json' },
        payload: JSON.stringify({ token_auth: tokens.get(slug), requests: hits.slice(i, i + 200).map((hit) => `?${new URLSearchParams(hit.query).toString()}`) }),
      });
      expect(response.json()).toMatchObject({ status: 'success', invalid: 0 });
    }
  };

  const api = async (slug: string, query: string) => {
    const response = await h.app.inject({ method: 'GET', url: `/index.php?module=API&format=json&token_auth=${tokens.get(slug) ?? ''}&${query}`, headers: { host: `${slug}.test` } });
    const type = String(response.headers['content-type']);
    return { status: response.statusCode, body: type.includes('json') ? response.json<unknown>() : null, text: response.body, type };
  };
  const json = async <T>(slug: string, query: string): Promise<T> => {
    const response = await api(slug, query);
    expect(response.status, response.text).toBe(200);
    expect(response.body, response.text).not.toMatchObject({ result: 'error' });
    return response.body as T;
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('reports');
    h = await openHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix, PLURA_GENERAL_TIME_BEFORE_TODAY_ARCHIVE_CONSIDERED_OUTDATED: '0' });
    for (const { slug, timezone, seed } of tenants) {
      await h.addTenant(slug, [`${slug}.test`], slug === 'rpost' ? pg.url : 'sqlite');
      await h.asOperator(slug, (ctx) => createSite(ctx, { name: 'Shop', urls: ['https://shop.example'], timezone }));
      await h.addUser(slug, `${slug}-admin`, { superuser: true });
      tokens.set(slug, await tokenFor(h.app, `${slug}.test`, `${slug}-admin`));
      const visits = generate(timezone, seed);
      generated.set(slug, visits);
      await send(slug, visits.flatMap((visit) => visit.hits));
    }
  });

  afterAll(async () => {
    await h.close();
    await pg.drop();
  });

  it.each(tenants.map((t) => t.slug))('VisitsSummary.get matches the raw hits for every day, week, month, year and range (%s)', async (slug) => {
    const visits = generated.get(slug) ?? [];
    const summary = (value: unknown) => value as Record<string, number | string>;
    const byDay = await json<Record<string, unknown>>(slug, `method=VisitsSummary.get&idSite=1&period=day&date=${FIRST_DAY},${addDays(FIRST_DAY, DAYS - 1)}`);
    for (let d = 0; d < DAYS; d += 1) {
      const day = addDays(FIRST_DAY, d);
      const want = expected(visits, day, day);
      if (want.nb_visits === 0) {
        expect(byDay[day]).toEqual([]);
        continue;
      }
      expect(summary(byDay[day])).toMatchObject({ nb_visits: want.nb_visits, nb_actions: want.nb_actions, bounce_count: want.bounce_count, nb_uniq_visitors: want.nb_uniq_visitors, max_actions: want.max_actions });
      expect(summary(byDay[day])['bounce_rate']).toBe(`${Math.round((want.bounce_count / want.nb_visits) * 1000) / 10}%`);
    }
    for (const kind of ['week', 'month'] as const) {
      const period = periodOf(kind, addDays(FIRST_DAY, 3));
      const want = expected(visits, period.start, period.end);
      expect(summary(await json(slug, `method=VisitsSummary.get&idSite=1&period=${kind}&date=${addDays(FIRST_DAY, 3)}`))).toMatchObject({ nb_visits: want.nb_visits, nb_actions: want.nb_actions, bounce_count: want.bounce_count, nb_uniq_visitors: want.nb_uniq_visitors });
    }
    const year = expected(visits, '2026-01-01', '2026-12-31');
    const yearValue = summary(await json(slug, 'method=VisitsSummary.get&idSite=1&period=year&date=2026-06-01'));
    expect(yearValue).toMatchObject({ nb_visits: year.nb_visits, nb_actions: year.nb_actions, bounce_count: year.bounce_count });
    expect(yearValue).not.toHaveProperty('nb_uniq_visitors');
    const range = expected(visits, addDays(FIRST_DAY, 2), addDays(FIRST_DAY, 12));
    expect(summary(await json(slug, `method=VisitsSummary.get&idSite=1&period=range&date=${addDays(FIRST_DAY, 2)},${addDays(FIRST_DAY, 12)}`))).toMatchObject({ nb_visits: range.nb_visits, nb_actions: range.nb_actions, bounce_count: range.bounce_count });
  });

  it.each(tenants.map((t) => t.slug))('segments select the same visits as the raw hits do (%s)', async (slug) => {
    const visits = generated.get(slug) ?? [];
    const from = FIRST_DAY;
    const to = addDays(FIRST_DAY, DAYS - 1);
    const cases: [string, (visit: GeneratedVisit) => boolean][] = [
      ['deviceType==smartphone', (v) => v.agent === 'smartphone'],
      ['referrerType==search', (v) => v.referrer === 'search'],
      ['browserName==Firefox,referrerType==website', (v) => v.agent === 'linux' || v.referrer === 'website'],
      [`pageUrl=@${encodeURIComponent('/blog/')};actions>1`, (v) => v.hits.some((hit) => hit.kind === 'pageview' && hit.url.includes('/blog/')) && v.hits.length > 1],
      ['eventAction==Play', (v) => v.hits.some((hit) => hit.query['e_a'] === 'Play')],
    ];
    for (const [segment, keep] of cases) {
      const want = expected(visits, from, to, keep);
      const value = await json<Record<string, number>>(slug, `method=VisitsSummary.get&idSite=1&period=range&date=${from},${to}&segment=${encodeURIComponent(segment)}`);
      if (want.nb_visits === 0) expect(value).toEqual([]);
      else expect(value, segment).toMatchObject({ nb_visits: want.nb_visits, nb_actions: want.nb_actions, bounce_count: want.bounce_count });
    }
  });

  it('Actions reports count pageviews, pages, events and links as the hits do', async () => {
    const visits = generated.get('rlite') ?? [];
    const from = FIRST_DAY;
    const to = addDays(FIRST_DAY, DAYS - 1);
    const want = expected(visits, from, to);
    const actions = await json<Record<string, number>>('rlite', `method=Actions.get&idSite=1&period=range&date=${from},${to}`);
    expect(actions['nb_pageviews']).toBe(want.nb_pageviews);
    const pageHits = (path: string) => visits.filter((v) => v.day >= from && v.day <= to).flatMap((v) => v.hits).filter((hit) => hit.kind === 'pageview' && hit.url === `https://shop.example${path}`).length;

    const flat = await json<{ label: string; nb_hits: number; url?: string; segment?: string }[]>('rlite', `method=Actions.getPageUrls&idSite=1&period=range&date=${from},${to}&flat=1&filter_limit=-1`);
    const byLabel = new Map(flat.map((row) => [row.label, row]));
    expect(byLabel.get('blog/first')?.nb_hits).toBe(pageHits('/blog/first'));
    expect(byLabel.get('/index')?.nb_hits).toBe(pageHits('/'));
    expect(byLabel.get('shop/item?id=3')).toMatchObject({ nb_hits: pageHits('/shop/item?id=3'), url: 'https://shop.example/shop/item?id=3', segment: `pageUrl==${encodeURIComponent('https://shop.example/shop/item?id=3')}` });

    const tree = await json<{ label: string; nb_hits: number; idsubdatatable?: number }[]>('rlite', `method=Actions.getPageUrls&idSite=1&period=range&date=${from},${to}`);
    const blog = tree.find((row) => row.label === 'blog');
    expect(blog?.nb_hits).toBe(pageHits('/blog/first') + pageHits('/blog/second'));
    const sub = await json<{ label: string; nb_hits: number }[]>('rlite', `method=Actions.getPageUrls&idSite=1&period=range&date=${from},${to}&idSubtable=${blog?.idsubdatatable ?? 0}`);
    expect(sub.map((row) => row.label).sort()).toEqual(['/first', '/second']);

    const events = await json<{ label: string; nb_events: number }[]>('rlite', `method=Events.getCategory&idSite=1&period=range&date=${from},${to}`);
    const eventHits = visits.flatMap((v) => v.hits).filter((hit) => hit.kind === 'event').length;
    expect(events).toEqual(eventHits === 0 ? [] : [expect.objectContaining({ label: 'Video', nb_events: eventHits, segment: 'eventCategory==Video' })]);

    const devices = await json<{ label: string; nb_visits: number; segment: string }[]>('rlite', `method=DevicesDetection.getType&idSite=1&period=range&date=${from},${to}`);
    expect(devices.find((row) => row.label === 'Smartphone')).toMatchObject({ nb_visits: expected(visits, from, to, (v) => v.agent === 'smartphone').nb_visits, segment: 'deviceType==smartphone' });

    const types = await json<{ label: string; nb_visits: number; referer_type: number }[]>('rlite', `method=Referrers.getReferrerType&idSite=1&period=range&date=${from},${to}`);
    expect(types.find((row) => row.label === 'Search Engines')).toMatchObject({ referer_type: 2, nb_visits: expected(visits, from, to, (v) => v.referrer === 'search').nb_visits });
    const engines = await json<{ label: string; nb_visits: number }[]>('rlite', `method=Referrers.getSearchEngines&idSite=1&period=range&date=${from},${to}&expanded=1`);
    expect(engines[0]).toMatchObject({ label: 'Google', subtable: [expect.objectContaining({ label: 'garden tools' })] });
  });

  it('Live.getLastVisitsDetails takes any period and a segment, as archives read them', async () => {
    const visits = generated.get('rlite') ?? [];
    const from = addDays(FIRST_DAY, 1);
    const to = addDays(FIRST_DAY, 9);
    const all = await json<{ visitorId: string }[]>('rlite', `method=Live.getLastVisitsDetails&idSite=1&period=range&date=${from},${to}&filter_limit=-1`);
    expect(all).toHaveLength(expected(visits, from, to).nb_visits);
    const phones = await json<{ visitorId: string; deviceType: string }[]>('rlite', `method=Live.getLastVisitsDetails&idSite=1&period=range&date=${from},${to}&filter_limit=-1&segment=${encodeURIComponent('deviceType==smartphone')}`);
    expect(phones).toHaveLength(expected(visits, from, to, (v) => v.agent === 'smartphone').nb_visits);
    const blog = await json<unknown[]>('rlite', `method=Live.getLastVisitsDetails&idSite=1&period=week&date=${from}&filter_limit=-1&segment=${encodeURIComponent(`pageUrl=@${encodeURIComponent('/blog/')}`)}`);
    const week = periodOf('week', from);
    expect(blog).toHaveLength(expected(visits, week.start, week.end, (v) => v.hits.some((hit) => hit.kind === 'pageview' && hit.url.includes('/blog/'))).nb_visits);
    const two = await json<unknown[]>('rlite', `method=Live.getLastVisitsDetails&idSite=1&period=range&date=${from},${to}&filter_limit=2&filter_offset=1&segment=${encodeURIComponent('deviceType==smartphone')}`);
    expect(two).toEqual(phones.slice(1, 3));
  });

  it('a late hit for a day already archived invalidates the day and the periods containing it', async () => {
    const day = addDays(FIRST_DAY, 4);
    const before = await json<Record<string, number>>('rlite', `method=VisitsSummary.get&idSite=1&period=day&date=${day}`);
    const month = await json<Record<string, number>>('rlite', `method=VisitsSummary.get&idSite=1&period=month&date=${day}`);
    const at = dayRange('America/New_York', day)[0] + 22 * 3600;
    await send('rlite', [{ kind: 'pageview', url: 'https://shop.example/late', query: { idsite: '1', rec: '1', _id: 'ffffffffffff0001', cdt: String(at), url: 'https://shop.example/late', ua: AGENTS.desktop } }]);
    const after = await json<Record<string, number>>('rlite', `method=VisitsSummary.get&idSite=1&period=day&date=${day}`);
    expect((after as Record<string, number>)['nb_visits']).toBe(((before as Record<string, number>)['nb_visits'] ?? 0) + 1);
    const monthAfter = await json<Record<string, number>>('rlite', `method=VisitsSummary.get&idSite=1&period=month&date=${day}`);
    expect(monthAfter['nb_visits']).toBe((month['nb_visits'] ?? 0) + 1);
    expect(monthAfter['nb_uniq_visitors']).toBe((month['nb_uniq_visitors'] ?? 0) + 1);
  });

  it('answers several sites and several periods keyed as Matomo does, in every format', async () => {
    await h.asOperator('rlite', (ctx) => createSite(ctx, { name: 'Second', urls: ['https://second.example'], timezone: 'UTC' }));
    const keyed = await json<Record<string, Record<string, unknown>>>('rlite', `method=VisitsSummary.get&idSite=1,2&period=day&date=${FIRST_DAY},${addDays(FIRST_DAY, 1)}`);
    expect(Object.keys(keyed)).toEqual(['1', '2']);
    expect(Object.keys(keyed['2'] ?? {})).toEqual([FIRST_DAY, addDays(FIRST_DAY, 1)]);
    expect(keyed['2']?.[FIRST_DAY]).toEqual([]);
    const all = await json<Record<string, unknown>>('rlite', `method=VisitsSummary.getVisits&idSite=all&period=month&date=${FIRST_DAY}`);
    expect(Object.keys(all)).toEqual(['1', '2']);

    const xml = await api('rlite', `method=DevicesDetection.getBrowsers&idSite=1&period=month&date=${FIRST_DAY}&format=xml`);
    expect(xml.type).toContain('xml');
    expect(xml.text).toContain('<label>Chrome</label>');
    const csv = await h.app.inject({ method: 'GET', url: `/index.php?module=API&method=Referrers.getReferrerType&idSite=1&period=month&date=${FIRST_DAY}&format=csv&convertToUnicode=0&token_auth=${tokens.get('rlite') ?? ''}`, headers: { host: 'rlite.test' } });
    expect(csv.body.split('\n')[0]).toContain('label');
    expect(csv.body).toContain('Search Engines');

    const limited = await json<{ label: string }[]>('rlite', `method=Actions.getPageTitles&idSite=1&period=month&date=${FIRST_DAY}&filter_limit=2&filter_sort_column=label&filter_sort_order=asc&showColumns=nb_hits`);
    expect(limited).toHaveLength(2);
    expect(limited[0]?.label.localeCompare(limited[1]?.label ?? '')).toBeLessThan(0);
    expect(Object.keys(limited[0] ?? {}).sort()).toEqual(['label', 'nb_hits']);
  });

  it('every report that splits visits by one of their dimensions adds up to all visits, and names its rows', async () => {
    const from = FIRST_DAY;
    const to = addDays(FIRST_DAY, DAYS - 1);
    const total = expected(generated.get('rpost') ?? [], from, to).nb_visits;
    const partitions: [string, string][] = [
      ['Referrers.getReferrerType', 'Direct Entry'],
      ['Referrers.getAll', 'Google'],
      ['DevicesDetection.getType', 'Desktop'],
      ['DevicesDetection.getBrand', 'Apple'],
      ['DevicesDetection.getModel', 'Apple - iPhone'],
      ['DevicesDetection.getOsFamilies', 'Windows'],
      ['DevicesDetection.getOsVersions', 'Windows 10'],
      ['DevicesDetection.getBrowsers', 'Firefox'],
      ['DevicesDetection.getBrowserVersions', 'Firefox 121.0'],
      ['Resolution.getResolution', '1920x1080'],
      ['UserLanguage.getLanguage', 'German'],
      ['UserLanguage.getLanguageCode', 'German (Germany) - de-de'],
      ['UserCountry.getCountry', 'Germany'],
      ['VisitTime.getVisitInformationPerServerTime', '11h'],
    ];
    for (const [method, label] of partitions) {
      const rows = await json<{ label: string; nb_visits: number; segment?: string }[]>('rpost', `method=${method}&idSite=1&period=range&date=${from},${to}&filter_limit=-1`);
      expect(rows.reduce((sum, row) => sum + row.nb_visits, 0), method).toBe(total);
      expect(rows.map((row) => row.label), method).toContain(label);
      // The row's segment selects exactly the row's visits.
      const row = rows.find((r) => r.label === label);
      if (row?.segment) {
        const segmented = await json<Record<string, number>>('rpost', `method=VisitsSummary.get&idSite=1&period=range&date=${from},${to}&segment=${encodeURIComponent(row.segment)}`);
        expect(segmented['nb_visits'], `${method} ${row.segment}`).toBe(row.nb_visits);
      }
    }
    const websites = await json<{ label: string; subtable?: { label: string }[] }[]>('rpost', `method=Referrers.getWebsites&idSite=1&period=range&date=${from},${to}&expanded=1`);
    expect(websites[0]).toMatchObject({ label: 'blog.partner.example', subtable: [expect.objectContaining({ label: 'blog.partner.example/post' })] });
    const keywords = await json<{ label: string }[]>('rpost', `method=Referrers.getKeywords&idSite=1&period=range&date=${from},${to}`);
    expect(keywords.map((row) => row.label)).toEqual(['garden tools']);
    const names = await json<{ label: string; nb_events: number }[]>('rpost', `method=Events.getName&idSite=1&period=range&date=${from},${to}&flat=1`);
    const plays = (generated.get('rpost') ?? []).flatMap((v) => v.hits).filter((hit) => hit.query['e_a'] === 'Play').length;
    expect(names.find((row) => row.label === 'Intro - Play')?.nb_events ?? 0).toBe(plays);
    const downloads = await json<{ label: string; nb_hits: number }[]>('rpost', `method=Actions.getDownloads&idSite=1&period=range&date=${from},${to}&flat=1`);
    expect(downloads.map((row) => row.label)).toEqual(['shop.example/files/catalog.pdf']);
    const searches = await json<{ label: string }[]>('rpost', `method=Actions.getSiteSearchKeywords&idSite=1&period=range&date=${from},${to}`);
    expect(searches.map((row) => row.label).sort()).toEqual(['rake', 'shovel']);
    const entries = await json<{ label: string; entry_nb_visits: number }[]>('rpost', `method=Actions.getEntryPageUrls&idSite=1&period=range&date=${from},${to}&flat=1&filter_limit=-1`);
    expect(entries.reduce((sum, row) => sum + row.entry_nb_visits, 0)).toBe(total);
    const tsv = await h.app.inject({ method: 'GET', url: `/index.php?module=API&method=DevicesDetection.getType&idSite=1&period=week&date=${FIRST_DAY}&format=tsv&convertToUnicode=0&token_auth=${tokens.get('rpost') ?? ''}`, headers: { host: 'rpost.test' } });
    expect(tsv.body.split('\n')[0]).toMatch(/^label\t/);
  });

  it('answers reports inside API.getBulkRequest, errors in place', async () => {
    const urls = [
      `method=VisitsSummary.get&idSite=1&period=month&date=${FIRST_DAY}`,
      `method=Actions.get&idSite=1&period=month&date=${FIRST_DAY}`,
      `method=VisitsSummary.get&idSite=1&period=month&date=someday`,
    ];
    const query = urls.map((url, i) => `urls[${i}]=${encodeURIComponent(url)}`).join('&');
    const answer = await json<unknown[]>('rlite', `method=API.getBulkRequest&${query}`);
    const month = periodOf('month', FIRST_DAY);
    expect(answer).toEqual([
      expect.objectContaining({ nb_visits: expected(generated.get('rlite') ?? [], month.start, month.end).nb_visits + 1 }),
      expect.objectContaining({ nb_pageviews: expect.any(Number) }),
      { result: 'error', message: expect.stringContaining('someday') },
    ]);
  });

  it('refuses bad input with Matomo errors, never a 500', async () => {
    const cases: [string, RegExp][] = [
      ['method=VisitsSummary.get&idSite=1&period=day&date=yesterdayish', /date/],
      ['method=VisitsSummary.get&idSite=1&period=fortnight&date=today', /period/],
      ['method=VisitsSummary.get&idSite=1&period=day&date=today&segment=pageUrl~~x', /segment/i],
      ['method=VisitsSummary.get&idSite=1&period=day&date=today&segment=unknownThing==1', /not a supported segment/],
      ['method=Actions.getPageUrls&idSite=1&period=day&date=today&filter_limit=abc', /filter_limit/],
      ['method=VisitsSummary.nothing&idSite=1&period=day&date=today', /does not exist/],
      ['method=VisitsSummary.get&idSite=99&period=day&date=today', /website/],
      ['method=VisitsSummary.get&period=day&date=today', /idSite/],
    ];
    for (const [query, message] of cases) {
      const response = await api('rlite', query);
      expect(response.status, query).toBeLessThan(500);
      expect(response.body, query).toMatchObject({ result: 'error', message: expect.stringMatching(message) });
    }
  });

  it('never shows one tenant the other tenant\'s numbers', async () => {
    const other = await json<Record<string, number>>('rpost', `method=VisitsSummary.get&idSite=1&period=range&date=${FIRST_DAY},${addDays(FIRST_DAY, DAYS - 1)}`);
    expect(other['nb_visits']).toBe(expected(generated.get('rpost') ?? [], FIRST_DAY, addDays(FIRST_DAY, DAYS - 1)).nb_visits);
    // rlite's token means nothing on rpost's host.
    const response = await h.app.inject({ method: 'GET', url: `/index.php?module=API&method=VisitsSummary.get&idSite=1&period=day&date=${FIRST_DAY}&format=json&token_auth=${tokens.get('rlite') ?? ''}`, headers: { host: 'rpost.test' } });
    expect(response.json()).toMatchObject({ result: 'error' });
  });
});

/**
 * Attributes, row-level data policies and sensitive columns, over HTTP against hits
 * tracked through /matomo.php, on a SQLite tenant (acme) and a PostgreSQL tenant
 * (globex). Each tenant holds the same four visits, one of them on the other
 * tenant's host name, so `{{@tenant.slug}}` must be filled in per tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, TEST_PASSWORD, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { createToken } from '../access/tokens.js';
import { createUser, setUserAccess } from '../access/users.service.js';
import { parseSegment, segmentMatches } from '../reports/segments.js';
import { setGroupMembership } from './groups.service.js';
import { instantiateTemplate, NO_DATA_SEGMENT, validateTemplate } from './data-policy.js';
import { andSegments, orSegments } from '../reports/segments.js';
import type { EffectiveAttributes } from './attributes.js';

const PLATFORM = 'platform.test';
const TENANTS = [
  { slug: 'acme', host: 'acme.test', other: 'globex' },
  { slug: 'globex', host: 'globex.test', other: 'acme' },
] as const;
type Slug = (typeof TENANTS)[number]['slug'];

/** The visits every tenant gets: label → (user id, page URLs). */
const visitsOf = (slug: Slug, other: Slug): Record<string, { uid: string; urls: string[] }> => ({
  v1: { uid: 'alice', urls: [`https://${slug}.example.com/eu/a`, `https://${slug}.example.com/eu/b`] },
  v2: { uid: 'bob', urls: [`https://${slug}.example.com/us/a`] },
  v3: { uid: 'carol', urls: ['https://other.example.com/x'] },
  v4: { uid: 'dave', urls: [`https://${other}.example.com/eu/z`] },
});

const attributesOf = (values: Record<string, string>): EffectiveAttributes => new Map(Object.entries(values).map(([name, value]) => [name, { value, source: 'tenant' as const }]));

describe('data policy templates (pure)', () => {
  it('accepts placeholders in values, with valid names and @tenant.slug as the only built-in', () => {
    expect(validateTemplate(' pageUrl=^https://{{@tenant.slug}}.example.com ').template).toBe('pageUrl=^https://{{@tenant.slug}}.example.com');
    expect(validateTemplate('dimension1=={{region}};visitCount>=1').attributes).toEqual(['region']);
    const refused = (template: string): string => {
      try {
        validateTemplate(template);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
      throw new Error(`accepted: ${template}`);
    };
    expect(refused('pageUrl=@{{@tenant.name}}')).toContain('Unknown built-in attribute');
    expect(refused('pageUrl=@{{bad name}}')).toContain('does not name an attribute');
    expect(refused('pageUrl=@{{region}')).toContain('Braces');
    expect(refused('{{field}}==x')).toContain('attributes stand only in values');
    expect(refused('dimension{{n}}==x')).toContain('attributes stand only in values');
    expect(refused('nonsense=={{region}}')).toContain('not a supported segment');
    expect(refused('visitCount>{{n}}a')).toContain('not a valid segment once filled in');
    expect(refused(`pageUrl=@${'x'.repeat(1001)}`)).toContain('at most 1000');
    expect(refused('   ')).toContain('cannot be empty');
  });

  it('fills values URL-encoded, so an attribute can never add a condition; a missing or empty attribute gives no segment', () => {
    const template = 'pageUrl=@/{{region}}/';
    const injected = instantiateTemplate(template, attributesOf({ region: 'x/,pageUrl=@/' }));
    expect(injected?.and).toEqual([[{ name: 'pageUrl', operator: '=@', value: '/x/,pageUrl=@//' }]]);
    const escaped = instantiateTemplate(template, attributesOf({ region: 'x\\;visitCount>0' }));
    expect(escaped?.and).toHaveLength(1);
    expect(instantiateTemplate(template, attributesOf({}))).toBeNull();
    expect(instantiateTemplate(template, attributesOf({ region: '' }))).toBeNull();
    // A numeric comparison with a value that is not a number: nothing, not everything.
    expect(instantiateTemplate('visitCount>{{n}}', attributesOf({ n: 'many' }))).toBeNull();
  });

  it('ORs policies by distribution and ANDs segments as conditions, never as text', () => {
    const union = orSegments([parseSegment('pageUrl=@a;browserName==Firefox'), parseSegment('pageUrl=@b')]);
    const subject = (url: string, browser: string) => ({ value: (name: string) => (name === 'pageUrl' ? url : name === 'browserName' ? browser : null) });
    expect(segmentMatches(union, subject('/a', 'Firefox'))).toBe(true);
    expect(segmentMatches(union, subject('/a', 'Chrome'))).toBe(false);
    expect(segmentMatches(union, subject('/b', 'Chrome'))).toBe(true);
    expect(parseSegment(union.definition).and).toEqual(union.and);
    // A trailing backslash in the request's segment cannot swallow the policy's delimiter.
    const combined = andSegments(parseSegment('pageUrl!@zzz\\'), parseSegment('pageUrl=^https://acme'));
    expect(combined.and).toHaveLength(2);
    expect(parseSegment(combined.definition).and).toEqual(combined.and);
    expect(segmentMatches(NO_DATA_SEGMENT, { value: () => 'abc' })).toBe(false);
    expect(segmentMatches(NO_DATA_SEGMENT, { value: () => null })).toBe(false);
  });
});

describe('attributes, data policies and sensitive columns over HTTP', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const tokens = new Map<string, string>();
  const groups = new Map<string, number>();

  const hostOf = (slug: Slug): string => TENANTS.find((t) => t.slug === slug)?.host ?? '';
  const tokenOf = (slug: Slug | 'platform', login: string): string => {
    const token = tokens.get(`${slug}:${login}`);
    if (!token) throw new Error(`no token for ${slug}:${login}`);
    return token;
  };
  const matomo = (slug: Slug, login: string, query: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    h.app.inject({ method: 'GET', url: `/index.php?module=API&token_auth=${tokenOf(slug, login)}&${query}`, headers: { host: hostOf(slug), ...extra } });
  const json = async <T>(slug: Slug, login: string, query: string): Promise<T> => {
    const response = await matomo(slug, login, `format=json&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<T>();
  };
  const rest = (host: string, token: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    h.app.inject({ method, url, headers: { host, authorization: `Bearer ${token}`, ...extra }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  const ops = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> => rest(PLATFORM, tokenOf('platform', 'ops'), method, url, payload);

  const TODAY = 'period=day&date=today&idSite=1';
  const visitsSeen = async (slug: Slug, login: string, segment?: string): Promise<number> => {
    const value = await json<{ nb_visits?: number } | []>(slug, login, `method=VisitsSummary.get&${TODAY}${segment ? `&segment=${encodeURIComponent(segment)}` : ''}`);
    return Array.isArray(value) ? 0 : (value.nb_visits ?? 0);
  };
  /** Which of v1..v4 Live shows, by their first page URL. */
  const liveLabels = async (slug: Slug, login: string, segment?: string): Promise<string[]> => {
    const visits = await json<{ actionDetails: { url: string }[] }[]>(slug, login, `method=Live.getLastVisitsDetails&${TODAY}&filter_limit=-1${segment ? `&segment=${encodeURIComponent(segment)}` : ''}`);
    const tenant = TENANTS.find((t) => t.slug === slug);
    const byUrl = new Map(Object.entries(visitsOf(slug, tenant?.other ?? 'acme')).map(([label, v]) => [v.urls[0], label]));
    return visits.map((visit) => byUrl.get(visit.actionDetails[0]?.url ?? '') ?? '?').sort();
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('datapol');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    const system = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: TEST_PASSWORD, superuser: true });
    const registryDb = identityDbFor(h.platform, { kind: 'platform' });
    const opsRow = await identityStore.findUserByLogin(registryDb, 'ops');
    tokens.set('platform:ops', (await createToken(registryDb, h.platform.secret, opsRow?.id ?? 0, { description: 'test' })).token);

    // Groups and their policies, through the REST API as a platform admin.
    for (const [name, template] of [
      ['Slug scoped', 'pageUrl=^https://{{@tenant.slug}}.example.com'],
      ['Regional', 'pageUrl=@/{{region}}/'],
      ['Teams', 'pageUrl=@/{{team}}/'],
      ['Other hosts', 'pageUrl=^https://other.example.com'],
    ] as const) {
      const created = await ops('POST', '/api/v1/groups', { kind: 'tenant', name });
      expect(created.statusCode, created.body).toBe(201);
      const id = created.json<{ id: number }>().id;
      groups.set(name, id);
      const set = await ops('PUT', `/api/v1/groups/${id}/policy`, { template });
      expect(set.statusCode, set.body).toBe(200);
    }

    const members: Record<string, { superuser?: boolean; groups: string[] }> = {
      root: { superuser: true, groups: [] },
      ann: { groups: ['Slug scoped'] },
      reg: { groups: ['Regional'] },
      ovr: { groups: ['Regional'] },
      miss: { groups: ['Teams'] },
      two: { groups: ['Regional', 'Other hosts'] },
      boss: { superuser: true, groups: ['Regional'] },
      inj: { groups: ['Regional'] },
    };
    for (const { slug, host, other } of TENANTS) {
      await h.addTenant(slug, [host], slug === 'globex' ? pg.url : 'sqlite');
      await h.platform.tenants.update(slug, { attributes: { region: 'eu' } });
      await h.addSite(slug, `${slug}-shop`);
      for (const [login, spec] of Object.entries(members)) {
        await h.addUser(slug, login, { superuser: spec.superuser ?? false });
        await h.asOperator(slug, async (ctx) => {
          if (!spec.superuser) await setUserAccess(ctx, login, 'view', [1]);
          for (const group of spec.groups) await setGroupMembership(ctx, groups.get(group) ?? 0, login, true);
          const db = identityDbFor(ctx.platform, ctx.scope);
          const user = await identityStore.findUserByLogin(db, login);
          tokens.set(`${slug}:${login}`, (await createToken(db, ctx.platform.secret, user?.id ?? 0, { description: 'test' })).token);
        });
      }
      let n = 0;
      for (const visit of Object.values(visitsOf(slug, other))) {
        n += 1;
        for (const url of visit.urls) {
          const response = await h.app.inject({
            method: 'GET',
            url: `/matomo.php?idsite=1&rec=1&send_image=0&_id=${n.toString(16).padStart(16, '0')}&uid=${visit.uid}&action_name=Page&url=${encodeURIComponent(url)}`,
            headers: { host, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
          });
          expect(response.statusCode).toBe(204);
        }
      }
    }
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it('a policy with {{@tenant.slug}}: each tenant\'s members see their own host\'s rows only; a super user without a policy sees all', async () => {
    for (const { slug } of TENANTS) {
      expect(await visitsSeen(slug, 'root')).toBe(4);
      expect(await liveLabels(slug, 'root')).toEqual(['v1', 'v2', 'v3', 'v4']);
      expect(await visitsSeen(slug, 'ann')).toBe(2);
      expect(await liveLabels(slug, 'ann')).toEqual(['v1', 'v2']);
      const pages = await json<{ label: string }[]>(slug, 'ann', `method=Actions.getPageUrls&${TODAY}&flat=1`);
      expect(pages.length).toBeGreaterThan(0);
      expect(JSON.stringify(pages)).not.toContain('other.example.com');
      const policy = await rest(hostOf(slug), tokenOf(slug, 'root'), 'GET', '/api/v1/users/ann/data-policy');
      expect(policy.json()).toMatchObject({ applies: true, segment: `pageUrl=^${encodeURIComponent(`https://${slug}.example.com`)}`, policies: [{ group: 'Slug scoped' }] });
    }
  });

  it('a policy with a custom attribute: inherited from the tenant, overridden per user (super users only, audited), shown by /api/v1/me', async () => {
    for (const { slug, host } of TENANTS) {
      expect(await liveLabels(slug, 'reg')).toEqual(['v1', 'v4']);
      // Before the override ovr inherits eu like reg.
      expect(await liveLabels(slug, 'ovr')).toEqual(['v1', 'v4']);
      expect((await rest(host, tokenOf(slug, 'ovr'), 'PUT', '/api/v1/users/ovr/attributes', { attributes: { region: 'us' } })).statusCode).toBe(403);
      expect((await rest(host, tokenOf(slug, 'ann'), 'GET', '/api/v1/users/ovr/attributes')).statusCode).toBe(403);
      const refused = await rest(host, tokenOf(slug, 'root'), 'PUT', '/api/v1/users/ovr/attributes', { attributes: { '@tenant.slug': 'globex' } });
      expect(refused.statusCode).toBe(400);
      expect(refused.json<{ error: { message: string } }>().error.message).toContain('cannot be set or overridden');
      expect((await rest(host, tokenOf(slug, 'root'), 'PUT', '/api/v1/users/ovr/attributes', { attributes: { 'bad name': 'x' } })).statusCode).toBe(400);

      const set = await rest(host, tokenOf(slug, 'root'), 'PUT', '/api/v1/users/ovr/attributes', { attributes: { region: 'us' } });
      expect(set.statusCode, set.body).toBe(200);
      expect(set.json()).toMatchObject({ login: 'ovr', attributes: { region: { value: 'us', source: 'user' }, '@tenant.slug': { value: slug, source: 'builtin' } }, overrides: { region: 'us' } });
      expect(await liveLabels(slug, 'ovr')).toEqual(['v2']);
      expect(await visitsSeen(slug, 'ovr')).toBe(1);

      const own = await rest(host, tokenOf(slug, 'ovr'), 'GET', '/api/v1/users/ovr/attributes');
      expect(own.json()).toMatchObject({ attributes: { region: { value: 'us', source: 'user' } } });
      const reg = await rest(host, tokenOf(slug, 'root'), 'GET', '/api/v1/users/reg/attributes');
      expect(reg.json()).toMatchObject({ attributes: { region: { value: 'eu', source: 'tenant' } }, overrides: {} });
      const me = await rest(host, tokenOf(slug, 'ovr'), 'GET', '/api/v1/me');
      expect(me.json<{ attributes: Record<string, string> }>().attributes).toEqual({ region: 'us', '@tenant.slug': slug });
      const audit = await rest(host, tokenOf(slug, 'root'), 'GET', '/api/v1/audit');
      expect(audit.body).toContain('user.attributes_changed');
    }
    // A tenant attribute change applies at once.
    await h.platform.tenants.update('acme', { attributes: { region: 'us' } });
    expect(await liveLabels('acme', 'reg')).toEqual(['v2']);
    await h.platform.tenants.update('acme', { attributes: { region: 'eu' } });
    expect(await liveLabels('acme', 'reg')).toEqual(['v1', 'v4']);
  });

  it('a member whose attribute is missing sees no data at all, in reports, Live and counters', async () => {
    for (const { slug } of TENANTS) {
      expect(await visitsSeen(slug, 'miss')).toBe(0);
      expect(await liveLabels(slug, 'miss')).toEqual([]);
      expect(await json<unknown[]>(slug, 'miss', `method=Actions.getPageUrls&${TODAY}`)).toEqual([]);
      expect(await json<{ visits: number }[]>(slug, 'miss', 'method=Live.getCounters&idSite=1&lastMinutes=60')).toEqual([{ visits: 0, actions: 0, visitors: 0, visitsConverted: 0 }]);
      expect(await json<{ visits: number }[]>(slug, 'ann', 'method=Live.getCounters&idSite=1&lastMinutes=60')).toEqual([expect.objectContaining({ visits: 2, actions: 3 })]);
      expect(await json<{ visits: number }[]>(slug, 'root', 'method=Live.getCounters&idSite=1&lastMinutes=60')).toEqual([expect.objectContaining({ visits: 4, actions: 5 })]);
    }
  });

  it('two groups with policies: the union of what each allows; a super user is subject to its groups\' policies too', async () => {
    for (const { slug } of TENANTS) {
      expect(await liveLabels(slug, 'two')).toEqual(['v1', 'v3', 'v4']);
      expect(await visitsSeen(slug, 'two')).toBe(3);
      expect(await liveLabels(slug, 'boss')).toEqual(['v1', 'v4']);
    }
  });

  it('an attribute value cannot inject segment operators', async () => {
    for (const { slug, host } of TENANTS) {
      const set = await rest(host, tokenOf(slug, 'root'), 'PUT', '/api/v1/users/inj/attributes', { attributes: { region: 'zz/,pageUrl=@/' } });
      expect(set.statusCode).toBe(200);
      expect(await visitsSeen(slug, 'inj')).toBe(0);
      await rest(host, tokenOf(slug, 'root'), 'PUT', '/api/v1/users/inj/attributes', { attributes: { region: 'eu\\' } });
      expect(await visitsSeen(slug, 'inj')).toBe(0);
    }
  });

  it('the request segment narrows but never widens: Matomo API, API.getBulkRequest, Live, csv/xml/tsv exports, saved reports and dashboards', async () => {
    for (const { slug, host } of TENANTS) {
      expect(await visitsSeen(slug, 'ann', 'pageUrl=^https://other.example.com')).toBe(0);
      expect(await visitsSeen(slug, 'ann', 'pageUrl=^https://other.example.com,visitCount>=1')).toBe(2);
      expect(await visitsSeen(slug, 'ann', 'pageUrl!@zzz\\')).toBe(2);
      expect(await visitsSeen(slug, 'ann', 'pageUrl=@/us/')).toBe(1);
      expect(await liveLabels(slug, 'ann', 'pageUrl=^https://other.example.com')).toEqual([]);
      expect(await liveLabels(slug, 'ann', `pageUrl=^${encodeURIComponent(`https://${slug}.example.com/us`)}`)).toEqual(['v2']);

      const bulk = await matomo(slug, 'ann', [
        'format=json&method=API.getBulkRequest',
        `urls[0]=${encodeURIComponent(`method=VisitsSummary.get&${TODAY}`)}`,
        `urls[1]=${encodeURIComponent(`method=VisitsSummary.get&${TODAY}&segment=${encodeURIComponent('pageUrl=@other')}`)}`,
        `urls[2]=${encodeURIComponent(`method=Live.getLastVisitsDetails&${TODAY}&filter_limit=-1`)}`,
      ].join('&'));
      const answers = bulk.json<[{ nb_visits: number }, unknown, unknown[]]>();
      expect(answers[0].nb_visits).toBe(2);
      expect(answers[1]).toEqual([]);
      expect(answers[2]).toHaveLength(2);

      const csv = await matomo(slug, 'ann', `format=csv&convertToUnicode=0&method=VisitsSummary.get&${TODAY}`);
      const [header = '', values = ''] = csv.body.split('\n');
      expect(values.split(',')[header.split(',').indexOf('nb_visits')]).toBe('2');
      const pagesCsv = await matomo(slug, 'ann', `format=csv&convertToUnicode=0&method=Actions.getPageUrls&${TODAY}&flat=1`);
      expect(pagesCsv.body).toContain(`${slug}.example.com`);
      expect(pagesCsv.body).not.toContain('other.example.com');
      for (const format of ['xml', 'tsv']) {
        const pages = await matomo(slug, 'ann', `format=${format}&convertToUnicode=0&method=Actions.getPageUrls&${TODAY}&flat=1`);
        expect(pages.statusCode).toBe(200);
        expect(pages.body).not.toContain('other.example.com');
      }

      // A saved report and a dashboard in the tenant collection: each viewer gets its own rows.
      const report = await rest(host, tokenOf(slug, 'root'), 'POST', '/api/v1/items', { collectionId: 'tenant', kind: 'saved_report', name: 'Visits today', definition: { method: 'VisitsSummary.get', params: { idSite: '1', period: 'day', date: 'today' }, segment: 'visitCount>=1', visualization: 'number' } });
      expect(report.statusCode, report.body).toBe(201);
      const reportId = report.json<{ id: string }>().id;
      const board = await rest(host, tokenOf(slug, 'root'), 'POST', '/api/v1/items', {
        collectionId: 'tenant',
        kind: 'dashboard',
        name: 'Board',
        definition: { widgets: [{ id: 'w1', item: reportId, x: 0, y: 0, w: 6, h: 2 }, { id: 'w2', report: { method: 'Live.getLastVisitsDetails', params: { idSite: '1', period: 'day', date: 'today', filter_limit: '-1' }, visualization: 'table' }, x: 6, y: 0, w: 6, h: 2 }] },
      });
      expect(board.statusCode, board.body).toBe(201);
      const boardId = board.json<{ id: string }>().id;
      for (const [login, visits] of [['root', 4], ['ann', 2], ['miss', 0]] as const) {
        const data = await rest(host, tokenOf(slug, login), 'GET', `/api/v1/items/${reportId}/data`);
        expect(data.statusCode, data.body).toBe(200);
        const value = data.json<{ data: { nb_visits?: number } | [] }>().data;
        expect(Array.isArray(value) ? 0 : value.nb_visits).toBe(visits);
        const dashboard = await rest(host, tokenOf(slug, login), 'GET', `/api/v1/items/${boardId}/data`);
        const widgets = dashboard.json<{ widgets: { id: string; data: unknown }[] }>().widgets;
        expect(widgets.find((w) => w.id === 'w2')?.data).toHaveLength(visits);
      }
    }
  });

  it('sensitive columns (IP, user id, visitor id) are hidden from a view user in json, xml, csv and REST runs, shown to the super user, and cannot be probed by segment', async () => {
    for (const { slug, host } of TENANTS) {
      const query = `method=Live.getLastVisitsDetails&${TODAY}&filter_limit=-1&convertToUnicode=0`;
      const hidden = await json<{ visitIp: string | null; userId: string | null; visitorId: string | null }[]>(slug, 'ann', query);
      expect(hidden).toHaveLength(2);
      for (const visit of hidden) expect([visit.visitIp, visit.userId, visit.visitorId]).toEqual([null, null, null]);
      const shown = await json<{ visitIp: string | null; userId: string | null; visitorId: string | null }[]>(slug, 'root', query);
      expect(shown.map((v) => v.userId).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
      for (const visit of shown) {
        expect(visit.visitIp).toMatch(/^127\./);
        expect(visit.visitorId).toMatch(/^[0-9a-f]{16}$/);
      }
      for (const format of ['xml', 'csv', 'tsv']) {
        const forAnn = await matomo(slug, 'ann', `format=${format}&${query}`);
        expect(forAnn.statusCode).toBe(200);
        expect(forAnn.body).toContain(`${slug}.example.com`);
        for (const secret of ['alice', 'bob', '127.0.0', ...shown.map((v) => v.visitorId ?? '')]) expect(forAnn.body, `${format}: ${secret}`).not.toContain(secret);
        const forRoot = await matomo(slug, 'root', `format=${format}&${query}`);
        expect(forRoot.body).toContain('alice');
        expect(forRoot.body).toContain('127.0.0');
      }
      const saved = await rest(host, tokenOf(slug, 'root'), 'POST', '/api/v1/items', { collectionId: 'tenant', kind: 'saved_report', name: 'Visitor log', definition: { method: 'Live.getLastVisitsDetails', params: { idSite: '1', period: 'day', date: 'today', filter_limit: '-1' }, visualization: 'table' } });
      const id = saved.json<{ id: string }>().id;
      const run = await rest(host, tokenOf(slug, 'ann'), 'GET', `/api/v1/items/${id}/data`);
      expect(run.statusCode).toBe(200);
      expect(run.body).not.toContain('alice');
      expect(run.body).not.toContain('127.0.0');
      expect((await rest(host, tokenOf(slug, 'root'), 'GET', `/api/v1/items/${id}/data`)).body).toContain('alice');

      // Filtering by a hidden column would reveal it: refused for the view user, allowed for the super user.
      const probe = await matomo(slug, 'ann', `format=json&${query}&segment=${encodeURIComponent('userId==alice')}`);
      expect(probe.json()).toMatchObject({ result: 'error', message: expect.stringContaining('sensitive data') });
      const probeReport = await matomo(slug, 'ann', `format=json&method=VisitsSummary.get&${TODAY}&segment=${encodeURIComponent('visitorId==0000000000000001')}`);
      expect(probeReport.json()).toMatchObject({ result: 'error' });
      expect(await liveLabels(slug, 'root', 'userId==alice')).toEqual(['v1']);
    }
  });

  it('platform admins acting in a tenant are not restricted; policies are set by platform admins only, on tenant groups only, and removed with DELETE', async () => {
    const acting = await h.app.inject({ method: 'GET', url: `/index.php?module=API&format=json&method=VisitsSummary.get&${TODAY}&token_auth=${tokenOf('platform', 'ops')}`, headers: { host: PLATFORM, 'x-plura-tenant': 'globex' } });
    expect(acting.json<{ nb_visits: number }>().nb_visits).toBe(4);

    const slugGroup = groups.get('Slug scoped') ?? 0;
    expect(await (await ops('GET', `/api/v1/groups/${slugGroup}/policy`)).json()).toMatchObject({ group: 'Slug scoped', template: 'pageUrl=^https://{{@tenant.slug}}.example.com', attributes: ['@tenant.slug'], warnings: [] });
    const teams = await ops('GET', `/api/v1/groups/${groups.get('Teams') ?? 0}/policy`);
    expect(teams.json<{ warnings: string[] }>().warnings[0]).toContain('No tenant defines the attribute "team"');
    expect((await rest('acme.test', tokenOf('acme', 'root'), 'PUT', `/api/v1/groups/${slugGroup}/policy`, { template: 'visitCount>=1' })).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'PUT', url: `/api/v1/groups/${slugGroup}/policy`, headers: { host: PLATFORM }, payload: { template: 'visitCount>=1' } })).statusCode).toBe(401);
    expect((await rest('acme.test', tokenOf('acme', 'root'), 'GET', `/api/v1/groups/${slugGroup}/policy`)).statusCode).toBe(403);
    const bad = await ops('PUT', `/api/v1/groups/${slugGroup}/policy`, { template: 'pageUrl=@{{@tenant.id}}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toContain('Unknown built-in attribute');
    expect((await ops('PUT', `/api/v1/groups/${slugGroup}/policy`, { template: 'pageUrl=^https://{{@tenant.slug}}.example.com;' + 'x'.repeat(1200) })).statusCode).toBe(400);
    const internal = await ops('POST', '/api/v1/groups', { kind: 'internal', name: 'Staff' });
    const refused = await ops('PUT', `/api/v1/groups/${internal.json<{ id: number }>().id}/policy`, { template: 'visitCount>=1' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ error: { message: string } }>().error.message).toContain('internal group');
    expect((await ops('PUT', '/api/v1/groups/99999/policy', { template: 'visitCount>=1' })).statusCode).toBe(404);
    // Still the old policy after the refusals.
    expect(await visitsSeen('acme', 'ann')).toBe(2);

    expect((await ops('DELETE', `/api/v1/groups/${slugGroup}/policy`)).statusCode).toBe(204);
    expect(await visitsSeen('acme', 'ann')).toBe(4);
    expect(await visitsSeen('globex', 'ann')).toBe(4);
    const audit = await h.platform.registry.db.selectFrom('audit_entry').select('action').execute();
    expect(audit.map((row) => row.action)).toEqual(expect.arrayContaining(['group.data_policy_set', 'group.data_policy_removed']));
    expect((await ops('PUT', `/api/v1/groups/${slugGroup}/policy`, { template: 'pageUrl=^https://{{@tenant.slug}}.example.com' })).statusCode).toBe(200);
    expect(await visitsSeen('acme', 'ann')).toBe(2);
  });
});

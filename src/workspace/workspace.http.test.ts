import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, signInOver, type Harness, type Session } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { createUser, setUserAccess } from '../access/users.service.js';

const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const PLATFORM = 'platform.test';

describe('workspace: groups, collections, dashboards and saved reports', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const sessions = new Map<string, Session & { host: string }>();

  const call = async (who: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> => {
    const session = sessions.get(who);
    if (!session) throw new Error(`no session ${who}`);
    return h.app.inject({ method, url, headers: { host: session.host, cookie: session.cookie, 'x-csrf-token': session.csrf }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  };
  const ok = async <T>(response: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const answer = await response;
    expect(answer.statusCode, answer.body).toBe(status);
    return answer.json<T>();
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('workspace');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX], pg.url);
    await h.addSite('acme', 'acme-shop');
    await h.addSite('globex', 'globex-store');
    for (const [slug, host] of [['acme', ACME], ['globex', GLOBEX]] as const) {
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      await h.addUser(slug, `${slug}-ann`);
      await h.asOperator(slug, (ctx) => setUserAccess(ctx, `${slug}-ann`, 'view', [1]));
      sessions.set(`${slug}-root`, { ...(await signInOver(h.app, host, `${slug}-root`)), host });
      sessions.set(`${slug}-ann`, { ...(await signInOver(h.app, host, `${slug}-ann`)), host });
    }
    const system = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: 'correct horse battery', superuser: true });
    await createUser(system, { login: 'analyst', email: 'analyst@platform.example', password: 'correct horse battery' });
    sessions.set('ops', { ...(await signInOver(h.app, PLATFORM, 'ops')), host: PLATFORM });
    sessions.set('analyst', { ...(await signInOver(h.app, PLATFORM, 'analyst')), host: PLATFORM });
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  it("every tenant user curates its own tenant collection and personal collection, and sees nothing of another tenant's", async () => {
    const acme = await ok<{ collections: { id: string; kind: string; access: string }[] }>(call('acme-ann', 'GET', '/api/v1/collections'));
    expect(acme.collections.map((c) => [c.kind, c.access]).sort()).toEqual([
      ['personal', 'curate'],
      ['tenant', 'curate'],
    ]);
    const sub = await ok<{ id: string }>(call('acme-ann', 'POST', '/api/v1/collections', { parentId: 'tenant', name: 'Marketing' }), 201);
    const report = await ok<{ id: string }>(
      call('acme-ann', 'POST', '/api/v1/items', { collectionId: sub.id, kind: 'saved_report', name: 'Site', definition: { method: 'SitesManager.getSiteFromId', params: { idSite: '1' }, visualization: 'table' } }),
      201,
    );
    const data = await ok<{ data: { name: string } }>(call('acme-root', 'GET', `/api/v1/items/${report.id}/data`));
    expect(data.data).toMatchObject({ name: 'acme-shop' });
    // The same ids mean nothing at globex: not found, never another tenant's item.
    expect((await call('globex-root', 'GET', `/api/v1/collections/${sub.id}`)).statusCode).toBe(404);
    expect((await call('globex-root', 'GET', `/api/v1/items/${report.id}`)).statusCode).toBe(404);
    const annPersonal = acme.collections.find((c) => c.kind === 'personal');
    expect((await call('acme-root', 'GET', `/api/v1/collections/${annPersonal?.id ?? ''}`)).statusCode).toBe(404);
  });

  it('shared collections: platform admins curate, groups grant view or curate, tenant groups at most view; a shared dashboard shows each tenant its own data', async () => {
    const groups = await ok<{ groups: { id: number; name: string }[] }>(call('ops', 'GET', '/api/v1/groups'));
    const allTenant = groups.groups.find((g) => g.name === 'All tenant users');
    const allInternal = groups.groups.find((g) => g.name === 'All internal users');
    expect(allTenant && allInternal).toBeTruthy();
    expect((await call('acme-ann', 'GET', '/api/v1/collections/shared')).statusCode).toBe(404);

    const board = await ok<{ id: string }>(
      call('ops', 'POST', '/api/v1/items', {
        collectionId: 'shared',
        kind: 'dashboard',
        name: 'Overview',
        definition: { widgets: [{ id: 'w1', title: 'Site', report: { method: 'SitesManager.getSiteFromId', params: { idSite: '1' }, visualization: 'number' }, x: 0, y: 0, w: 6, h: 4 }] },
      }),
      201,
    );
    const refused = await call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant?.id, level: 'curate' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ error: { message: string } }>().error.message).toContain('at most view');
    await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant?.id, level: 'view' }));

    for (const [who, site] of [['acme-ann', 'acme-shop'], ['globex-ann', 'globex-store']] as const) {
      const shared = await ok<{ access: string; reason: string }>(call(who, 'GET', '/api/v1/collections/shared'));
      expect(shared).toMatchObject({ access: 'view', reason: 'group "All tenant users" grants view' });
      const data = await ok<{ widgets: { id: string; data: { name: string } }[] }>(call(who, 'GET', `/api/v1/items/${board.id}/data`));
      expect(data.widgets[0]?.data.name).toBe(site);
      expect((await call(who, 'PATCH', `/api/v1/items/${board.id}`, { name: 'Mine now' })).statusCode).toBe(403);
    }
    // A non-admin platform user: nothing until an internal group grants it.
    expect((await call('analyst', 'GET', '/api/v1/collections/shared')).statusCode).toBe(404);
    await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allInternal?.id, level: 'curate' }));
    expect(await ok<{ access: string }>(call('analyst', 'GET', '/api/v1/collections/shared'))).toMatchObject({ access: 'curate' });
  });

  it('internal collections: tenant users never see them, not even their names; tenant groups can never be granted them', async () => {
    const secret = await ok<{ id: string }>(call('ops', 'POST', '/api/v1/collections', { parentId: 'internal', name: 'Board pack' }), 201);
    const groups = await ok<{ groups: { id: number; name: string }[] }>(call('ops', 'GET', '/api/v1/groups'));
    const allTenant = groups.groups.find((g) => g.name === 'All tenant users');
    const refused = await call('ops', 'PUT', `/api/v1/collections/${secret.id}/permissions`, { groupId: allTenant?.id, level: 'view' });
    expect(refused.statusCode).toBe(400);
    const list = await call('acme-root', 'GET', '/api/v1/collections');
    expect(list.body).not.toContain('Board pack');
    expect(list.body).not.toContain('Internal');
    expect((await call('acme-root', 'GET', `/api/v1/collections/${secret.id}`)).statusCode).toBe(404);
    expect((await call('acme-root', 'GET', '/api/v1/collections/internal')).statusCode).toBe(404);
  });

  it('group membership: tenant users join tenant groups only, platform users internal groups only', async () => {
    const editors = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Editors' }), 201);
    const staff = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'internal', name: 'Staff' }), 201);
    expect((await call('acme-root', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Mine' })).statusCode).toBe(403);
    expect((await call('acme-root', 'PUT', `/api/v1/groups/${editors.id}/members/acme-ann`)).statusCode).toBe(204);
    const members = await ok<{ members: { login: string }[] }>(call('acme-root', 'GET', `/api/v1/groups/${editors.id}/members`));
    expect(members.members).toEqual([{ login: 'acme-ann', source: 'manual' }]);
    // globex's super user sees only globex's members of the same tenant group.
    expect((await ok<{ members: unknown[] }>(call('globex-root', 'GET', `/api/v1/groups/${editors.id}/members`))).members).toEqual([]);
    const wrongKind = await call('acme-root', 'PUT', `/api/v1/groups/${staff.id}/members/acme-ann`);
    expect(wrongKind.statusCode).toBe(403);
    expect(wrongKind.json<{ error: { message: string } }>().error.message).toContain('can never join the internal group');
    const platformWrong = await call('ops', 'PUT', `/api/v1/groups/${editors.id}/members/analyst`);
    expect(platformWrong.json<{ error: { message: string } }>().error.message).toContain('can never join the tenant group');
    expect((await call('acme-ann', 'PUT', `/api/v1/groups/${editors.id}/members/acme-root`)).statusCode).toBe(403);
  });

  it('refuses bad definitions: unknown shapes, invalid segments, oversized layouts, widgets naming foreign items', async () => {
    const bad = async (definition: unknown, kind = 'saved_report') => {
      const response = await call('acme-ann', 'POST', '/api/v1/items', { collectionId: 'tenant', kind, name: 'x', definition });
      expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      return response.json<{ error: { message: string } }>().error.message;
    };
    expect(await bad({ method: 'VisitsSummary.get', params: {}, visualization: 'radar' })).toContain('not valid');
    expect(await bad({ method: 'VisitsSummary.get', params: {}, segment: 'browserCode==', visualization: 'table' })).toContain('segment');
    const widgets = Array.from({ length: 51 }, (_, i) => ({ id: `w${i}`, report: { method: 'VisitsSummary.get', params: {}, visualization: 'number' }, x: 0, y: i, w: 1, h: 1 }));
    expect(await bad({ widgets }, 'dashboard')).toContain('not valid');
    expect(await bad({ widgets: [{ id: 'a', item: 'no-such-item', x: 0, y: 0, w: 1, h: 1 }] }, 'dashboard')).toContain('not a saved report available');
  });
});

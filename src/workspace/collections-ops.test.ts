import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { openHarness, signInOver, type Harness, type Session } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { createUser, setUserAccess } from '../access/users.service.js';
import { platformAuditDb, scopeAuditDb } from '../audit/audit.service.js';

const PLATFORM = 'platform.test';
const TENANTS = [
  { slug: 'acme', host: 'acme.test', site: 'acme-shop', storage: 'sqlite' },
  { slug: 'globex', host: 'globex.test', site: 'globex-store', storage: 'postgres' },
] as const;

interface CollectionBody {
  id: string;
  kind: string;
  parentId: string | null;
  name: string;
  description: string;
  archived: boolean;
  access: string;
}
interface ItemBody {
  id: string;
  collectionId: string;
  kind: string;
  name: string;
  archived: boolean;
  definition: { widgets?: { id: string; item?: string; report?: { method: string } }[] };
}
interface ErrorBody {
  error: { code: string; message: string };
}

const report = (method = 'SitesManager.getSiteFromId') => ({ method, params: { idSite: '1' }, visualization: 'table' });
const widget = (id: string, item: string) => ({ id, item, x: 0, y: 0, w: 6, h: 4 });

describe('collection operations: rename, move, copy, archive, delete, explain', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const sessions = new Map<string, Session & { host: string; headers?: Record<string, string> }>();

  const call = async (who: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> => {
    const session = sessions.get(who);
    if (!session) throw new Error(`no session ${who}`);
    return h.app.inject({
      method,
      url,
      headers: { host: session.host, cookie: session.cookie, 'x-csrf-token': session.csrf, ...session.headers },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  };
  const ok = async <T>(response: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const answer = await response;
    expect(answer.statusCode, answer.body).toBe(status);
    return (answer.body === '' ? undefined : answer.json<T>()) as T;
  };
  /** A refused call: the expected 4xx, and the words of its message. */
  const refused = async (response: Promise<LightMyRequestResponse>, status: number, words?: string): Promise<string> => {
    const answer = await response;
    expect(answer.statusCode, answer.body).toBe(status);
    const message = answer.json<ErrorBody>().error.message;
    if (words !== undefined) expect(message).toContain(words);
    return message;
  };
  const newCollection = (who: string, parentId: string, name: string) => ok<CollectionBody>(call(who, 'POST', '/api/v1/collections', { parentId, name }), 201);
  const newItem = (who: string, collectionId: string, name: string, kind: 'saved_report' | 'dashboard', definition: unknown) =>
    ok<ItemBody>(call(who, 'POST', '/api/v1/items', { collectionId, kind, name, definition }), 201);
  const personalOf = async (who: string): Promise<string> => {
    const list = await ok<{ collections: CollectionBody[] }>(call(who, 'GET', '/api/v1/collections'));
    const personal = list.collections.find((c) => c.kind === 'personal' && c.parentId === null);
    if (!personal) throw new Error(`no personal collection for ${who}`);
    return personal.id;
  };
  const auditActions = async (slug: string | null): Promise<string[]> => {
    const rows =
      slug === null
        ? await platformAuditDb(h.platform).selectFrom('audit_entry').select('action').orderBy('id').execute()
        : await h.asOperator(slug, (ctx) => scopeAuditDb(ctx).selectFrom('audit_entry').select('action').orderBy('id').execute());
    return rows.map((row) => row.action);
  };
  const groupId = async (name: string): Promise<number> => {
    const groups = await ok<{ groups: { id: number; name: string }[] }>(call('ops', 'GET', '/api/v1/groups'));
    const group = groups.groups.find((g) => g.name === name);
    if (!group) throw new Error(`no group ${name}`);
    return group.id;
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('collops');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM, PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    for (const tenant of TENANTS) {
      await h.addTenant(tenant.slug, [tenant.host], tenant.storage === 'postgres' ? pg.url : 'sqlite');
      await h.addSite(tenant.slug, tenant.site);
      await h.addUser(tenant.slug, `${tenant.slug}-root`, { superuser: true });
      for (const login of [`${tenant.slug}-ann`, `${tenant.slug}-bob`]) {
        await h.addUser(tenant.slug, login);
        await h.asOperator(tenant.slug, (ctx) => setUserAccess(ctx, login, 'view', [1]));
      }
      for (const login of [`${tenant.slug}-root`, `${tenant.slug}-ann`, `${tenant.slug}-bob`]) sessions.set(login, { ...(await signInOver(h.app, tenant.host, login)), host: tenant.host });
    }
    const system = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: 'correct horse battery', superuser: true });
    await createUser(system, { login: 'analyst', email: 'analyst@platform.example', password: 'correct horse battery' });
    const ops = await signInOver(h.app, PLATFORM, 'ops');
    sessions.set('ops', { ...ops, host: PLATFORM });
    // The same platform admin, acting inside acme (it curates acme's tenant collection and every shared one).
    sessions.set('ops@acme', { ...ops, host: PLATFORM, headers: { 'x-plura-tenant': 'acme' } });
    sessions.set('ops@globex', { ...ops, host: PLATFORM, headers: { 'x-plura-tenant': 'globex' } });
    sessions.set('analyst', { ...(await signInOver(h.app, PLATFORM, 'analyst')), host: PLATFORM });
    await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: await groupId('All tenant users'), level: 'view' }));
  });
  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  for (const tenant of TENANTS) {
    const { slug } = tenant;
    const ann = `${slug}-ann`;
    const root = `${slug}-root`;
    const other = TENANTS.find((t) => t.slug !== slug)?.slug ?? '';

    describe(`inside one tenant (${slug}, ${tenant.storage})`, () => {
      it('renames and describes collections and items; curate needed, roots may be renamed, nothing of another tenant is reachable', async () => {
        const sub = await newCollection(ann, 'tenant', 'Marketing');
        const renamed = await ok<CollectionBody>(call(ann, 'PATCH', `/api/v1/collections/${sub.id}`, { name: 'Campaigns', description: 'Paid and organic' }));
        expect(renamed).toMatchObject({ id: sub.id, name: 'Campaigns', description: 'Paid and organic', kind: 'tenant' });
        expect((await ok<CollectionBody>(call(root, 'GET', `/api/v1/collections/${sub.id}`))).name).toBe('Campaigns');
        await refused(call(ann, 'PATCH', `/api/v1/collections/${sub.id}`, { name: '   ' }), 400, '1 to 200');
        await refused(call(ann, 'PATCH', '/api/v1/collections/shared', { name: 'Mine' }), 403, 'not curate');
        await refused(call(`${other}-root`, 'PATCH', `/api/v1/collections/${sub.id}`, { name: 'Taken over' }), 404);
        const personal = await personalOf(ann);
        expect(await ok<CollectionBody>(call(ann, 'PATCH', `/api/v1/collections/${personal}`, { description: 'My drafts' }))).toMatchObject({ description: 'My drafts' });
        await refused(call(root, 'PATCH', `/api/v1/collections/${personal}`, { name: 'Peeked' }), 404);
        expect(await auditActions(slug)).toContain('collection.updated');
      });

      it('moves collections and items between the tenant collection and the mover\'s personal collection, and back', async () => {
        const personal = await personalOf(ann);
        const drafts = await newCollection(ann, 'tenant', 'Drafts');
        const inner = await newCollection(ann, drafts.id, 'Inner');
        const item = await newItem(ann, inner.id, 'Visits', 'saved_report', report());
        const moved = await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${drafts.id}/move`, { parentId: personal }));
        expect(moved).toMatchObject({ id: drafts.id, parentId: personal, kind: 'personal' });
        // Everything under it became personal too: the super user no longer sees any of it.
        for (const url of [`/api/v1/collections/${drafts.id}`, `/api/v1/collections/${inner.id}`, `/api/v1/items/${item.id}`]) expect((await call(root, 'GET', url)).statusCode).toBe(404);
        expect((await ok<CollectionBody>(call(ann, 'GET', `/api/v1/collections/${inner.id}`))).kind).toBe('personal');
        const back = await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${drafts.id}/move`, { parentId: 'tenant' }));
        expect(back).toMatchObject({ parentId: 'tenant', kind: 'tenant' });
        expect((await ok<ItemBody>(call(root, 'GET', `/api/v1/items/${item.id}`))).collectionId).toBe(inner.id);

        expect(await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: personal }))).toMatchObject({ collectionId: personal });
        expect((await call(root, 'GET', `/api/v1/items/${item.id}`)).statusCode).toBe(404);
        expect(await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: 'tenant' }))).toMatchObject({ collectionId: 'tenant' });
        const actions = await auditActions(slug);
        expect(actions).toContain('collection.moved');
        expect(actions).toContain('saved_report.moved');
      });

      it('refuses moving roots, cycles, into another user\'s personal collection, into shared, internal or another tenant; nothing is half-written', async () => {
        const top = await newCollection(ann, 'tenant', 'Top');
        const child = await newCollection(ann, top.id, 'Child');
        const grandchild = await newCollection(ann, child.id, 'Grandchild');
        const item = await newItem(ann, top.id, 'Report', 'saved_report', report());
        await refused(call(ann, 'POST', '/api/v1/collections/tenant/move', { parentId: top.id }), 400, 'root');
        await refused(call(ann, 'POST', `/api/v1/collections/${await personalOf(ann)}/move`, { parentId: 'tenant' }), 400, 'root');
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: top.id }), 400, 'under itself');
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: grandchild.id }), 400, 'under itself');
        // Another user's personal collection is not even there for ann.
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: await personalOf(`${slug}-bob`) }), 404);
        await refused(call(ann, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: await personalOf(`${slug}-bob`) }), 404);
        // Shared: ann only views it; a platform admin acting in the tenant curates both ends, and the rule still refuses.
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: 'shared' }), 403);
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: 'shared' }), 403, 'other tenants would see it');
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: 'shared' }), 403, 'other tenants would see it');
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: 'internal' }), 403, 'other tenants would see it');
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: 'internal' }), 404);
        // Another tenant's collections and items do not exist here, whatever their ids.
        const foreign = await newCollection(`${other}-ann`, 'tenant', 'Foreign');
        await refused(call(ann, 'POST', `/api/v1/collections/${top.id}/move`, { parentId: foreign.id }), 404);
        await refused(call(`${other}-ann`, 'POST', `/api/v1/items/${item.id}/move`, { collectionId: 'tenant' }), 404);
        // Shared content never moves into a tenant (copy it instead).
        const sharedOne = await newCollection('ops', 'shared', `Shared for ${slug}`);
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/collections/${sharedOne.id}/move`, { parentId: 'tenant' }), 403, 'copy it instead');
        // Nothing moved.
        expect((await ok<CollectionBody>(call(ann, 'GET', `/api/v1/collections/${top.id}`))).parentId).toBe('tenant');
        expect((await ok<CollectionBody>(call(ann, 'GET', `/api/v1/collections/${grandchild.id}`))).parentId).toBe(child.id);
        expect((await ok<ItemBody>(call(ann, 'GET', `/api/v1/items/${item.id}`))).collectionId).toBe(top.id);
      });

      it('refuses a move that would leave a dashboard showing a saved report its viewers cannot see', async () => {
        const personal = await personalOf(ann);
        const saved = await newItem(ann, 'tenant', 'Used report', 'saved_report', report());
        const board = await newItem(ann, 'tenant', 'Team board', 'dashboard', { widgets: [widget('w1', saved.id)] });
        await refused(call(ann, 'POST', `/api/v1/items/${saved.id}/move`, { collectionId: personal }), 400, 'dashboard "Team board"');
        // A personal dashboard may show a tenant report: moving the dashboard is fine.
        expect(await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${board.id}/move`, { collectionId: personal }))).toMatchObject({ collectionId: personal });
        // Another user's dashboard naming the report stays anonymous in the refusal.
        const bobBoard = await newItem(`${slug}-bob`, await personalOf(`${slug}-bob`), 'Bob board', 'dashboard', { widgets: [widget('w1', saved.id)] });
        expect(await refused(call(ann, 'POST', `/api/v1/items/${saved.id}/move`, { collectionId: personal }), 400, 'a dashboard you cannot see')).not.toContain('Bob board');
        expect((await ok<ItemBody>(call(ann, 'GET', `/api/v1/items/${saved.id}`))).collectionId).toBe('tenant');
        await ok(call(`${slug}-bob`, 'DELETE', `/api/v1/items/${bobBoard.id}`), 204);
        expect(await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${saved.id}/move`, { collectionId: personal }))).toMatchObject({ collectionId: personal });
      });

      it('copies deeply with new ids, rewriting dashboard widgets to the copied saved reports', async () => {
        const source = await newCollection(ann, 'tenant', 'Source');
        const reports = await newCollection(ann, source.id, 'Reports');
        const saved = await newItem(ann, reports.id, 'Site', 'saved_report', report());
        const board = await newItem(ann, source.id, 'Board', 'dashboard', { widgets: [widget('w1', saved.id)] });
        const hidden = await newItem(ann, reports.id, 'Old', 'saved_report', report());
        await ok(call(ann, 'POST', `/api/v1/items/${hidden.id}/archive`));
        const copy = await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${source.id}/copy`, { parentId: 'tenant' }), 201);
        expect(copy.id).not.toBe(source.id);
        expect(copy).toMatchObject({ name: 'Source (copy)', parentId: 'tenant', kind: 'tenant' });
        const detail = await ok<{ children: { id: string; name: string }[]; items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${copy.id}`));
        expect(detail.children.map((c) => c.name)).toEqual(['Reports']);
        const copiedReports = await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${detail.children[0]?.id ?? ''}/items?archived=true`));
        // Archived content stays behind.
        expect(copiedReports.items.map((i) => i.name)).toEqual(['Site']);
        const copiedReport = copiedReports.items[0];
        const copiedBoard = detail.items[0];
        expect(copiedReport?.id).not.toBe(saved.id);
        expect(copiedBoard?.id).not.toBe(board.id);
        expect(copiedBoard?.definition.widgets?.[0]?.item).toBe(copiedReport?.id);
        const data = await ok<{ widgets: { data: { name: string } }[] }>(call(ann, 'GET', `/api/v1/items/${copiedBoard?.id ?? ''}/data`));
        expect(data.widgets[0]?.data.name).toBe(tenant.site);
        // Into the personal collection, with a chosen name; a single item copy too.
        const personal = await personalOf(ann);
        expect(await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${source.id}/copy`, { parentId: personal, name: 'Mine' }), 201)).toMatchObject({ kind: 'personal', name: 'Mine' });
        const itemCopy = await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${board.id}/copy`, { collectionId: personal }), 201);
        expect(itemCopy).toMatchObject({ collectionId: personal, name: 'Board' });
        // A personal dashboard may keep naming the tenant report.
        expect(itemCopy.definition.widgets?.[0]?.item).toBe(saved.id);
        await refused(call(ann, 'POST', `/api/v1/collections/${source.id}/copy`, { parentId: reports.id }), 400, 'into itself');
        await refused(call(`${other}-root`, 'POST', `/api/v1/collections/${source.id}/copy`, { parentId: 'tenant' }), 404);
        await refused(call(`${other}-root`, 'POST', `/api/v1/items/${board.id}/copy`, { collectionId: 'tenant' }), 404);
        const actions = await auditActions(slug);
        expect(actions).toContain('collection.copied');
        expect(actions).toContain('dashboard.copied');
      });

      it('archives recursively (hidden from lists unless archived=true), unarchives what it archived, deletes only archived collections with everything under them', async () => {
        const top = await newCollection(ann, 'tenant', 'Season');
        const child = await newCollection(ann, top.id, 'Week 1');
        const early = await newItem(ann, child.id, 'Archived before', 'saved_report', report());
        const kept = await newItem(ann, child.id, 'Kept', 'saved_report', report());
        await ok(call(ann, 'POST', `/api/v1/items/${early.id}/archive`));
        await refused(call(ann, 'POST', '/api/v1/collections/tenant/archive'), 400, 'root');
        await refused(call(ann, 'DELETE', '/api/v1/collections/tenant'), 400, 'root');
        await refused(call(ann, 'DELETE', `/api/v1/collections/${top.id}`), 400, 'archive it before');
        expect(await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${top.id}/archive`))).toMatchObject({ archived: true });
        const listed = async (archived: boolean) => (await ok<{ collections: CollectionBody[] }>(call(ann, 'GET', `/api/v1/collections${archived ? '?archived=true' : ''}`))).collections.map((c) => c.id);
        expect(await listed(false)).not.toContain(child.id);
        expect(await listed(true)).toEqual(expect.arrayContaining([top.id, child.id]));
        expect((await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${child.id}/items`))).items).toEqual([]);
        expect((await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${child.id}/items?archived=true`))).items.map((i) => i.name).sort()).toEqual(['Archived before', 'Kept']);
        await refused(call(ann, 'POST', `/api/v1/collections/${child.id}/unarchive`), 400, 'unarchive that one first');
        await refused(call(ann, 'POST', `/api/v1/items/${kept.id}/unarchive`), 400, 'unarchive that one first');
        const outsider = await newCollection(ann, 'tenant', 'Outsider');
        await refused(call(ann, 'POST', `/api/v1/collections/${outsider.id}/move`, { parentId: top.id }), 400, 'archived');
        await refused(call(ann, 'POST', `/api/v1/items/${kept.id}/copy`, { collectionId: top.id }), 400, 'archived');
        expect(await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${top.id}/unarchive`))).toMatchObject({ archived: false });
        // What was archived before the collection stays archived.
        expect((await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${child.id}/items`))).items.map((i) => i.name)).toEqual(['Kept']);
        await ok(call(ann, 'POST', `/api/v1/collections/${top.id}/archive`));
        // A copy of an archived collection is live, with what was archived along with it, and without what was archived before.
        const revived = await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${top.id}/copy`, { parentId: 'tenant' }), 201);
        expect(revived).toMatchObject({ archived: false, name: 'Season (copy)' });
        const revivedChild = (await ok<{ children: { id: string }[] }>(call(ann, 'GET', `/api/v1/collections/${revived.id}`))).children[0]?.id ?? '';
        expect((await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${revivedChild}/items?archived=true`))).items.map((i) => [i.name, i.archived])).toEqual([['Kept', false]]);
        await ok(call(ann, 'DELETE', `/api/v1/collections/${top.id}`), 204);
        for (const url of [`/api/v1/collections/${top.id}`, `/api/v1/collections/${child.id}`, `/api/v1/items/${early.id}`, `/api/v1/items/${kept.id}`]) expect((await call(ann, 'GET', url)).statusCode).toBe(404);
        const actions = await auditActions(slug);
        for (const action of ['collection.archived', 'collection.unarchived', 'collection.deleted', 'saved_report.archived']) expect(actions).toContain(action);
      });

      it('deletes items, but not a saved report a dashboard still shows; another tenant cannot delete anything here', async () => {
        const saved = await newItem(ann, 'tenant', 'Shown', 'saved_report', report());
        const board = await newItem(ann, 'tenant', 'Shows it', 'dashboard', { widgets: [widget('w1', saved.id)] });
        await refused(call(ann, 'DELETE', `/api/v1/items/${saved.id}`), 400, 'dashboard "Shows it"');
        await refused(call(`${other}-root`, 'DELETE', `/api/v1/items/${board.id}`), 404);
        await ok(call(ann, 'DELETE', `/api/v1/items/${board.id}`), 204);
        await ok(call(ann, 'DELETE', `/api/v1/items/${saved.id}`), 204);
        expect((await call(ann, 'GET', `/api/v1/items/${saved.id}`)).statusCode).toBe(404);
        expect(await auditActions(slug)).toEqual(expect.arrayContaining(['dashboard.deleted', 'saved_report.deleted']));
        // An archived collection holding a report that a dashboard outside it shows cannot be deleted either.
        const box = await newCollection(ann, 'tenant', 'Box');
        const inside = await newItem(ann, box.id, 'Inside', 'saved_report', report());
        const outside = await newItem(ann, 'tenant', 'Outside', 'dashboard', { widgets: [widget('w1', inside.id)] });
        await ok(call(ann, 'POST', `/api/v1/collections/${box.id}/archive`));
        await refused(call(ann, 'DELETE', `/api/v1/collections/${box.id}`), 400, 'dashboard "Outside"');
        expect((await ok<ItemBody>(call(ann, 'GET', `/api/v1/items/${inside.id}`))).archived).toBe(true);
        await ok(call(ann, 'DELETE', `/api/v1/items/${outside.id}`), 204);
        await ok(call(ann, 'DELETE', `/api/v1/collections/${box.id}`), 204);
      });

      it('copies a shared dashboard into the tenant or a personal collection, where it runs on the tenant\'s own data; tenant content never goes the other way', async () => {
        const shared = await newCollection('ops', 'shared', `Kit for ${slug}`);
        const sharedReport = await newItem('ops', shared.id, 'Site name', 'saved_report', report());
        const sharedBoard = await newItem('ops', shared.id, 'Overview', 'dashboard', { widgets: [widget('w1', sharedReport.id)] });
        // A single dashboard: the shared report it names is inlined, since it does not live beside the copy.
        const copy = await ok<ItemBody>(call(ann, 'POST', `/api/v1/items/${sharedBoard.id}/copy`, { collectionId: 'tenant' }), 201);
        expect(copy.definition.widgets?.[0]).toMatchObject({ id: 'w1', report: { method: 'SitesManager.getSiteFromId' } });
        expect(copy.definition.widgets?.[0]?.item).toBeUndefined();
        const data = await ok<{ widgets: { data: { name: string } }[] }>(call(root, 'GET', `/api/v1/items/${copy.id}/data`));
        expect(data.widgets[0]?.data.name).toBe(tenant.site);
        // The whole shared collection into ann's personal collection: the copy's widget names the copied report.
        const deep = await ok<CollectionBody>(call(ann, 'POST', `/api/v1/collections/${shared.id}/copy`, { parentId: await personalOf(ann) }), 201);
        const items = (await ok<{ items: ItemBody[] }>(call(ann, 'GET', `/api/v1/collections/${deep.id}/items`))).items;
        const copiedReport = items.find((i) => i.kind === 'saved_report');
        expect(items.find((i) => i.kind === 'dashboard')?.definition.widgets?.[0]?.item).toBe(copiedReport?.id);
        expect((await ok<{ widgets: { data: { name: string } }[] }>(call(ann, 'GET', `/api/v1/items/${items.find((i) => i.kind === 'dashboard')?.id ?? ''}/data`))).widgets[0]?.data.name).toBe(tenant.site);
        // The other tenant sees none of these copies, and the shared originals are unchanged.
        await refused(call(`${other}-root`, 'GET', `/api/v1/items/${copy.id}`), 404);
        await refused(call(`${other}-root`, 'GET', `/api/v1/collections/${deep.id}`), 404);
        expect((await ok<{ items: ItemBody[] }>(call('ops', 'GET', `/api/v1/collections/${shared.id}/items`))).items).toHaveLength(2);
        // Tenant content into shared or internal: refused even for a platform admin acting in the tenant, who curates both.
        const mine = await newItem(ann, 'tenant', 'Tenant secret', 'saved_report', report());
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/items/${mine.id}/copy`, { collectionId: 'shared' }), 403, 'other tenants would see it');
        await refused(call(`ops@${slug}`, 'POST', '/api/v1/collections/tenant/copy', { parentId: 'shared' }), 403, 'other tenants would see it');
        await refused(call(`ops@${slug}`, 'POST', '/api/v1/collections/tenant/copy', { parentId: 'internal' }), 403, 'other tenants would see it');
        await refused(call(ann, 'POST', `/api/v1/items/${mine.id}/copy`, { collectionId: 'shared' }), 403);
        // Internal content never reaches a tenant.
        const internalReport = await newItem('ops', 'internal', `Internal for ${slug}`, 'saved_report', report());
        await refused(call(`ops@${slug}`, 'POST', `/api/v1/items/${internalReport.id}/copy`, { collectionId: 'tenant' }), 403, 'internal content is never copied');
        await refused(call(ann, 'POST', `/api/v1/items/${internalReport.id}/copy`, { collectionId: 'tenant' }), 404);
      });
    });
  }

  describe('registry collections (shared, internal, platform users\' personal)', () => {
    it('moves shared ↔ shared and internal ↔ internal; never internal into shared, nor shared into internal or a tenant', async () => {
      const a = await newCollection('ops', 'shared', 'A');
      const b = await newCollection('ops', 'shared', 'B');
      const i1 = await newCollection('ops', 'internal', 'I1');
      const i2 = await newCollection('ops', 'internal', 'I2');
      const internalItem = await newItem('ops', i1.id, 'Board pack', 'saved_report', report());
      expect(await ok<CollectionBody>(call('ops', 'POST', `/api/v1/collections/${a.id}/move`, { parentId: b.id }))).toMatchObject({ parentId: b.id, kind: 'shared' });
      expect(await ok<CollectionBody>(call('ops', 'POST', `/api/v1/collections/${i1.id}/move`, { parentId: i2.id }))).toMatchObject({ parentId: i2.id, kind: 'internal' });
      await refused(call('ops', 'POST', `/api/v1/collections/${i1.id}/move`, { parentId: 'shared' }), 403, 'internal content never moves into a shared collection');
      await refused(call('ops', 'POST', `/api/v1/items/${internalItem.id}/move`, { collectionId: b.id }), 403, 'internal content never moves into a shared collection');
      await refused(call('ops', 'POST', `/api/v1/collections/${a.id}/move`, { parentId: 'internal' }), 403, 'copy it into an internal one');
      await refused(call('ops', 'POST', `/api/v1/collections/${b.id}/move`, { parentId: a.id }), 400, 'under itself');
      await refused(call('ops', 'POST', '/api/v1/collections/shared/move', { parentId: b.id }), 400, 'root');
      await refused(call('ops', 'POST', '/api/v1/collections/internal/archive'), 400, 'root');
      await refused(call('ops', 'DELETE', '/api/v1/collections/shared'), 400, 'root');
      // Internal into shared by copy: refused too; shared into internal by copy: fine.
      await refused(call('ops', 'POST', `/api/v1/items/${internalItem.id}/copy`, { collectionId: 'shared' }), 403, 'internal content is never copied');
      expect(await ok<CollectionBody>(call('ops', 'POST', `/api/v1/collections/${b.id}/copy`, { parentId: 'internal' }), 201)).toMatchObject({ kind: 'internal', name: 'B' });
      const actions = await auditActions(null);
      expect(actions).toEqual(expect.arrayContaining(['collection.moved', 'collection.copied']));
    });

    it('a platform user moves its personal collection into shared only when it curates shared; groups decide', async () => {
      const mine = await newCollection('analyst', await personalOf('analyst'), 'Ideas');
      const idea = await newItem('analyst', mine.id, 'Idea', 'saved_report', report());
      // analyst cannot see shared yet: the target does not exist for it.
      await refused(call('analyst', 'POST', `/api/v1/collections/${mine.id}/move`, { parentId: 'shared' }), 404);
      const staff = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'internal', name: 'Curators' }), 201);
      const sub = await newCollection('ops', 'shared', 'Curated');
      await ok(call('ops', 'PUT', `/api/v1/collections/${sub.id}/permissions`, { groupId: staff.id, level: 'view' }));
      await ok(call('ops', 'PUT', `/api/v1/groups/${staff.id}/members/analyst`), 204);
      await refused(call('analyst', 'POST', `/api/v1/collections/${mine.id}/move`, { parentId: sub.id }), 403, 'curate on both');
      await ok(call('ops', 'PUT', `/api/v1/collections/${sub.id}/permissions`, { groupId: staff.id, level: 'curate' }));
      const moved = await ok<CollectionBody>(call('analyst', 'POST', `/api/v1/collections/${mine.id}/move`, { parentId: sub.id }));
      expect(moved).toMatchObject({ kind: 'shared', parentId: sub.id, access: 'curate' });
      // Tenant users granted the shared root see it now (its permissions are inherited from the nearest ancestor with rows: "Curated" has its own).
      await refused(call('acme-ann', 'GET', `/api/v1/items/${idea.id}`), 404);
      // Moving it back into the personal collection is refused: copy instead.
      await refused(call('analyst', 'POST', `/api/v1/collections/${mine.id}/move`, { parentId: await personalOf('analyst') }), 403, 'copy it instead');
      expect(await ok<CollectionBody>(call('analyst', 'POST', `/api/v1/collections/${mine.id}/copy`, { parentId: await personalOf('analyst') }), 201)).toMatchObject({ kind: 'personal' });
    });

    it('copy and move leave out or refuse what the actor may not see or curate under a collection', async () => {
      const outer = await newCollection('ops', 'shared', 'Outer');
      const secret = await newCollection('ops', outer.id, 'Secret');
      await newItem('ops', secret.id, 'Secret report', 'saved_report', report());
      await newItem('ops', outer.id, 'Public report', 'saved_report', report());
      // Secret has its own rows: nobody of the tenant groups; so acme-ann sees Outer (inherited from the root) but not Secret.
      await ok(call('ops', 'PUT', `/api/v1/collections/${secret.id}/permissions`, { groupId: await groupId('All internal users'), level: 'view' }));
      const copy = await ok<CollectionBody>(call('acme-ann', 'POST', `/api/v1/collections/${outer.id}/copy`, { parentId: 'tenant' }), 201);
      const detail = await ok<{ children: unknown[]; items: ItemBody[] }>(call('acme-ann', 'GET', `/api/v1/collections/${copy.id}`));
      expect(detail.children).toEqual([]);
      expect(detail.items.map((i) => i.name)).toEqual(['Public report']);
      expect(JSON.stringify(detail)).not.toContain('Secret');
    });
  });

  it('answers bad input and anonymous callers with clear 4xx errors, never a 500', async () => {
    const anonymous = await h.app.inject({ method: 'POST', url: '/api/v1/collections/tenant/archive', headers: { host: 'acme.test' } });
    expect(anonymous.statusCode).toBe(401);
    await refused(call('acme-ann', 'POST', '/api/v1/collections/tenant/move', {}), 400);
    await refused(call('acme-ann', 'POST', `/api/v1/items/${'x'.repeat(65)}/copy`, { collectionId: 'tenant' }), 400);
    await refused(call('acme-ann', 'PATCH', '/api/v1/collections/tenant', { name: 'x'.repeat(201) }), 400);
    await refused(call('acme-ann', 'GET', '/api/v1/collections/tenant/explain?user=nobody'), 403);
    await refused(call('acme-root', 'GET', '/api/v1/collections/tenant/explain?user=nobody'), 404);
    for (const verb of ['archive', 'unarchive', 'move', 'copy']) await refused(call('acme-ann', 'POST', `/api/v1/items/no-such-item/${verb}`, verb === 'move' || verb === 'copy' ? { collectionId: 'tenant' } : undefined), 404);
    await refused(call('acme-ann', 'DELETE', '/api/v1/items/no-such-item'), 404);
  });

  describe('explain', () => {
    it('shows the level and the group that granted it; anyone about themselves, super users and platform admins about others', async () => {
      const sub = await newCollection('ops', 'shared', 'Explained');
      for (const who of ['acme-root', 'globex-root']) {
        const user = who.replace('root', 'ann');
        const answer = await ok<{ level: string; group: string | null; permissionsFrom: string | null; groups: string[]; collection: { id: string } }>(call(who, 'GET', `/api/v1/collections/${sub.id}/explain?user=${user}`));
        expect(answer).toMatchObject({ user, level: 'view', group: 'All tenant users', permissionsFrom: 'shared', collection: { id: sub.id } });
        expect(answer.groups).toContain('All tenant users');
        // Oneself, without naming anyone.
        expect(await ok(call(user, 'GET', `/api/v1/collections/${sub.id}/explain`))).toMatchObject({ user, level: 'view', group: 'All tenant users' });
        await refused(call(user, 'GET', `/api/v1/collections/${sub.id}/explain?user=${who}`), 403);
        expect(await ok(call(who, 'GET', '/api/v1/collections/tenant/explain?user=' + user))).toMatchObject({ level: 'curate', group: null, reason: expect.stringContaining('curate its collection') as string });
        await refused(call(who, 'GET', '/api/v1/collections/internal/explain'), 404);
      }
      // A tenant group granting view on the sub-collection: the most permissive grant of all groups, naming it.
      const editors = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Explain editors' }), 201);
      await ok(call('ops', 'PUT', `/api/v1/collections/${sub.id}/permissions`, { groupId: editors.id, level: 'view' }));
      // The one who asks must see the collection too.
      await refused(call('acme-root', 'GET', `/api/v1/collections/${sub.id}/explain?user=acme-ann`), 404);
      for (const login of ['acme-ann', 'acme-root']) await ok(call('acme-root', 'PUT', `/api/v1/groups/${editors.id}/members/${login}`), 204);
      expect(await ok(call('acme-root', 'GET', `/api/v1/collections/${sub.id}/explain?user=acme-ann`))).toMatchObject({ level: 'view', group: 'Explain editors', permissionsFrom: sub.id });
      expect(await ok(call('acme-root', 'GET', `/api/v1/collections/${sub.id}/explain?user=acme-bob`))).toMatchObject({ level: 'none', group: null });
      // Platform users: the admin asks about the analyst.
      expect(await ok(call('ops', 'GET', `/api/v1/collections/${sub.id}/explain?user=analyst`))).toMatchObject({ level: 'none', group: null });
      await ok(call('ops', 'PUT', `/api/v1/collections/${sub.id}/permissions`, { groupId: await groupId('All internal users'), level: 'curate' }));
      expect(await ok(call('ops', 'GET', `/api/v1/collections/${sub.id}/explain?user=analyst`))).toMatchObject({ level: 'curate', group: 'All internal users' });
      expect(await ok(call('ops', 'GET', `/api/v1/collections/${sub.id}/explain`))).toMatchObject({ user: 'ops', level: 'curate', reason: expect.stringContaining('platform_admin') as string });
      await refused(call('analyst', 'GET', `/api/v1/collections/${sub.id}/explain?user=ops`), 403);
      await refused(call('acme-root', 'GET', `/api/v1/collections/${sub.id}/explain?user=globex-ann`), 404);
      await refused(call('acme-root', 'GET', '/api/v1/collections/no-such/explain?user=acme-ann'), 404);
    });
  });
});

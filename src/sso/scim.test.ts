/**
 * SCIM 2.0 over HTTP, the test playing the identity provider (Okta / Azure AD
 * request shapes): users and groups through their whole lifecycle on SQLite and
 * PostgreSQL tenants, filters, pagination, PATCH variants, deactivation ending
 * sessions and tokens, role mapping through group membership, tenant isolation,
 * SCIM errors, token management over REST and at the console.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { setUserAccess } from '../access/users.service.js';
import { scopeAuditDb } from '../audit/audit.service.js';
import { findAuditEntries } from '../audit/audit.store.js';
import { openHarness, signInOver, tokenFor, type Harness } from '../http/test-support/harness.js';
import { openPlatform } from '../platform/platform.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { createScimToken, findScimToken } from './scim-tokens.js';

const PLATFORM_HOST = 'platform.test';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface ScimUser {
  id: string;
  userName: string;
  externalId?: string;
  displayName?: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails: { value: string; type: string; primary: boolean }[];
  active: boolean;
  groups: { value: string; display: string }[];
  meta: { resourceType: string; created: string; lastModified: string; location: string };
}

interface ScimGroup {
  id: string;
  displayName: string;
  externalId?: string;
  members?: { value: string; display: string }[];
  meta: { resourceType: string; location: string };
}

interface ListResponse<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

describe('SCIM 2.0 provisioning', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const scimTokens = new Map<string, string>();
  const hostOf: Record<string, string> = { acme: 'acme.test', globex: 'globex.test', pgco: 'pgco.test', off: 'off.test' };

  /** One SCIM request as an identity provider sends it. */
  const scim = (
    slug: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    options: { token?: string | null; host?: string; contentType?: string; raw?: string; from?: string } = {},
  ) => {
    const token = options.token === undefined ? scimTokens.get(slug) : options.token;
    return h.app.inject({
      method,
      url: `/scim/v2${url}`,
      headers: {
        host: options.host ?? hostOf[slug] ?? slug,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined || options.raw !== undefined ? { 'content-type': options.contentType ?? 'application/scim+json' } : {}),
      },
      ...(options.raw !== undefined ? { payload: options.raw } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
      ...(options.from !== undefined ? { remoteAddress: options.from } : {}),
    });
  };

  const expectScimError = (response: LightMyRequestResponse, status: number, scimType?: string): void => {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    const body = response.json<{ schemas: string[]; status: string; scimType?: string; detail: string }>();
    expect(body.schemas).toEqual([ERROR_SCHEMA]);
    expect(body.status).toBe(String(status));
    expect(body.detail).toEqual(expect.any(String));
    if (scimType !== undefined) expect(body.scimType).toBe(scimType);
  };

  const createUser = async (slug: string, userName: string, extra: Record<string, unknown> = {}): Promise<ScimUser> => {
    const response = await scim(slug, 'POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName,
      name: { givenName: 'Given', familyName: 'Family' },
      emails: [{ value: `${userName.split('@')[0] ?? userName}@mail.${slug}.example`, type: 'work', primary: true }],
      active: true,
      ...extra,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<ScimUser>();
  };

  const patch = (slug: string, url: string, operations: unknown[]) => scim(slug, 'PATCH', url, { schemas: [PATCH_SCHEMA], Operations: operations });

  const auditActions = async (slug: string, prefix: string): Promise<string[]> =>
    h.asOperator(slug, async (ctx) => (await findAuditEntries(scopeAuditDb(ctx), { actions: [`${prefix}*`], limit: -1 })).entries.map((entry) => entry.action));

  /** A user's roles per site, straight from the tenant store. */
  const rolesOf = (slug: string, login: string): Promise<Record<number, string>> =>
    h.asOperator(slug, async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      const user = await identityStore.findUserByLogin(db, login);
      if (!user) throw new Error(`no user ${login}`);
      return Object.fromEntries([...(await identityStore.grantsOf(db, user.id))].map(([site, grant]) => [site, grant.role]));
    });

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('scim');
    h = await openHarness({
      PLURA_GENERAL_PLATFORM_HOST: PLATFORM_HOST,
      PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix,
      PLURA_SECURITY_API_RATE_LIMIT_PER_MINUTE: '0',
      PLURA_SECURITY_API_RATE_LIMIT_PER_HOUR: '0',
    });
    await h.addTenant('acme', [hostOf['acme'] ?? '']);
    await h.addTenant('globex', [hostOf['globex'] ?? '']);
    await h.addTenant('pgco', [hostOf['pgco'] ?? ''], pg.url);
    await h.addTenant('off', [hostOf['off'] ?? '']);
    for (const slug of ['acme', 'globex', 'pgco', 'off']) {
      await h.addSite(slug, `${slug}-shop`);
      await h.addSite(slug, `${slug}-blog`);
      await h.addUser(slug, 'root', { superuser: true });
      if (slug !== 'off') h.platform.settings.set('SCIM.enabled', '1', { tenant: slug });
      h.platform.settings.set('SSO.role_mapping', 'Analysts = site:1:view, Editors = site:1:write,site:2:write', { tenant: slug });
      scimTokens.set(slug, await h.asOperator(slug, async (ctx) => (await createScimToken(ctx, `${slug} IdP`)).token));
    }
  });

  afterAll(async () => {
    await h?.close();
    await pg?.drop();
  });

  describe.each([
    ['SQLite', 'acme'],
    ['PostgreSQL', 'pgco'],
  ])('on a %s tenant', (_engine, slug) => {
    it('runs a user through create, get, filter, replace, patch, deactivate and delete, audited', async () => {
      const created = await scim(slug, 'POST', '/Users', {
        schemas: [USER_SCHEMA],
        userName: 'ada@corp.example',
        externalId: '00u1abc',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada.home@corp.example', type: 'home' }, { value: 'Ada@corp.example', type: 'work', primary: true }],
        displayName: 'Ada L.',
        active: true,
        // Okta and Azure AD send more of the core schema than Plura keeps.
        title: 'Analyst',
        phoneNumbers: [{ value: '+1 555', type: 'work' }],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Maths' },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
      const user = created.json<ScimUser>();
      expect(created.headers['location']).toBe(`http://${hostOf[slug]}/scim/v2/Users/${user.id}`);
      expect(user).toMatchObject({
        schemas: [USER_SCHEMA],
        id: expect.stringMatching(/^\d+$/) as string,
        userName: 'ada@corp.example',
        externalId: '00u1abc',
        name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
        displayName: 'Ada L.',
        emails: [{ value: 'Ada@corp.example', type: 'work', primary: true }],
        active: true,
        groups: [],
        meta: { resourceType: 'User', location: `http://${hostOf[slug]}/scim/v2/Users/${user.id}` },
      });
      expect(user.meta.created).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(user).not.toHaveProperty('password');

      // Duplicate userName, also in another case: 409 uniqueness.
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'ADA@corp.example' }), 409, 'uniqueness');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'ada2', emails: [{ value: 'ada@CORP.example' }] }), 409, 'uniqueness');

      const fetched = await scim(slug, 'GET', `/Users/${user.id}`);
      expect(fetched.statusCode).toBe(200);
      expect(fetched.json()).toEqual(user);
      const found = await scim(slug, 'GET', `/Users?filter=${encodeURIComponent('userName eq "ADA@corp.example"')}`);
      expect(found.json<ListResponse<ScimUser>>()).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id: user.id }] });

      // PUT replaces: attributes left out are cleared (displayName, externalId).
      const replaced = await scim(slug, 'PUT', `/Users/${user.id}`, {
        schemas: [USER_SCHEMA],
        id: user.id,
        userName: 'ada.lovelace',
        name: { givenName: 'Augusta Ada', familyName: 'King' },
        emails: [{ value: 'ada.king@corp.example', primary: true }],
        active: true,
      });
      expect(replaced.statusCode, replaced.body).toBe(200);
      expect(replaced.json<ScimUser>()).toMatchObject({ userName: 'ada.lovelace', name: { givenName: 'Augusta Ada', familyName: 'King' }, emails: [{ value: 'ada.king@corp.example' }], active: true });
      expect(replaced.json()).not.toHaveProperty('displayName');
      expect(replaced.json()).not.toHaveProperty('externalId');

      // PATCH as Azure AD sends it: capitalised ops, value paths, "False" as a string.
      const azure = await patch(slug, `/Users/${user.id}`, [
        { op: 'Replace', path: 'displayName', value: 'Countess' },
        { op: 'Add', path: 'externalId', value: 'aad-42' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'countess@corp.example' },
        { op: 'Add', path: 'name.familyName', value: 'Lovelace' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'R&D' },
        { op: 'Replace', path: 'title', value: 'Countess' },
      ]);
      expect(azure.statusCode, azure.body).toBe(200);
      expect(azure.json<ScimUser>()).toMatchObject({ displayName: 'Countess', externalId: 'aad-42', emails: [{ value: 'countess@corp.example' }], name: { givenName: 'Augusta Ada', familyName: 'Lovelace' } });

      // PATCH without a path, as Okta deactivates.
      const deactivated = await patch(slug, `/Users/${user.id}`, [{ op: 'replace', value: { active: false } }]);
      expect(deactivated.statusCode).toBe(200);
      expect(deactivated.json<ScimUser>().active).toBe(false);
      const inactive = await scim(slug, 'GET', `/Users?filter=${encodeURIComponent('active eq false')}`);
      expect(inactive.json<ListResponse<ScimUser>>().Resources.map((resource) => resource.id)).toEqual([user.id]);
      const reactivated = await patch(slug, `/Users/${user.id}`, [{ op: 'Replace', path: 'active', value: 'True' }]);
      expect(reactivated.json<ScimUser>().active).toBe(true);

      const deleted = await scim(slug, 'DELETE', `/Users/${user.id}`);
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe('');
      expectScimError(await scim(slug, 'GET', `/Users/${user.id}`), 404);
      expectScimError(await scim(slug, 'DELETE', `/Users/${user.id}`), 404);

      const actions = await auditActions(slug, 'scim.user_');
      for (const action of ['scim.user_created', 'scim.user_updated', 'scim.user_deactivated', 'scim.user_reactivated', 'scim.user_deleted']) expect(actions).toContain(action);
      // The user services audit too (limits, validation and audit apply).
      const userActions = await auditActions(slug, 'user.');
      for (const action of ['user.created', 'user.updated', 'user.deactivated', 'user.reactivated', 'user.deleted']) expect(userActions).toContain(action);
    });

    it('runs a group through create, patch, replace and delete; membership drives the role mapping', async () => {
      const ann = await createUser(slug, 'ann');
      const bob = await createUser(slug, 'bob');
      expect(await rolesOf(slug, 'ann')).toEqual({});

      const created = await scim(slug, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Analysts', externalId: 'g-1', members: [{ value: ann.id, display: 'ann' }] });
      expect(created.statusCode, created.body).toBe(201);
      const group = created.json<ScimGroup>();
      expect(created.headers['location']).toBe(`http://${hostOf[slug]}/scim/v2/Groups/${group.id}`);
      expect(group).toMatchObject({ schemas: [GROUP_SCHEMA], displayName: 'Analysts', externalId: 'g-1', members: [{ value: ann.id, display: 'ann' }], meta: { resourceType: 'Group' } });
      expect(await rolesOf(slug, 'ann')).toEqual({ 1: 'view' });
      expectScimError(await scim(slug, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'analysts' }), 409, 'uniqueness');

      // The user resource shows its groups.
      expect((await scim(slug, 'GET', `/Users/${ann.id}`)).json<ScimUser>().groups).toEqual([expect.objectContaining({ value: group.id, display: 'Analysts' })]);

      // Okta group push: add members, remove one by a value filter.
      const added = await patch(slug, `/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: bob.id, display: 'bob' }] }]);
      expect(added.statusCode, added.body).toBe(200);
      expect(added.json<ScimGroup>().members?.map((member) => member.value).sort()).toEqual([ann.id, bob.id].sort());
      expect(await rolesOf(slug, 'bob')).toEqual({ 1: 'view' });
      const removed = await patch(slug, `/Groups/${group.id}`, [{ op: 'remove', path: `members[value eq "${ann.id}"]` }]);
      expect(removed.json<ScimGroup>().members?.map((member) => member.value)).toEqual([bob.id]);
      expect(await rolesOf(slug, 'ann')).toEqual({});

      // Azure AD: remove with a value list, add again with a capitalised op.
      await patch(slug, `/Groups/${group.id}`, [{ op: 'Remove', path: 'members', value: [{ value: bob.id }] }]);
      expect(await rolesOf(slug, 'bob')).toEqual({});
      await patch(slug, `/Groups/${group.id}`, [{ op: 'Add', path: 'members', value: [{ value: ann.id }, { value: bob.id }] }]);
      expect(await rolesOf(slug, 'ann')).toEqual({ 1: 'view' });

      // Moving ann into Editors raises her right and adds a site; leaving it takes back only what it gave.
      const editors = (await scim(slug, 'POST', '/Groups', { displayName: 'Editors', members: [{ value: ann.id }] })).json<ScimGroup>();
      expect(await rolesOf(slug, 'ann')).toEqual({ 1: 'write', 2: 'write' });
      await patch(slug, `/Groups/${editors.id}`, [{ op: 'replace', path: 'members', value: [] }]);
      expect(await rolesOf(slug, 'ann')).toEqual({ 1: 'view' });

      // Rename (Okta: path-less replace carrying id and displayName): the mapping keys on names.
      const renamed = await patch(slug, `/Groups/${group.id}`, [{ op: 'replace', value: { id: group.id, displayName: 'Former analysts' } }]);
      expect(renamed.json<ScimGroup>().displayName).toBe('Former analysts');
      expect(await rolesOf(slug, 'ann')).toEqual({});
      expect(await rolesOf(slug, 'bob')).toEqual({});

      // PUT replaces name and members.
      const put = await scim(slug, 'PUT', `/Groups/${group.id}`, { schemas: [GROUP_SCHEMA], displayName: 'Analysts', members: [{ value: bob.id }] });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json<ScimGroup>()).toMatchObject({ displayName: 'Analysts', members: [{ value: bob.id }] });
      expect(put.json()).not.toHaveProperty('externalId');
      expect(await rolesOf(slug, 'bob')).toEqual({ 1: 'view' });

      // A member that is not a user of this tenant is refused, nothing changes.
      expectScimError(await patch(slug, `/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: '999999' }] }]), 400, 'invalidValue');
      expectScimError(await patch(slug, `/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: editors.id, type: 'Group' }] }]), 400, 'invalidValue');

      const list = await scim(slug, 'GET', `/Groups?filter=${encodeURIComponent('displayName eq "analysts"')}&excludedAttributes=members`);
      expect(list.json<ListResponse<ScimGroup>>()).toMatchObject({ totalResults: 1, Resources: [{ id: group.id, displayName: 'Analysts' }] });
      expect(list.json<ListResponse<ScimGroup>>().Resources[0]).not.toHaveProperty('members');
      expect((await scim(slug, 'GET', `/Groups?filter=${encodeURIComponent(`members.value eq "${bob.id}"`)}`)).json<ListResponse<ScimGroup>>().Resources.map((g) => g.id)).toEqual([group.id]);

      // Deleting the group takes back what it granted.
      expect((await scim(slug, 'DELETE', `/Groups/${group.id}`)).statusCode).toBe(204);
      expect(await rolesOf(slug, 'bob')).toEqual({});
      expectScimError(await scim(slug, 'GET', `/Groups/${group.id}`), 404);
      const actions = await auditActions(slug, 'scim.group_');
      for (const action of ['scim.group_created', 'scim.group_updated', 'scim.group_deleted']) expect(actions).toContain(action);
      expect(await auditActions(slug, 'sso.rights_changed')).not.toHaveLength(0);
      await scim(slug, 'DELETE', `/Groups/${editors.id}`);
      for (const user of [ann, bob]) await scim(slug, 'DELETE', `/Users/${user.id}`);
    });

    it('ends the session and refuses the token of a deactivated user at once; reactivation revives only the token', async () => {
      await h.addUser(slug, `carol-${slug}`);
      const login = `carol-${slug}`;
      const session = await signInOver(h.app, hostOf[slug] ?? '', login);
      const token = await tokenFor(h.app, hostOf[slug] ?? '', login);
      const me = (auth: { cookie?: string; token?: string }) =>
        h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: hostOf[slug] ?? '', ...(auth.cookie ? { cookie: auth.cookie } : {}), ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}) } });
      expect((await me({ cookie: session.cookie })).statusCode).toBe(200);
      expect((await me({ token })).statusCode).toBe(200);

      const id = (await scim(slug, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${login}"`)}`)).json<ListResponse<ScimUser>>().Resources[0]?.id ?? '';
      expect((await patch(slug, `/Users/${id}`, [{ op: 'replace', value: { active: false } }])).statusCode).toBe(200);
      expect((await me({ cookie: session.cookie })).statusCode).toBe(401);
      expect((await me({ token })).json()).toMatchObject({ error: { code: 'invalid_token' } });
      const signIn = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { host: hostOf[slug] ?? '' }, payload: { login, password: 'correct horse battery' } });
      expect(signIn.json()).toMatchObject({ error: { code: 'user_deactivated' } });

      expect((await patch(slug, `/Users/${id}`, [{ op: 'replace', path: 'active', value: true }])).statusCode).toBe(200);
      expect((await me({ token })).statusCode).toBe(200);
      expect((await me({ cookie: session.cookie })).statusCode).toBe(401);

      // DELETE removes the user with its sessions and tokens.
      const fresh = await signInOver(h.app, hostOf[slug] ?? '', login);
      expect((await scim(slug, 'DELETE', `/Users/${id}`)).statusCode).toBe(204);
      expect((await me({ token })).statusCode).toBe(401);
      expect((await me({ cookie: fresh.cookie })).statusCode).toBe(401);
      const left = await h.asOperator(slug, async (ctx) => {
        const db = identityDbFor(ctx.platform, ctx.scope);
        const sessions = await db.selectFrom('session').select('id').where('user_id', '=', Number(id)).execute();
        const tokens = await db.selectFrom('auth_token').select('id').where('user_id', '=', Number(id)).execute();
        return { user: await identityStore.findUserByLogin(db, login), sessions: sessions.length, tokens: tokens.length };
      });
      expect(left).toEqual({ user: undefined, sessions: 0, tokens: 0 });
    });
    it('filters users (userName, externalId, emails.value, active, and/or) and pages with startIndex and count', async () => {
      const made: ScimUser[] = [];
      for (let i = 1; i <= 5; i += 1) made.push(await createUser(slug, `page${i}`, { externalId: `ext-${i}`, active: i !== 3 }));
      const list = async (query: string) => {
        const response = await scim(slug, 'GET', `/Users?${query}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
        return response.json<ListResponse<ScimUser>>();
      };
      const ids = (response: ListResponse<ScimUser>) => response.Resources.map((user) => user.userName);
      const filter = (text: string) => `filter=${encodeURIComponent(text)}`;

      expect(ids(await list(filter('userName eq "PAGE2"')))).toEqual(['page2']);
      expect(ids(await list(filter('externalId eq "ext-4"')))).toEqual(['page4']);
      expect(ids(await list(filter('externalId eq "EXT-4"')))).toEqual([]); // externalId is case-exact
      expect(ids(await list(filter(`emails.value eq "page5@mail.${slug}.example"`)))).toEqual(['page5']);
      expect(ids(await list(filter(`emails[value eq "page1@mail.${slug}.example"]`)))).toEqual(['page1']);
      expect(ids(await list(filter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "page1"')))).toEqual(['page1']);
      expect(ids(await list(filter('userName sw "page" and active eq false')))).toEqual(['page3']);
      expect(ids(await list(filter('userName eq "page1" or externalId eq "ext-2"')))).toEqual(['page1', 'page2']);
      expect(ids(await list(filter('userName co "age" and not (active eq true)')))).toEqual(['page3']);
      expect(ids(await list(filter('userName eq "nobody"')))).toEqual([]);
      expect(ids(await list(filter('userName sw "100%_"')))).toEqual([]); // LIKE wildcards are literal

      const page = await list(`${filter('userName sw "page"')}&startIndex=2&count=2`);
      expect(page).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 5, startIndex: 2, itemsPerPage: 2 });
      expect(ids(page)).toEqual(['page2', 'page3']);
      expect(ids(await list(`${filter('userName sw "page"')}&startIndex=5&count=10`))).toEqual(['page5']);
      expect(await list(`${filter('userName sw "page"')}&count=0`)).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
      // The whole tenant: root and the five (and whatever else exists), never the anonymous user.
      const all = await list('startIndex=0');
      expect(ids(all)).toEqual(expect.arrayContaining(['root', 'page1', 'page5']));
      expect(all.totalResults).toBe(all.Resources.length);
      expect(ids(all)).not.toContain('anonymous');

      // attributes / excludedAttributes.
      const only = await list(`${filter('userName eq "page1"')}&attributes=userName,name.givenName`);
      expect(only.Resources[0]).toEqual({ schemas: [USER_SCHEMA], id: made[0]?.id, userName: 'page1', name: { givenName: 'Given' } });
      const without = await list(`${filter('userName eq "page1"')}&excludedAttributes=groups,meta,name.familyName`);
      expect(without.Resources[0]).not.toHaveProperty('groups');
      expect(without.Resources[0]).not.toHaveProperty('meta');
      expect(without.Resources[0]?.name).toEqual({ givenName: 'Given', formatted: 'Given Family' });

      // POST .search carries the same parameters as JSON.
      const search = await scim(slug, 'POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "page"', startIndex: 4, count: 1 });
      expect(search.json<ListResponse<ScimUser>>()).toMatchObject({ totalResults: 5, startIndex: 4, Resources: [{ userName: 'page4' }] });

      // Unsupported or malformed filters: 400 invalidFilter.
      expectScimError(await scim(slug, 'GET', `/Users?${filter('title eq "x"')}`), 400, 'invalidFilter');
      expectScimError(await scim(slug, 'GET', `/Users?${filter('userName gt "a"')}`), 400, 'invalidFilter');
      expectScimError(await scim(slug, 'GET', `/Users?${filter('userName eq')}`), 400, 'invalidFilter');
      expectScimError(await scim(slug, 'GET', `/Users?${filter('userName is "x"')}`), 400, 'invalidFilter');
      expectScimError(await scim(slug, 'GET', `/Users?${filter('active eq "maybe"')}`), 400);
      expectScimError(await scim(slug, 'GET', '/Users?count=many'), 400, 'invalidValue');
      for (const user of made) expect((await scim(slug, 'DELETE', `/Users/${user.id}`)).statusCode).toBe(204);
    });

    it('applies PATCH with and without paths, and refuses what a User cannot take', async () => {
      const user = await createUser(slug, 'patchy', { externalId: 'p-1' });
      const url = `/Users/${user.id}`;
      const ok = async (operations: unknown[]): Promise<ScimUser> => {
        const response = await patch(slug, url, operations);
        expect(response.statusCode, response.body).toBe(200);
        return response.json<ScimUser>();
      };
      expect(await ok([{ op: 'replace', value: { displayName: 'Patchy', 'name.givenName': 'Pat', name: { familyName: 'Chy' } } }])).toMatchObject({ displayName: 'Patchy', name: { givenName: 'Pat', familyName: 'Chy' } });
      expect(await ok([{ op: 'add', path: 'name', value: { givenName: 'Patricia' } }])).toMatchObject({ name: { givenName: 'Patricia', familyName: 'Chy' } });
      expect(await ok([{ op: 'replace', path: 'emails', value: [{ value: 'pat@new.example', primary: true }] }])).toMatchObject({ emails: [{ value: 'pat@new.example' }] });
      expect(await ok([{ op: 'replace', path: 'emails.value', value: 'pat@newer.example' }])).toMatchObject({ emails: [{ value: 'pat@newer.example' }] });
      expect(await ok([{ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:userName', value: 'patricia' }])).toMatchObject({ userName: 'patricia' });
      const removed = await ok([{ op: 'remove', path: 'externalId' }, { op: 'remove', path: 'name.familyName' }, { op: 'remove', path: 'displayName' }]);
      expect(removed).not.toHaveProperty('externalId');
      expect(removed).not.toHaveProperty('displayName');
      expect(removed.name).toEqual({ givenName: 'Patricia', formatted: 'Patricia' });
      // Adding another kind of address changes nothing (one address is kept).
      expect(await ok([{ op: 'add', path: 'emails[type eq "home"].value', value: 'pat@home.example' }])).toMatchObject({ emails: [{ value: 'pat@newer.example' }] });
      // A password set through SCIM must meet the policy, and then signs in.
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'password', value: 'short' }]), 400, 'invalidValue');
      await ok([{ op: 'replace', path: 'password', value: 'a long enough password' }]);
      expect((await signInOver(h.app, hostOf[slug] ?? '', 'patricia', 'a long enough password')).cookie).toContain('plura_session=');

      expectScimError(await patch(slug, url, [{ op: 'remove', path: 'userName' }]), 400, 'invalidValue');
      expectScimError(await patch(slug, url, [{ op: 'remove', path: 'emails' }]), 400, 'invalidValue');
      expectScimError(await patch(slug, url, [{ op: 'remove' }]), 400, 'noTarget');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'emails[type eq "home"].value', value: 'x@y.example' }]), 400, 'noTarget');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'favouriteColour', value: 'blue' }]), 400, 'invalidPath');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'name.nickname', value: 'x' }]), 400, 'invalidPath');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'emails[type eq', value: 'x' }]), 400, 'invalidPath');
      expectScimError(await patch(slug, url, [{ op: 'add', path: 'groups', value: [{ value: 'x' }] }]), 400, 'mutability');
      expectScimError(await patch(slug, url, [{ op: 'move', path: 'active', value: false }]), 400, 'invalidSyntax');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'active', value: 'perhaps' }]), 400, 'invalidValue');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'userName', value: 'root' }]), 409, 'uniqueness');
      expectScimError(await patch(slug, url, [{ op: 'replace', path: 'userName', value: 'not valid!' }]), 400, 'invalidValue');
      expectScimError(await scim(slug, 'PATCH', url, { Operations: [] }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'PATCH', url, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }], extra: 1 }), 400, 'invalidSyntax');
      // Nothing of the refused requests was written.
      expect((await scim(slug, 'GET', url)).json<ScimUser>()).toMatchObject({ userName: 'patricia', active: true, emails: [{ value: 'pat@newer.example' }] });
      // The last active super user cannot be deactivated.
      const root = (await scim(slug, 'GET', `/Users?filter=${encodeURIComponent('userName eq "root"')}`)).json<ListResponse<ScimUser>>().Resources[0];
      expectScimError(await patch(slug, `/Users/${root?.id ?? ''}`, [{ op: 'replace', value: { active: false, displayName: 'Root' } }]), 403);
      expect((await scim(slug, 'GET', `/Users/${root?.id ?? ''}`)).json()).not.toHaveProperty('displayName');
      await scim(slug, 'DELETE', url);
    });

    it('answers malformed JSON, unknown attributes and bad requests with SCIM 400s, never a 500', async () => {
      expectScimError(await scim(slug, 'POST', '/Users', undefined, { raw: '{"userName": "x",' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', undefined, { raw: '{"userName": "x",', contentType: 'application/json' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'newbie', favouriteColour: 'blue' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'newbie', name: { nickname: 'n' } }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: ['urn:example:Custom'], userName: 'newbie@x.example' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'no-email' }), 400, 'invalidValue');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA] }), 400, 'invalidValue');
      expectScimError(await scim(slug, 'POST', '/Users', [1, 2]), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'anonymous', emails: [{ value: 'a@b.example' }] }), 400, 'invalidValue');
      expectScimError(await scim(slug, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'G', owner: 'x' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: '' }), 400, 'invalidValue');
      expectScimError(await scim(slug, 'POST', '/Groups', undefined, { raw: 'not json at all' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'GET', '/Users/not-a-number'), 404);
      expectScimError(await scim(slug, 'GET', '/Groups/no-such-group'), 404);
      expectScimError(await scim(slug, 'GET', '/Bulk'), 404);
      expectScimError(await scim(slug, 'POST', '/Users', undefined, { raw: 'userName=x', contentType: 'text/plain' }), 400, 'invalidSyntax');
      expectScimError(await scim(slug, 'POST', '/Users', undefined, { raw: '<user/>', contentType: 'application/xml' }), 415);
      // With a charset parameter, scim+json bodies are read all the same.
      const charset = await scim(slug, 'POST', '/Users', undefined, { raw: JSON.stringify({ schemas: [USER_SCHEMA], userName: `charset@${slug}.example` }), contentType: 'application/scim+json; charset=utf-8' });
      expect(charset.statusCode, charset.body).toBe(201);
      // A plain JSON body is accepted too.
      const plain = await scim(slug, 'POST', '/Groups', { displayName: 'Plain' }, { contentType: 'application/json' });
      expect(plain.statusCode, plain.body).toBe(201);
      await scim(slug, 'DELETE', `/Users/${charset.json<ScimUser>().id}`);
      await scim(slug, 'DELETE', `/Groups/${plain.json<ScimGroup>().id}`);
    });
  });

  it("refuses missing, wrong and other tenants' tokens; serves nothing where SCIM is off or on the platform host", async () => {
    const missing = await scim('acme', 'GET', '/Users', undefined, { token: null });
    expectScimError(missing, 401);
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    expectScimError(await scim('acme', 'GET', '/Users', undefined, { token: 'scim_not-a-real-token' }), 401);
    // acme's token at globex's host, and the other way round.
    const made = await createUser('acme', 'isolated');
    expectScimError(await scim('globex', 'GET', '/Users', undefined, { token: scimTokens.get('acme') ?? '' }), 401);
    expectScimError(await scim('globex', 'DELETE', `/Users/${made.id}`, undefined, { token: scimTokens.get('acme') ?? '' }), 401);
    expectScimError(await scim('acme', 'GET', `/Users/${made.id}`, undefined, { token: scimTokens.get('globex') ?? '' }), 401);
    // globex sees only its own users, under the same numeric ids.
    const globex = (await scim('globex', 'GET', '/Users')).json<ListResponse<ScimUser>>();
    expect(globex.Resources.map((user) => user.userName)).toEqual(['root']);
    expect((await scim('acme', 'GET', `/Users/${made.id}`)).statusCode).toBe(200);
    await scim('acme', 'DELETE', `/Users/${made.id}`);

    // Guessed tokens count as failed sign-ins of the address: it is blocked, even with a good token then.
    h.platform.settings.set('Security.brute_force_max_retries', '3', { tenant: 'globex' });
    for (let i = 0; i < 3; i += 1) expectScimError(await scim('globex', 'GET', '/Users', undefined, { token: `scim_guess${i}`, from: '203.0.113.7' }), 401);
    expectScimError(await scim('globex', 'GET', '/Users', undefined, { from: '203.0.113.7' }), 403);
    expect((await scim('globex', 'GET', '/Users', undefined, { from: '203.0.113.8' })).statusCode).toBe(200);
    h.platform.settings.unset('Security.brute_force_max_retries', { tenant: 'globex' });

    // SCIM off: 404 in SCIM format, before anything else.
    expectScimError(await scim('off', 'GET', '/Users'), 404);
    expectScimError(await scim('off', 'GET', '/ServiceProviderConfig', undefined, { token: null }), 404);
    // The platform host has no SCIM; an unknown host neither.
    expectScimError(await scim('acme', 'GET', '/Users', undefined, { host: PLATFORM_HOST }), 404);
    expectScimError(await scim('acme', 'GET', '/Users', undefined, { host: 'nowhere.test' }), 404);
  });

  it('describes itself: ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const config = await scim('acme', 'GET', '/ServiceProviderConfig');
    expect(config.statusCode).toBe(200);
    expect(config.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(config.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: true },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
    });
    const types = (await scim('acme', 'GET', '/ResourceTypes')).json<ListResponse<{ id: string; endpoint: string; schema: string }>>();
    expect(types.Resources.map((type) => [type.id, type.endpoint, type.schema])).toEqual([
      ['User', '/Users', USER_SCHEMA],
      ['Group', '/Groups', GROUP_SCHEMA],
    ]);
    expect((await scim('acme', 'GET', '/ResourceTypes/Group')).json()).toMatchObject({ id: 'Group', meta: { resourceType: 'ResourceType' } });
    const schemas = (await scim('acme', 'GET', '/Schemas')).json<ListResponse<{ id: string; attributes: { name: string; subAttributes?: { name: string }[] }[] }>>();
    expect(schemas.Resources.map((schema) => schema.id)).toEqual([USER_SCHEMA, GROUP_SCHEMA]);
    const userAttributes = schemas.Resources[0]?.attributes.map((attribute) => attribute.name);
    expect(userAttributes).toEqual(expect.arrayContaining(['userName', 'name', 'displayName', 'emails', 'active', 'password', 'groups', 'externalId']));
    expect(schemas.Resources[1]?.attributes.find((attribute) => attribute.name === 'members')?.subAttributes?.map((sub) => sub.name)).toContain('value');
    expect((await scim('acme', 'GET', `/Schemas/${USER_SCHEMA}`)).json()).toMatchObject({ id: USER_SCHEMA, name: 'User' });
    expectScimError(await scim('acme', 'GET', '/Schemas/urn:nope'), 404);
  });

  it('lets super users create, list and revoke SCIM tokens over REST, and refuses site admins and strangers', async () => {
    await h.addUser('acme', 'siteadmin');
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'siteadmin', 'admin', [1]));
    const rootToken = await tokenFor(h.app, 'acme.test', 'root');
    const adminToken = await tokenFor(h.app, 'acme.test', 'siteadmin');
    const rest = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, payload?: unknown) =>
      h.app.inject({ method, url, headers: { host: 'acme.test', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

    const created = await rest('POST', '/api/v1/scim/tokens', rootToken, { description: 'Azure AD' });
    expect(created.statusCode, created.body).toBe(201);
    const { token, id } = created.json<{ token: string; id: number; description: string }>();
    expect(created.json()).toMatchObject({ description: 'Azure AD', lastUsedAt: null });
    expect((await scim('acme', 'GET', '/ServiceProviderConfig', undefined, { token })).statusCode).toBe(200);
    const listed = await rest('GET', '/api/v1/scim/tokens', rootToken);
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ tokens: { id: number; description: string; lastUsedAt: string | null }[] }>().tokens).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, description: 'Azure AD', lastUsedAt: expect.any(String) as string })]),
    );
    expect(listed.body).not.toContain(token);

    expect((await rest('GET', '/api/v1/scim/tokens', adminToken)).json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await rest('POST', '/api/v1/scim/tokens', adminToken, { description: 'mine' })).statusCode).toBe(403);
    expect((await rest('DELETE', `/api/v1/scim/tokens/${id}`, adminToken)).statusCode).toBe(403);
    expect((await rest('GET', '/api/v1/scim/tokens', null)).statusCode).toBe(401);
    expect((await rest('POST', '/api/v1/scim/tokens', rootToken, { description: '' })).statusCode).toBe(400);
    // Another tenant's super user sees none of acme's tokens.
    const globexRoot = await tokenFor(h.app, 'globex.test', 'root');
    const globexList = await h.app.inject({ method: 'GET', url: '/api/v1/scim/tokens', headers: { host: 'globex.test', authorization: `Bearer ${globexRoot}` } });
    expect(globexList.json<{ tokens: { description: string }[] }>().tokens.map((t) => t.description)).toEqual(['globex IdP']);

    expect((await rest('DELETE', `/api/v1/scim/tokens/${id}`, rootToken)).statusCode).toBe(204);
    expectScimError(await scim('acme', 'GET', '/ServiceProviderConfig', undefined, { token }), 401);
    expect((await rest('DELETE', `/api/v1/scim/tokens/${id}`, rootToken)).json()).toMatchObject({ error: { code: 'not_found' } });
    const actions = await auditActions('acme', 'scim.token_');
    expect(actions).toEqual(expect.arrayContaining(['scim.token_created', 'scim.token_revoked']));
  });
});

describe('scim:token console commands', () => {
  let dataDir: string;
  const plura = (...args: string[]) => runCli(dataDir, ...args);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plura-cli-scim-'));
    expect((await plura('tenant:create', 'acme', '--host', 'acme.test')).code).toBe(0);
    expect((await plura('tenant:create', 'globex', '--host', 'globex.test')).code).toBe(0);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates a token once, lists it without the secret, revokes it', async () => {
    const created = await plura('scim:token:create', '--tenant', 'acme', '--description', 'Okta');
    expect(created.code, created.err).toBe(0);
    const token = created.out;
    expect(token).toMatch(/^scim_[\w-]{40,}$/);
    expect(created.err).toContain('shown only now');

    const listed = await plura('scim:token:list', '--matomo-domain', 'acme.test', '--format', 'json');
    const tokens = JSON.parse(listed.out) as { id: number; description: string; lastUsedAt: string | null }[];
    expect(tokens).toEqual([expect.objectContaining({ id: 1, description: 'Okta', lastUsedAt: null })]);
    expect(listed.out).not.toContain(token);
    expect((await plura('scim:token:list', '--tenant', 'acme')).out).toContain('Okta');
    expect((await plura('scim:token:list', '--tenant', 'globex')).out).toBe('No SCIM tokens.');

    // The printed token is the tenant's, and only the tenant's.
    const platform = await openPlatform({ dataDir });
    try {
      for (const [slug, expected] of [['acme', 1], ['globex', null]] as const) {
        const tenant = await platform.tenants.get(slug);
        expect(await platform.withStore(tenant, (store) => findScimToken(platform, { kind: 'tenant', tenant, store }, token))).toBe(expected);
      }
    } finally {
      await platform.close();
    }

    expect(await plura('scim:token:revoke', '1', '--tenant', 'acme')).toMatchObject({ code: 0, out: 'Revoked SCIM token 1 of tenant acme.' });
    expect(await plura('scim:token:revoke', '1', '--tenant', 'acme')).toMatchObject({ code: 1, err: expect.stringContaining('no SCIM token 1') as string });
    expect(await plura('scim:token:revoke', 'x', '--tenant', 'acme')).toMatchObject({ code: 1 });
    expect(await plura('scim:token:create')).toMatchObject({ code: 1, err: expect.stringContaining('--tenant') as string });
  });
});

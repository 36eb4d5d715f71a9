import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change } from 'ldapts';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopeAuditDb } from '../audit/audit.service.js';
import { findAuditEntries, type AuditEntry } from '../audit/audit.store.js';
import { identityDbFor } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { createUser, setUserAccess, setUserActive } from '../access/users.service.js';
import { openHarness, sessionCookieOf, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { fillFilter, firstRdnValue, normalizeDn, parseDn } from './ldap.js';
import { startSlapd, type Slapd } from './test-support/slapd.js';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const SERVICE_DN = `cn=plura,ou=service,${SUFFIX}`;
const SERVICE_PASSWORD = 'service-account-secret';
const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const INITECH = 'initech.test';
const UMBRELLA = 'umbrella.test';
const PLATFORM_HOST = 'platform.test';
const dnOf = (uid: string): string => `uid=${uid},${PEOPLE}`;
const passwordOf = (uid: string): string => `${uid.replace(/\W/g, '')}-directory-pw`;

/** The settings every LDAP tenant here starts from (acme: service account, memberOf groups). */
const acmeLdap: Record<string, string> = {
  'LDAP.enabled': '1',
  'LDAP.display_name': 'Acme Directory',
  'LDAP.bind_dn': SERVICE_DN,
  'LDAP.bind_password': SERVICE_PASSWORD,
  'LDAP.base_dn': PEOPLE,
  'LDAP.timeout_ms': '2000',
};

describe('LDAP / Active Directory sign-in against a real slapd', () => {
  let slapd: Slapd;
  let h: Harness;
  let pg: TestPostgresDatabase;
  let ipCounter = 0;
  /** Each test signs in from addresses of its own, so brute-force counts never mix. */
  const nextIp = (): string => `10.77.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

  const configure = (slug: string, values: Record<string, string>): void => {
    for (const [name, value] of Object.entries(values)) h.platform.settings.set(name, value, { tenant: slug });
  };
  const unset = (slug: string, ...names: string[]): void => {
    for (const name of names) h.platform.settings.unset(name, { tenant: slug });
  };
  const ldapLogin = (host: string, payload: Record<string, unknown>, ip = '127.0.0.1'): Promise<LightMyRequestResponse> =>
    h.app.inject({ method: 'POST', url: '/auth/ldap/login', headers: { host }, payload, remoteAddress: ip });
  const me = async (host: string, response: LightMyRequestResponse) =>
    (await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host, cookie: sessionCookieOf(response) } })).json<{
      superuser: boolean;
      user: { login: string; email: string };
      sites: { site: number; role: string }[];
    }>();
  const failures = (slug: string, ip: string): Promise<number> =>
    h.asOperator(slug, async (ctx) => {
      const row = await identityDbFor(ctx.platform, ctx.scope)
        .selectFrom('login_failure')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('ip', '=', ip)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  const audit = (slug: string, actions: string[]): Promise<AuditEntry[]> =>
    h.asOperator(slug, async (ctx) => (await findAuditEntries(scopeAuditDb(ctx), { actions, limit: -1 })).entries);
  const userRow = (slug: string, login: string) => h.asOperator(slug, (ctx) => identityStore.findUserByLogin(identityDbFor(ctx.platform, ctx.scope), login));
  const providerGroups = (slug: string, login: string): Promise<string[]> =>
    h.asOperator(slug, async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      const user = await identityStore.findUserByLogin(db, login);
      if (!user) return [];
      const rows = await db.selectFrom('sso_user_group').select('group_name').where('user_id', '=', user.id).execute();
      return rows.map((row) => row.group_name).sort();
    });

  beforeAll(async () => {
    // Fails (never skips) with "install slapd and ldap-utils" when the server is missing.
    slapd = await startSlapd({ suffix: SUFFIX });
    await slapd.admin(async (client) => {
      for (const ou of ['people', 'groups', 'service', 'initech']) await client.add(`ou=${ou},${SUFFIX}`, { objectClass: 'organizationalUnit', ou });
      await client.add(SERVICE_DN, { objectClass: ['organizationalRole', 'simpleSecurityObject'], cn: 'plura', userPassword: SERVICE_PASSWORD });
      const people: [uid: string, given: string, sn: string][] = [
        ['alice', 'Alice', 'Liddell'],
        ['bob', 'Bob', 'Builder'],
        ['carol', 'Carol', 'Danvers'],
        ['dave', 'Dave', 'Lister'],
        ['erin', 'Erin', 'Brockovich'],
        ['frank', 'Frank', 'Drebin'],
        ['gina', 'Gina', 'Linetti'],
        ['dana(ops)', 'Dana', 'Scully'],
      ];
      for (const [uid, givenName, sn] of people) {
        const mail = `${uid.replace(/\W.*$/, '')}@example.org`;
        await client.add(dnOf(uid), { objectClass: 'inetOrgPerson', uid, cn: `${givenName} ${sn}`, givenName, sn, mail, userPassword: passwordOf(uid) });
      }
      // Initech's part of the tree has its own alice (another person, another password).
      await client.add(`uid=alice,ou=initech,${SUFFIX}`, { objectClass: 'inetOrgPerson', uid: 'alice', cn: 'Alice Initech', sn: 'Initech', mail: 'alice@initech.example', userPassword: 'initech-alice-pw' });
      const group = (cn: string, members: string[]) => client.add(`cn=${cn.replace(/,/g, '\\,')},${GROUPS}`, { objectClass: 'groupOfNames', cn, member: members });
      await group('Analysts', [dnOf('alice'), dnOf('dana(ops)'), dnOf('gina')]);
      await group('Admins', [dnOf('bob')]);
      await group('Research, Development', [dnOf('alice')]);
      await client.add(`cn=Printers,${GROUPS}`, { objectClass: 'posixGroup', cn: 'Printers', gidNumber: '5000', memberUid: ['alice', 'dana(ops)'] });
    });

    pg = await createTestPostgresDatabase('ldap');
    h = await openHarness({ PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '5', PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix, PLURA_GENERAL_PLATFORM_HOST: PLATFORM_HOST });
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX]);
    await h.addTenant('initech', [INITECH]);
    await h.addTenant('umbrella', [UMBRELLA], pg.url);
    for (const slug of ['acme', 'umbrella']) {
      await h.addSite(slug, `${slug}-shop`);
      await h.addSite(slug, `${slug}-blog`);
    }
    configure('acme', { ...acmeLdap, 'LDAP.url': slapd.url, 'SSO.role_mapping': 'Analysts = site:1:view,Admins = superuser' });
    // Globex has LDAP off; Initech points at its own part of the tree.
    configure('initech', { ...acmeLdap, 'LDAP.url': slapd.url, 'LDAP.base_dn': `ou=initech,${SUFFIX}` });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await pg?.drop();
    await slapd?.stop();
  });

  it('parses DNs and escapes filter values (RFC 4514 / RFC 4515)', () => {
    expect(fillFilter('(uid={login})', { login: '*)(uid=*' })).toBe('(uid=\\2a\\29\\28uid=\\2a)');
    expect(fillFilter('(|(member={dn})(memberUid={login}))', { dn: 'uid=a\\,b,o=x', login: 'a\\b' })).toBe('(|(member=uid=a\\5c,b,o=x)(memberUid=a\\5cb))');
    expect(firstRdnValue('cn=Analysts,ou=groups,dc=example,dc=org')).toBe('Analysts');
    expect(firstRdnValue('CN=Research\\, Development,OU=Groups,DC=corp')).toBe('Research, Development');
    expect(firstRdnValue('cn=Caf\\C3\\A9 Cr\\C3\\A8me,ou=g')).toBe('Café Crème');
    expect(firstRdnValue('cn=a+uid=b,ou=g')).toBe('a');
    expect(firstRdnValue('not a dn')).toBeNull();
    expect(normalizeDn('UID=Alice , OU=People,dc=Example,dc=org')).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect(normalizeDn('cn=Smith\\2C John,ou=x')).toBe(normalizeDn('cn=smith\\, john,ou=x'));
    expect(parseDn('cn=a\\ ,o=x')).toEqual([[{ type: 'cn', value: 'a ' }], [{ type: 'o', value: 'x' }]]);
    expect(() => parseDn('cn=a,=b')).toThrow();
  });

  it('offers LDAP on the login page of a tenant that enabled it, and not elsewhere', async () => {
    const acme = await h.app.inject({ method: 'GET', url: '/auth/providers', headers: { host: ACME } });
    expect(acme.json<{ providers: unknown[] }>().providers).toContainEqual({ id: 'ldap', name: 'Acme Directory', url: '/auth/ldap/login', method: 'POST' });
    const globex = await h.app.inject({ method: 'GET', url: '/auth/providers', headers: { host: GLOBEX } });
    expect(globex.json<{ providers: { id: string }[] }>().providers.map((p) => p.id)).not.toContain('ldap');
  });

  it('signs in with the directory password, provisions the user, reads memberOf groups and applies the role mapping (SQLite)', async () => {
    const ip = nextIp();
    const response = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'signed_in', login: 'alice', csrfToken: expect.any(String), expiresAt: expect.any(String) });
    expect(response.cookies.find((c) => c.name === 'plura_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const who = await me(ACME, response);
    expect(who).toMatchObject({ superuser: false, user: { login: 'alice', email: 'alice@example.org' } });
    expect(who.sites).toEqual([expect.objectContaining({ site: 1, role: 'view' })]);
    // memberOf is maintained by slapd's memberof overlay; group DNs become their first RDN's value.
    expect(await providerGroups('acme', 'alice')).toEqual(['Analysts', 'Research, Development']);
    const row = await userRow('acme', 'alice');
    expect(row).toMatchObject({ first_name: 'Alice', last_name: 'Liddell', password_hash: null });
    const identity = await h.asOperator('acme', (ctx) => identityDbFor(ctx.platform, ctx.scope).selectFrom('sso_identity').selectAll().where('provider', '=', 'ldap').execute());
    expect(identity.map((i) => i.subject)).toContain('uid=alice,ou=people,dc=example,dc=org');
    // A super user group maps to superuser.
    const bob = await ldapLogin(ACME, { login: 'bob', password: passwordOf('bob') }, ip);
    expect(bob.statusCode, bob.body).toBe(200);
    expect(await me(ACME, bob)).toMatchObject({ superuser: true });
    // Audited: provisioning, rights, sign-in (with the provider).
    expect((await audit('acme', ['sso.user_provisioned'])).map((e) => e.after)).toContainEqual({ login: 'alice', email: 'alice@example.org', provider: 'ldap' });
    expect((await audit('acme', ['sso.rights_changed'])).map((e) => e.after)).toContainEqual(expect.objectContaining({ login: 'alice', granted: ['site:1:view'] }));
    expect((await audit('acme', ['login.success'])).map((e) => e.after)).toContainEqual({ login: 'alice', provider: 'ldap', groups: ['Analysts', 'Research, Development'] });
    expect(await failures('acme', ip)).toBe(0);
  });

  it('follows the directory on every sign-in: a removed group revokes its mapped right, hand grants stay', async () => {
    const ip = nextIp();
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'alice', 'write', [2]));
    await slapd.admin((client) =>
      client.modify(`cn=Analysts,${GROUPS}`, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dnOf('alice')] }) })),
    );
    try {
      const response = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(response.statusCode, response.body).toBe(200);
      expect((await me(ACME, response)).sites).toEqual([expect.objectContaining({ site: 2, role: 'write' })]);
      expect(await providerGroups('acme', 'alice')).toEqual(['Research, Development']);
      expect((await audit('acme', ['sso.rights_changed'])).map((e) => e.after)).toContainEqual(expect.objectContaining({ login: 'alice', revoked: ['site:1:view'] }));
    } finally {
      await slapd.admin((client) =>
        client.modify(`cn=Analysts,${GROUPS}`, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dnOf('alice')] }) })),
      );
    }
    const again = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
    expect((await me(ACME, again)).sites.map((s) => [s.site, s.role]).sort()).toEqual([
      [1, 'view'],
      [2, 'write'],
    ]);
  });

  it('reads groups with a group search (group_source = search), {dn} and {login} escaped', async () => {
    configure('acme', {
      'LDAP.group_source': 'search',
      'LDAP.group_base_dn': GROUPS,
      'LDAP.group_filter': '(|(member={dn})(memberUid={login}))',
      'LDAP.group_name_attribute': 'cn',
    });
    try {
      const ip = nextIp();
      // A DN and login with filter syntax in them: found only when both are escaped.
      const dana = await ldapLogin(ACME, { login: 'dana(ops)', password: passwordOf('dana(ops)') }, ip);
      expect(dana.statusCode, dana.body).toBe(200);
      // "dana(ops)" is no valid Plura login, so the new user is named by its email.
      expect(dana.json()).toMatchObject({ login: 'dana@example.org' });
      expect(await providerGroups('acme', 'dana@example.org')).toEqual(['Analysts', 'Printers']);
      expect((await me(ACME, dana)).sites).toEqual([expect.objectContaining({ site: 1, role: 'view' })]);
      const alice = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(alice.statusCode, alice.body).toBe(200);
      expect(await providerGroups('acme', 'alice')).toEqual(['Analysts', 'Printers', 'Research, Development']);
    } finally {
      unset('acme', 'LDAP.group_source', 'LDAP.group_base_dn', 'LDAP.group_filter', 'LDAP.group_name_attribute');
    }
  });

  it('with provisioning off, refuses a directory user unknown to Plura and links one known by email', async () => {
    configure('acme', { 'LDAP.user_provisioning': '0' });
    try {
      const ip = nextIp();
      const refused = await ldapLogin(ACME, { login: 'carol', password: passwordOf('carol') }, ip);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'sso_refused', message: expect.stringContaining('does not create users') } });
      expect(await userRow('acme', 'carol')).toBeUndefined();
      expect((await audit('acme', ['sso.refused'])).map((e) => e.after)).toContainEqual(expect.objectContaining({ provider: 'ldap', reason: expect.stringContaining('carol@example.org') }));

      await h.asOperator('acme', (ctx) => createUser(ctx, { login: 'cdanvers', email: 'carol@example.org', password: null }));
      const linked = await ldapLogin(ACME, { login: 'carol', password: passwordOf('carol') }, ip);
      expect(linked.statusCode, linked.body).toBe(200);
      expect(linked.json()).toMatchObject({ login: 'cdanvers' });
      expect(await userRow('acme', 'carol')).toBeUndefined();
    } finally {
      unset('acme', 'LDAP.user_provisioning');
    }
  });

  it('refuses a wrong password, an unknown user, an empty password and filter injection alike, and counts them for brute force', async () => {
    const ip = nextIp();
    const attempts = [
      { login: 'alice', password: 'not-the-password' },
      { login: 'nobody', password: 'whatever-it-is' },
      { login: 'alice', password: '' },
      // Unescaped, these would match every user (or the first one found).
      { login: '*)(uid=*', password: passwordOf('alice') },
      { login: '*', password: passwordOf('alice') },
    ];
    for (const attempt of attempts) {
      const response = await ldapLogin(ACME, attempt, ip);
      expect(response.statusCode, `${attempt.login}: ${response.body}`).toBe(401);
      expect(response.json()).toEqual({ error: { code: 'invalid_credentials', message: 'Wrong username and/or password.' } });
    }
    expect(await failures('acme', ip)).toBe(5);
    const reasons = (await audit('acme', ['login.failure'])).map((e) => e.after as { login: string; reason: string; provider: string });
    expect(reasons).toEqual(
      expect.arrayContaining([
        { login: 'alice', provider: 'ldap', reason: 'wrong_password' },
        { login: 'nobody', provider: 'ldap', reason: 'unknown_user' },
        { login: 'alice', provider: 'ldap', reason: 'empty_password' },
        { login: '*)(uid=*', provider: 'ldap', reason: 'unknown_user' },
        { login: '*', provider: 'ldap', reason: 'unknown_user' },
      ]),
    );
    // The address is now blocked, even with the right password.
    const blocked = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ error: { code: 'ip_blocked' } });
    // Another address is not.
    expect((await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, nextIp())).statusCode).toBe(200);
  });

  it('refuses a user locked, re-passworded or removed in the directory', async () => {
    const ip = nextIp();
    for (const uid of ['dave', 'erin', 'gina']) expect((await ldapLogin(ACME, { login: uid, password: passwordOf(uid) }, ip)).statusCode).toBe(200);

    // Locked (ppolicy's pwdAccountLockedTime), excluded by the operator's user filter.
    configure('acme', { 'LDAP.user_filter': '(&(uid={login})(!(pwdAccountLockedTime=*)))' });
    try {
      await slapd.admin((client) =>
        client.modify(dnOf('dave'), new Change({ operation: 'add', modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }) })),
      );
      const locked = await ldapLogin(ACME, { login: 'dave', password: passwordOf('dave') }, ip);
      expect(locked.statusCode).toBe(401);
      expect(locked.json()).toMatchObject({ error: { code: 'invalid_credentials' } });
      expect((await ldapLogin(ACME, { login: 'gina', password: passwordOf('gina') }, ip)).statusCode).toBe(200);
    } finally {
      unset('acme', 'LDAP.user_filter');
    }

    // The password changed in the directory: the old one no longer opens Plura.
    await slapd.admin((client) => client.modify(dnOf('gina'), new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: ['a-brand-new-password'] }) })));
    expect((await ldapLogin(ACME, { login: 'gina', password: passwordOf('gina') }, ip)).statusCode).toBe(401);
    expect((await ldapLogin(ACME, { login: 'gina', password: 'a-brand-new-password' }, ip)).statusCode).toBe(200);

    // Removed from the directory (the Plura user still exists, but cannot sign in through LDAP).
    await slapd.admin((client) => client.del(dnOf('erin')));
    const removed = await ldapLogin(ACME, { login: 'erin', password: passwordOf('erin') }, ip);
    expect(removed.statusCode).toBe(401);
    expect(await userRow('acme', 'erin')).toBeDefined();
    expect(await failures('acme', ip)).toBe(3);
  });

  it('refuses a login that matches several directory entries', async () => {
    const ip = nextIp();
    // The whole tree holds two alices (Acme's and Initech's): which one is meant cannot be known.
    configure('acme', { 'LDAP.base_dn': SUFFIX });
    try {
      const response = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_credentials' } });
    } finally {
      configure('acme', { 'LDAP.base_dn': PEOPLE });
    }
    expect(await failures('acme', ip)).toBe(1);
    expect((await audit('acme', ['login.failure'])).map((e) => e.after)).toContainEqual({ login: 'alice', provider: 'ldap', reason: 'ambiguous_user' });
  });

  it('refuses a user deactivated in Plura, even with the right directory password', async () => {
    const ip = nextIp();
    expect((await ldapLogin(ACME, { login: 'frank', password: passwordOf('frank') }, ip)).statusCode).toBe(200);
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'frank', false));
    const refused = await ldapLogin(ACME, { login: 'frank', password: passwordOf('frank') }, ip);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'user_deactivated' } });
    expect(refused.cookies.find((c) => c.name === 'plura_session')).toBeUndefined();
    expect((await audit('acme', ['login.refused_deactivated'])).map((e) => e.after)).toContainEqual({ login: 'frank', provider: 'ldap' });
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'frank', true));
    expect((await ldapLogin(ACME, { login: 'frank', password: passwordOf('frank') }, ip)).statusCode).toBe(200);
  });

  it('answers 503 with a clear message when the directory is down, hangs or refuses the service account (never a hang or a 500)', async () => {
    const ip = nextIp();
    try {
      // Nothing listens on port 1 (a free high port could be taken by another test's server meanwhile).
      configure('acme', { 'LDAP.url': 'ldap://127.0.0.1:1' });
      const down = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ error: { code: 'sso_unavailable', message: 'The directory "Acme Directory" cannot be reached right now; try again later.' } });

      // slapd frozen: the kernel accepts the connection, nobody answers.
      configure('acme', { 'LDAP.url': slapd.url, 'LDAP.timeout_ms': '300' });
      slapd.pause();
      const started = Date.now();
      let hung: LightMyRequestResponse;
      try {
        hung = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      } finally {
        slapd.resume();
      }
      expect(Date.now() - started).toBeLessThan(3000);
      expect(hung.statusCode).toBe(503);
      expect(hung.json()).toMatchObject({ error: { code: 'sso_unavailable', message: 'The directory "Acme Directory" did not answer within 300 ms; try again later.' } });

      configure('acme', { 'LDAP.timeout_ms': '2000', 'LDAP.bind_password': 'wrong-service-password' });
      const service = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(service.statusCode).toBe(503);
      expect(service.json()).toMatchObject({ error: { code: 'sso_unavailable', message: expect.stringContaining('refused Plura\'s service account') } });

      configure('acme', { 'LDAP.bind_password': SERVICE_PASSWORD, 'LDAP.user_filter': '(uid=alice)' });
      const misconfigured = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(misconfigured.statusCode).toBe(503);
      expect(misconfigured.json()).toMatchObject({ error: { code: 'config_invalid', message: expect.stringContaining('must contain {login}') } });
    } finally {
      configure('acme', { ...acmeLdap, 'LDAP.url': slapd.url });
      unset('acme', 'LDAP.user_filter');
    }
    // The directory's trouble is not the user's: nothing counted, but audited with the cause.
    expect(await failures('acme', ip)).toBe(0);
    const refusals = (await audit('acme', ['sso.refused'])).map((e) => e.after as { reason: string; detail?: string });
    expect(refusals).toContainEqual(expect.objectContaining({ reason: expect.stringContaining('cannot be reached'), detail: expect.stringContaining('ECONNREFUSED') }));
    expect(refusals).toContainEqual(expect.objectContaining({ reason: expect.stringContaining('did not answer') }));
    expect((await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip)).statusCode).toBe(200);
  });

  it('uses StartTLS when start_tls is on: refused against an untrusted certificate, signed in with the directory\'s CA', async () => {
    const ip = nextIp();
    configure('acme', { 'LDAP.start_tls': '1' });
    try {
      const untrusted = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(untrusted.statusCode).toBe(503);
      expect(untrusted.json()).toMatchObject({ error: { code: 'sso_unavailable', message: expect.stringContaining('securely') } });
      // A relative CA file lives in the tenant's own folder.
      copyFileSync(slapd.caFile, join(h.platform.paths.tenantDir('acme'), 'ldap-ca.pem'));
      configure('acme', { 'LDAP.tls_ca_file': 'ldap-ca.pem' });
      const trusted = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(trusted.statusCode, trusted.body).toBe(200);
      // ldaps:// (TLS from the first byte) with the same CA.
      configure('acme', { 'LDAP.start_tls': '0', 'LDAP.url': slapd.ldapsUrl });
      const ldaps = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(ldaps.statusCode, ldaps.body).toBe(200);
      configure('acme', { 'LDAP.tls_ca_file': 'missing-ca.pem' });
      const missing = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
      expect(missing.json()).toMatchObject({ error: { code: 'config_invalid', message: expect.stringContaining('tls_ca_file "missing-ca.pem" cannot be read') } });
    } finally {
      configure('acme', { 'LDAP.url': slapd.url });
      unset('acme', 'LDAP.start_tls', 'LDAP.tls_ca_file');
    }
  });

  it('a form post with return_to is redirected there; an off-site return_to is refused before the directory is asked', async () => {
    const ip = nextIp();
    const form = (body: string) =>
      h.app.inject({ method: 'POST', url: '/auth/ldap/login', headers: { host: ACME, 'content-type': 'application/x-www-form-urlencoded' }, payload: body, remoteAddress: ip });
    const ok = await form(`login=alice&password=${encodeURIComponent(passwordOf('alice'))}&remember=on&return_to=${encodeURIComponent('/reports?site=1')}`);
    expect(ok.statusCode, ok.body).toBe(303);
    expect(ok.headers.location).toBe('/reports?site=1');
    expect(ok.cookies.find((c) => c.name === 'plura_session')?.maxAge).toBeGreaterThan(0);
    const evil = await form(`login=alice&password=wrong&return_to=${encodeURIComponent('//evil.example/')}`);
    expect(evil.statusCode).toBe(400);
    expect(evil.json()).toMatchObject({ error: { code: 'invalid_input' } });
    const missing = await h.app.inject({ method: 'POST', url: '/auth/ldap/login', headers: { host: ACME }, payload: { login: 'alice' }, remoteAddress: ip });
    expect(missing.statusCode).toBe(400);
    expect(await failures('acme', ip)).toBe(0);
  });

  it('a sign-in meant for one tenant does not sign in at another tenant', async () => {
    const ip = nextIp();
    const atAcme = await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(atAcme.statusCode).toBe(200);
    // Globex has LDAP off.
    const globex = await ldapLogin(GLOBEX, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(globex.statusCode).toBe(404);
    expect(globex.json()).toMatchObject({ error: { code: 'sso_not_configured' } });
    // Initech's directory settings point at its own users: Acme's alice and password mean nothing there.
    const initech = await ldapLogin(INITECH, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(initech.statusCode).toBe(401);
    expect(await userRow('initech', 'alice')).toBeUndefined();
    expect(await userRow('globex', 'alice')).toBeUndefined();
    // Acme's session is no session at Initech.
    const cookieElsewhere = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: INITECH, cookie: sessionCookieOf(atAcme) } });
    expect(cookieElsewhere.statusCode).toBe(401);
    // Initech's own alice is another user, in Initech's store only.
    const own = await ldapLogin(INITECH, { login: 'alice', password: 'initech-alice-pw' }, ip);
    expect(own.statusCode, own.body).toBe(200);
    expect(await me(INITECH, own)).toMatchObject({ user: { login: 'alice', email: 'alice@initech.example' } });
    expect((await userRow('acme', 'alice'))?.email).toBe('alice@example.org');
    expect(await failures('initech', ip)).toBe(1);
    expect(await failures('acme', ip)).toBe(0);
  });

  it('signs in on a PostgreSQL tenant (anonymous search, group search, StartTLS) with audit and brute-force counting there', async () => {
    const ip = nextIp();
    copyFileSync(slapd.caFile, join(h.platform.paths.tenantDir('umbrella'), 'ldap-ca.pem'));
    configure('umbrella', {
      'LDAP.enabled': '1',
      'LDAP.url': slapd.url,
      'LDAP.start_tls': '1',
      'LDAP.tls_ca_file': 'ldap-ca.pem',
      'LDAP.base_dn': PEOPLE,
      'LDAP.user_filter': '(&(objectClass=inetOrgPerson)(uid={login}))',
      'LDAP.group_source': 'search',
      'LDAP.group_base_dn': GROUPS,
      'LDAP.group_filter': '(member={dn})',
      'SSO.role_mapping': 'Analysts = site:2:write',
    });
    const wrong = await ldapLogin(UMBRELLA, { login: 'alice', password: 'wrong-password' }, ip);
    expect(wrong.statusCode).toBe(401);
    const response = await ldapLogin(UMBRELLA, { login: 'alice', password: passwordOf('alice') }, ip);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'signed_in', login: 'alice' });
    expect((await me(UMBRELLA, response)).sites).toEqual([expect.objectContaining({ site: 2, role: 'write' })]);
    expect(await providerGroups('umbrella', 'alice')).toEqual(['Analysts', 'Research, Development']);
    expect(await failures('umbrella', ip)).toBe(1);
    expect((await audit('umbrella', ['login.failure'])).map((e) => e.after)).toContainEqual({ login: 'alice', provider: 'ldap', reason: 'wrong_password' });
    expect((await audit('umbrella', ['login.success'])).map((e) => e.after)).toContainEqual(expect.objectContaining({ login: 'alice', provider: 'ldap' }));
    expect((await audit('umbrella', ['sso.user_provisioned'])).length).toBe(1);
  });

  it('signs platform users in at the platform host with the platform\'s own [LDAP] settings', async () => {
    const ip = nextIp();
    const off = await ldapLogin(PLATFORM_HOST, { login: 'bob', password: passwordOf('bob') }, ip);
    expect(off.json()).toMatchObject({ error: { code: 'sso_not_configured' } });
    for (const [name, value] of Object.entries({ ...acmeLdap, 'LDAP.url': slapd.url, 'LDAP.display_name': 'Operator Directory', 'SSO.role_mapping': 'Admins = superuser' })) {
      h.platform.settings.set(name, value);
    }
    try {
      const response = await ldapLogin(PLATFORM_HOST, { login: 'bob', password: passwordOf('bob') }, ip);
      expect(response.statusCode, response.body).toBe(200);
      expect(await (await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: PLATFORM_HOST, cookie: sessionCookieOf(response) } })).json()).toMatchObject({
        kind: 'platform_user',
        platformAdmin: true,
        user: { login: 'bob' },
      });
      // The platform's session is no session at a tenant's host.
      expect((await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: ACME, cookie: sessionCookieOf(response) } })).statusCode).toBe(401);
    } finally {
      for (const name of [...Object.keys(acmeLdap), 'LDAP.url', 'SSO.role_mapping']) h.platform.settings.unset(name);
    }
  });

  it('leaves no connection open at the directory', async () => {
    await ldapLogin(ACME, { login: 'alice', password: passwordOf('alice') }, nextIp());
    await ldapLogin(ACME, { login: 'alice', password: 'wrong-password' }, nextIp());
    await ldapLogin(ACME, { login: 'nobody', password: 'wrong-password' }, nextIp());
    let open = -1;
    for (let i = 0; i < 50; i++) {
      open = await slapd.openConnections();
      if (open === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(open).toBe(0);
  });
});

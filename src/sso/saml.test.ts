import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { Constants, IdentityProvider, SamlLib, ServiceProvider, setSchemaValidator, type IdentityProviderInstance, type ServiceProviderInstance } from 'samlify';
import { generate } from 'selfsigned';
import { identityDbFor } from '../access/context.js';
import { scopeAuditDb } from '../audit/audit.service.js';
import { openHarness, sessionCookieOf, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { parseIdpMetadata } from './saml.js';

// samlify insists on a schema validator; our SP (node-saml) is what is under test, so the IdP side accepts its input as is.
setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const OFF = 'off.test';
const PG_HOST = 'pg.test';
const PLATFORM = 'platform.test';
const IDP_ENTITY = 'https://idp.example/saml/metadata';
const IDP_SSO = 'https://idp.example/saml/sso';
const METADATA_FILE = 'idp-metadata.xml';
const { binding } = Constants.namespace;

interface Keys {
  readonly privateKey: string;
  readonly cert: string;
}

async function keys(name: string): Promise<Keys> {
  const pems = await generate([{ name: 'commonName', value: name }], { keySize: 2048, algorithm: 'sha256' });
  return { privateKey: pems.private, cert: pems.cert };
}

function identityProvider(key: Keys, entityID = IDP_ENTITY): IdentityProviderInstance {
  return IdentityProvider({
    entityID,
    privateKey: key.privateKey,
    signingCert: key.cert,
    singleSignOnService: [{ Binding: binding.redirect, Location: IDP_SSO }],
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
  });
}

const xmlEscape = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Person {
  readonly nameId: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly groups?: readonly string[];
}

/** What a test changes in an otherwise correct response. */
interface Tweaks {
  readonly inResponseTo?: string | null;
  readonly assertionId?: string;
  readonly audience?: string;
  readonly recipient?: string;
  readonly destination?: string;
  readonly notBefore?: Date;
  readonly notOnOrAfter?: Date;
  readonly issuer?: string;
  readonly withoutConditions?: boolean;
}

function attributeStatement(person: Person): string {
  const attribute = (name: string, values: readonly string[]): string =>
    `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
      .map((value) => `<saml:AttributeValue xsi:type="xs:string">${xmlEscape(value)}</saml:AttributeValue>`)
      .join('')}</saml:Attribute>`;
  const parts: string[] = [];
  if (person.email) parts.push(attribute('email', [person.email]));
  if (person.firstName) parts.push(attribute('firstName', [person.firstName]));
  if (person.lastName) parts.push(attribute('lastName', [person.lastName]));
  if (person.groups && person.groups.length > 0) parts.push(attribute('groups', person.groups));
  return parts.length > 0 ? `<saml:AttributeStatement>${parts.join('')}</saml:AttributeStatement>` : '';
}

/** The IdP's login-response template filled for `host`'s SP (unsigned; samlify signs what it builds from it). */
function filledTemplate(template: string, host: string, requestId: string | null, person: Person, tweaks: Tweaks = {}): { id: string; context: string } {
  const now = new Date();
  const later = tweaks.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
  const acs = `http://${host}/auth/saml/acs`;
  const id = `_${randomBytes(16).toString('hex')}`;
  const authn = `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
  const inResponseTo = tweaks.inResponseTo === undefined ? requestId : tweaks.inResponseTo;
  const conditions = tweaks.withoutConditions ? template.replace(/<saml:Conditions[\s\S]*<\/saml:Conditions>/, '') : template;
  const withStatements = conditions.replace('{AuthnStatement}', authn).replace('{AttributeStatement}', attributeStatement(person));
  const context = SamlLib.replaceTagsByValue(withStatements, {
    ID: id,
    AssertionID: tweaks.assertionId ?? `_${randomBytes(16).toString('hex')}`,
    Destination: tweaks.destination ?? acs,
    Audience: tweaks.audience ?? `http://${host}/auth/saml/metadata`,
    SubjectRecipient: tweaks.recipient ?? acs,
    Issuer: tweaks.issuer ?? IDP_ENTITY,
    IssueInstant: (tweaks.notBefore ?? now).toISOString(),
    StatusCode: Constants.StatusCode.Success,
    ConditionsNotBefore: (tweaks.notBefore ?? now).toISOString(),
    ConditionsNotOnOrAfter: later.toISOString(),
    SubjectConfirmationDataNotOnOrAfter: later.toISOString(),
    NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    NameID: person.nameId,
    InResponseTo: inResponseTo ?? undefined,
  });
  return { id, context };
}

const decode = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');
const encode = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

describe('SAML 2.0 service provider', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  let idpKeys: Keys;
  let idp: IdentityProviderInstance;
  let attacker: IdentityProviderInstance;
  let siteId: number;

  function writeMetadata(folder: string, xml: string): void {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, METADATA_FILE), xml);
  }

  async function configureTenant(slug: string): Promise<void> {
    writeMetadata(h.platform.paths.tenantDir(slug), idp.getMetadata());
    h.platform.settings.set('SAML.enabled', '1', { tenant: slug });
    h.platform.settings.set('SAML.idp_metadata_file', METADATA_FILE, { tenant: slug });
  }

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('saml');
    h = await openHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix, PLURA_GENERAL_PLATFORM_HOST: PLATFORM });
    [idpKeys] = await Promise.all([keys('Test IdP')]);
    const attackerKeys = await keys('Attacker');
    idp = identityProvider(idpKeys);
    attacker = identityProvider(attackerKeys);
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX]);
    await h.addTenant('off', [OFF]);
    await h.addTenant('pgco', [PG_HOST], pg.url);
    siteId = await h.addSite('acme', 'shop');
    await h.addSite('acme', 'blog');
    await h.addSite('pgco', 'pgsite');
    for (const slug of ['acme', 'globex', 'pgco']) await configureTenant(slug);
    h.platform.settings.set('SSO.role_mapping', 'Admins = superuser,Analysts = site:1:view,site:2:write', { tenant: 'acme' });
    h.platform.settings.set('SSO.role_mapping', 'Analysts = site:1:view', { tenant: 'pgco' });
    // Platform users: metadata under data/config, settings in common.ini; the "off" tenant overrides it off.
    writeMetadata(h.platform.paths.configDir, idp.getMetadata());
    h.platform.settings.set('SAML.enabled', '1');
    h.platform.settings.set('SAML.idp_metadata_file', METADATA_FILE);
    h.platform.settings.set('SAML.enabled', '0', { tenant: 'off' });
  });

  afterAll(async () => {
    await h.close();
    await pg.drop();
  });

  /** The SP as the IdP administrator registers it: from our own metadata endpoint. */
  async function serviceProvider(host: string, extra: { wantMessageSigned?: boolean } = {}): Promise<ServiceProviderInstance> {
    const response = await h.app.inject({ method: 'GET', url: '/auth/saml/metadata', headers: { host } });
    expect(response.statusCode).toBe(200);
    return ServiceProvider({ metadata: response.body, ...extra });
  }

  interface Started {
    readonly requestId: string;
    readonly relayState: string;
    readonly sp: ServiceProviderInstance;
    readonly info: Awaited<ReturnType<IdentityProviderInstance['parseLoginRequest']>>;
  }

  /** GET /auth/saml/login, then the IdP reads the AuthnRequest from the redirect. */
  async function startLogin(host: string, returnTo = '/reports?period=day'): Promise<Started> {
    const response = await h.app.inject({ method: 'GET', url: `/auth/saml/login?return_to=${encodeURIComponent(returnTo)}`, headers: { host } });
    expect(response.statusCode, response.body).toBe(302);
    const location = new URL(String(response.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(IDP_SSO);
    const query = Object.fromEntries(location.searchParams.entries());
    const sp = await serviceProvider(host);
    const info = await idp.parseLoginRequest(sp, 'redirect', { query });
    const requestId = info.extract.request?.['id'];
    if (typeof requestId !== 'string') throw new Error('no request id');
    return { requestId, relayState: query['RelayState'] ?? '', sp, info };
  }

  /** The IdP (`by`) answers a started sign-in with a signed response built by samlify. */
  async function respond(started: Started, host: string, person: Person, tweaks: Tweaks = {}, by = idp, sp = started.sp): Promise<string> {
    const result = await by.createLoginResponse(sp, { extract: started.info.extract }, 'post', { email: person.nameId }, {
      relayState: started.relayState,
      customTagReplacement: (template) => filledTemplate(template, host, started.requestId, person, tweaks),
    });
    return result.context;
  }

  const post = (host: string, samlResponse: string, relayState?: string): Promise<LightMyRequestResponse> =>
    h.app.inject({
      method: 'POST',
      url: '/auth/saml/acs',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState !== undefined ? { RelayState: relayState } : {}) }).toString(),
    });

  async function me(host: string, response: LightMyRequestResponse): Promise<{ user: { login: string; email: string; firstName?: string | null } | null; superuser?: boolean; sites?: { site: number; role: string }[] }> {
    const answer = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host, cookie: sessionCookieOf(response) } });
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json();
  }

  async function counts(slug: string): Promise<{ users: number; refused: number; lastReason: string | null }> {
    return h.asOperator(slug, async (ctx) => {
      const users = await identityDbFor(ctx.platform, ctx.scope).selectFrom('user').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const refused = await scopeAuditDb(ctx).selectFrom('audit_entry').select(['after_json']).where('action', '=', 'sso.refused').orderBy('id', 'desc').execute();
      const last = refused[0]?.after_json;
      return { users: Number(users.n), refused: refused.length, lastReason: last ? (JSON.parse(last) as { reason: string }).reason : null };
    });
  }

  /** Posts, expects the refusal, its audit entry, and that no user appeared. */
  async function expectRefused(slug: string, host: string, samlResponse: string, status: number, reason: RegExp): Promise<void> {
    const before = await counts(slug);
    const response = await post(host, samlResponse);
    expect(response.statusCode, response.body).toBe(status);
    const body = response.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe(status === 400 ? 'invalid_input' : 'sso_refused');
    expect(body.error.message).toMatch(reason);
    expect(response.cookies.find((cookie) => cookie.name === 'plura_session')).toBeUndefined();
    const after = await counts(slug);
    expect(after.users).toBe(before.users);
    expect(after.refused).toBe(before.refused + 1);
    expect(after.lastReason).toMatch(reason);
  }

  const alice: Person = { nameId: 'alice@acme.example', email: 'alice@acme.example', firstName: 'Alice', lastName: 'Liddell', groups: ['Analysts', 'Everyone'] };

  it('metadata: valid XML with the entity id, the HTTP-POST ACS and WantAssertionsSigned', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/auth/saml/metadata', headers: { host: ACME } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/samlmetadata+xml');
    // A real SAML library reads it back.
    const sp = ServiceProvider({ metadata: response.body });
    expect(sp.entityMeta.getEntityID()).toBe('http://acme.test/auth/saml/metadata');
    expect(sp.entityMeta.getAssertionConsumerService('post')).toBe('http://acme.test/auth/saml/acs');
    expect(sp.entityMeta.isWantAssertionsSigned()).toBe(true);
    expect(response.body).toContain('WantAssertionsSigned="true"');
    expect(response.body).toContain('Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"');

    h.platform.settings.set('SAML.sp_entity_id', 'urn:plura:globex', { tenant: 'globex' });
    try {
      const custom = await h.app.inject({ method: 'GET', url: '/auth/saml/metadata', headers: { host: GLOBEX } });
      expect(ServiceProvider({ metadata: custom.body }).entityMeta.getEntityID()).toBe('urn:plura:globex');
      expect(custom.body).toContain('Location="http://globex.test/auth/saml/acs"');
    } finally {
      h.platform.settings.set('SAML.sp_entity_id', '', { tenant: 'globex' });
    }
  });

  it('signs in: provisions the user with names and groups, applies the role mapping, and the session works', async () => {
    const started = await startLogin(ACME);
    expect(started.relayState).toBe('/reports?period=day');
    const response = await post(ACME, await respond(started, ACME, alice), started.relayState);
    expect(response.statusCode, response.body).toBe(303);
    expect(response.headers.location).toBe('/reports?period=day');
    const who = await me(ACME, response);
    expect(who.user?.login).toBe('alice@acme.example');
    expect(who.user?.email).toBe('alice@acme.example');
    expect(who.superuser).toBe(false);
    expect(who.sites).toEqual(expect.arrayContaining([expect.objectContaining({ site: siteId, role: 'view' }), expect.objectContaining({ site: 2, role: 'write' })]));
    await h.asOperator('acme', async (ctx) => {
      const db = identityDbFor(ctx.platform, ctx.scope);
      const user = await db.selectFrom('user').selectAll().where('login', '=', 'alice@acme.example').executeTakeFirstOrThrow();
      expect([user.first_name, user.last_name]).toEqual(['Alice', 'Liddell']);
      const identity = await db.selectFrom('sso_identity').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      expect(identity).toMatchObject({ provider: 'saml', subject: `${IDP_ENTITY}|alice@acme.example` });
      const groups = await db.selectFrom('sso_user_group').select('group_name').where('user_id', '=', user.id).orderBy('group_name').execute();
      expect(groups.map((row) => row.group_name)).toEqual(['Analysts', 'Everyone']);
    });

    // The next sign-in with other groups re-applies the mapping: now a super user, the site rights it gave are gone.
    const again = await startLogin(ACME, '/');
    const second = await post(ACME, await respond(again, ACME, { ...alice, groups: ['Admins'] }), again.relayState);
    expect(second.statusCode, second.body).toBe(303);
    const promoted = await me(ACME, second);
    expect(promoted.superuser).toBe(true);
  });

  it('signs in with a signed response wrapping a signed assertion; NameID as email when there is no email attribute', async () => {
    const started = await startLogin(ACME);
    const sp = await serviceProvider(ACME, { wantMessageSigned: true });
    const samlResponse = await respond(started, ACME, { nameId: 'bob@acme.example', groups: [] }, {}, idp, sp);
    const xml = decode(samlResponse);
    // Two signatures: the response's and the assertion's.
    expect(xml.match(/<ds:Signature /g)?.length).toBe(2);
    const response = await post(ACME, samlResponse, started.relayState);
    expect(response.statusCode, response.body).toBe(303);
    expect((await me(ACME, response)).user?.email).toBe('bob@acme.example');
  });

  it('refuses an unsigned assertion, and a signed response around an unsigned assertion', async () => {
    const started = await startLogin(ACME);
    const unsigned = filledTemplate(SamlLib.defaultLoginResponseTemplate.context, ACME, started.requestId, { ...alice, nameId: 'mallory@acme.example', email: 'mallory@acme.example' });
    await expectRefused('acme', ACME, encode(unsigned.context), 401, /not signed by the identity provider/);

    // The IdP signs only the message (an SP that does not want signed assertions): still refused.
    const again = await startLogin(ACME);
    const messageOnly = ServiceProvider({
      entityID: `http://${ACME}/auth/saml/metadata`,
      assertionConsumerService: [{ Binding: binding.post, Location: `http://${ACME}/auth/saml/acs` }],
      wantAssertionsSigned: false,
      wantMessageSigned: true,
    });
    const samlResponse = await respond(again, ACME, { ...alice, nameId: 'mallory@acme.example', email: 'mallory@acme.example' }, {}, idp, messageOnly);
    expect(decode(samlResponse).match(/<ds:Signature /g)?.length).toBe(1);
    await expectRefused('acme', ACME, samlResponse, 401, /not signed by the identity provider/);
  });

  it('refuses an assertion signed by another key', async () => {
    const started = await startLogin(ACME);
    const forged = await respond(started, ACME, { ...alice, nameId: 'mallory@acme.example', email: 'mallory@acme.example', groups: ['Admins'] }, {}, attacker);
    await expectRefused('acme', ACME, forged, 401, /not signed by the identity provider/);
  });

  describe('XML signature wrapping', () => {
    /** A correctly signed response for carol, and its signed assertion. */
    async function signedForCarol(): Promise<{ xml: string; assertion: string }> {
      const started = await startLogin(ACME);
      const xml = decode(await respond(started, ACME, { nameId: 'carol@acme.example', email: 'carol@acme.example', groups: [] }));
      const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)?.[0];
      if (!assertion) throw new Error('no assertion');
      return { xml, assertion };
    }

    /** The attacker's copy: another user, another id, no signature. */
    const evilCopy = (assertion: string, id = '_evil'): string =>
      assertion
        .replace(/ID="[^"]+"/, `ID="${id}"`)
        .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
        .replaceAll('carol@acme.example', 'mallory@acme.example');

    it('refuses a second, unsigned assertion injected next to the signed one', async () => {
      const { xml, assertion } = await signedForCarol();
      await expectRefused('acme', ACME, encode(xml.replace(assertion, evilCopy(assertion) + assertion)), 401, /more than one assertion/);
      const other = await signedForCarol();
      await expectRefused('acme', ACME, encode(other.xml.replace(other.assertion, other.assertion + evilCopy(other.assertion))), 401, /more than one assertion/);
    });

    it('refuses a signed assertion moved under an attacker-controlled element', async () => {
      // The signed assertion hides in Extensions; the assertion read is the attacker's.
      const { xml, assertion } = await signedForCarol();
      const wrapped = xml.replace(assertion, evilCopy(assertion)).replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${assertion}</samlp:Extensions>`);
      await expectRefused('acme', ACME, encode(wrapped), 401, /not signed by the identity provider/);

      // The attacker's assertion carries the original signature, the signed one sits in its Advice.
      const other = await signedForCarol();
      const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(other.assertion)?.[0] ?? '';
      const evil = evilCopy(other.assertion).replace('</saml:Issuer>', `</saml:Issuer>${signature}`).replace('</saml:Conditions>', `</saml:Conditions><saml:Advice>${other.assertion}</saml:Advice>`);
      await expectRefused('acme', ACME, encode(other.xml.replace(other.assertion, evil)), 401, /not signed by the identity provider/);

      // Same, with the attacker's assertion taking the signed one's ID.
      const third = await signedForCarol();
      const thirdId = /ID="([^"]+)"/.exec(third.assertion)?.[1] ?? '';
      const thirdSignature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(third.assertion)?.[0] ?? '';
      const sameId = evilCopy(third.assertion, thirdId).replace('</saml:Issuer>', `</saml:Issuer>${thirdSignature}`).replace('</saml:Conditions>', `</saml:Conditions><saml:Advice>${third.assertion}</saml:Advice>`);
      await expectRefused('acme', ACME, encode(third.xml.replace(third.assertion, sameId)), 401, /not signed by the identity provider/);
      expect(await h.asOperator('acme', (ctx) => identityDbFor(ctx.platform, ctx.scope).selectFrom('user').select('id').where('email', '=', 'mallory@acme.example').execute())).toEqual([]);
    });
  });

  it('refuses an assertion expired beyond the clock skew and accepts one inside it', async () => {
    const now = Date.now();
    const expired = await startLogin(ACME);
    const old = await respond(expired, ACME, { nameId: 'dave@acme.example', email: 'dave@acme.example' }, { notBefore: new Date(now - 900_000), notOnOrAfter: new Date(now - 300_000) });
    await expectRefused('acme', ACME, old, 401, /outside its validity period/);

    const skewed = await startLogin(ACME);
    const late = await respond(skewed, ACME, { nameId: 'dave@acme.example', email: 'dave@acme.example' }, { notBefore: new Date(now - 900_000), notOnOrAfter: new Date(now - 60_000) });
    const response = await post(ACME, late, skewed.relayState);
    expect(response.statusCode, response.body).toBe(303);

    const early = await startLogin(ACME);
    const future = await respond(early, ACME, { nameId: 'dave@acme.example', email: 'dave@acme.example' }, { notBefore: new Date(now + 600_000), notOnOrAfter: new Date(now + 900_000) });
    await expectRefused('acme', ACME, future, 401, /outside its validity period/);
  });

  it('refuses a wrong or missing audience, a wrong recipient and a wrong destination', async () => {
    const person: Person = { nameId: 'erin@acme.example', email: 'erin@acme.example' };
    const audience = await startLogin(ACME);
    await expectRefused('acme', ACME, await respond(audience, ACME, person, { audience: 'https://other-sp.example/metadata' }), 401, /meant for another service provider/);
    const recipient = await startLogin(ACME);
    await expectRefused('acme', ACME, await respond(recipient, ACME, person, { recipient: 'https://other-sp.example/acs' }), 401, /not for this service's ACS/);
    const unbound = await startLogin(ACME);
    await expectRefused('acme', ACME, await respond(unbound, ACME, person, { withoutConditions: true }), 401, /no audience restriction/);
    const destination = await startLogin(ACME);
    await expectRefused('acme', ACME, await respond(destination, ACME, person, { destination: 'https://other-sp.example/acs' }), 401, /addressed to https:\/\/other-sp\.example\/acs/);
  });

  it('refuses a replayed response and a replayed assertion id', async () => {
    const person: Person = { nameId: 'frank@acme.example', email: 'frank@acme.example' };
    const started = await startLogin(ACME);
    const samlResponse = await respond(started, ACME, person, { assertionId: '_frank-assertion' });
    expect((await post(ACME, samlResponse, started.relayState)).statusCode).toBe(303);
    await expectRefused('acme', ACME, samlResponse, 401, /answers no sign-in started here/);
    // A new request answered with an assertion id already used.
    const next = await startLogin(ACME);
    await expectRefused('acme', ACME, await respond(next, ACME, person, { assertionId: '_frank-assertion' }), 401, /already used/);
  });

  it("refuses an assertion the IdP's key signed under another issuer name", async () => {
    const started = await startLogin(ACME);
    const samlResponse = await respond(started, ACME, { nameId: 'oscar@acme.example', email: 'oscar@acme.example' }, { issuer: 'https://other-idp.example/metadata' });
    await expectRefused('acme', ACME, samlResponse, 401, /issued by https:\/\/other-idp\.example\/metadata, not by the configured identity provider/);
  });

  it("passes on the identity provider's own refusal (status other than Success)", async () => {
    const started = await startLogin(ACME);
    const failure = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_f1" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="http://${ACME}/auth/saml/acs" InResponseTo="${started.requestId}"><saml:Issuer>${IDP_ENTITY}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>User cancelled</samlp:StatusMessage></samlp:Status></samlp:Response>`;
    await expectRefused('acme', ACME, encode(failure), 401, /identity provider refused the sign-in: .*User cancelled/);
  });

  it('refuses unknown users when provisioning is off, and deactivated users', async () => {
    h.platform.settings.set('SAML.user_provisioning', '0', { tenant: 'globex' });
    try {
      const started = await startLogin(GLOBEX);
      await expectRefused('globex', GLOBEX, await respond(started, GLOBEX, { nameId: 'nobody@globex.example', email: 'nobody@globex.example' }), 401, /does not create users/);
    } finally {
      h.platform.settings.set('SAML.user_provisioning', '1', { tenant: 'globex' });
    }
    const first = await startLogin(GLOBEX);
    expect((await post(GLOBEX, await respond(first, GLOBEX, { nameId: 'pat@globex.example', email: 'pat@globex.example' }))).statusCode).toBe(303);
    await h.asOperator('globex', (ctx) => identityDbFor(ctx.platform, ctx.scope).updateTable('user').set({ deactivated_at: new Date().toISOString() }).where('login', '=', 'pat@globex.example').execute());
    const again = await startLogin(GLOBEX);
    const refused = await post(GLOBEX, await respond(again, GLOBEX, { nameId: 'pat@globex.example', email: 'pat@globex.example' }));
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('user_deactivated');
  });

  it('refuses unsolicited (IdP-initiated) responses and responses to unknown requests', async () => {
    const started = await startLogin(ACME);
    const person: Person = { nameId: 'grace@acme.example', email: 'grace@acme.example' };
    await expectRefused('acme', ACME, await respond(started, ACME, person, { inResponseTo: null }), 401, /Unsolicited/);
    await expectRefused('acme', ACME, await respond(started, ACME, person, { inResponseTo: '_never-asked' }), 401, /answers no sign-in started here/);
  });

  it("refuses a response for one tenant at another tenant's host, even with the same identity provider", async () => {
    const before = await counts('globex');
    const started = await startLogin(ACME);
    const samlResponse = await respond(started, ACME, { nameId: 'heidi@acme.example', email: 'heidi@acme.example' });
    await expectRefused('globex', GLOBEX, samlResponse, 401, /not to this service's ACS http:\/\/globex\.test/);
    // Built for globex's endpoints, but answering acme's request: globex never asked.
    const redirected = await respond(started, GLOBEX, { nameId: 'heidi@acme.example', email: 'heidi@acme.example' });
    await expectRefused('globex', GLOBEX, redirected, 401, /answers no sign-in started here/);
    expect((await counts('globex')).users).toBe(before.users);
    // acme's request was not spent by globex's refusals.
    expect((await post(ACME, samlResponse, started.relayState)).statusCode).toBe(303);
  });

  it('answers malformed base64 and XML with a clear 400, never a 500', async () => {
    await expectRefused('acme', ACME, 'not base64 at all!', 400, /not base64/);
    await expectRefused('acme', ACME, encode('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><unclosed'), 400, /not well-formed XML/);
    await expectRefused('acme', ACME, encode('just text, no XML'), 400, /not well-formed XML|not a SAML 2.0 Response/);
    await expectRefused('acme', ACME, encode('<html><body>hello</body></html>'), 400, /not a SAML 2.0 Response/);
    await expectRefused('acme', ACME, encode('<!DOCTYPE r [<!ENTITY x "y">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>'), 400, /DOCTYPE/);
    // Signed, solicited, but garbage where the assertion should be.
    const started = await startLogin(ACME);
    const broken = decode(await respond(started, ACME, { nameId: 'ivan@acme.example', email: 'ivan@acme.example' })).replace(/<saml:Conditions[\s\S]*<\/saml:Conditions>/, '');
    const response = await post(ACME, encode(broken));
    expect(response.statusCode).toBe(401);
    const missing = await h.app.inject({ method: 'POST', url: '/auth/saml/acs', headers: { host: ACME, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'RelayState=%2F' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('invalid_input');
  });

  it('refuses an oversized payload', async () => {
    const before = await counts('acme');
    const response = await post(ACME, 'A'.repeat(300 * 1024));
    expect(response.statusCode).toBe(413);
    expect(response.json<{ error: { code: string } }>().error.code).toBe('payload_too_large');
    expect((await counts('acme')).users).toBe(before.users);
  });

  it('is off (sso_not_configured) unless enabled, and says so when the metadata file is missing or broken', async () => {
    for (const request of [
      { method: 'GET' as const, url: '/auth/saml/metadata' },
      { method: 'GET' as const, url: '/auth/saml/login' },
      { method: 'POST' as const, url: '/auth/saml/acs', payload: 'SAMLResponse=AAAA', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    ]) {
      const response = await h.app.inject({ ...request, headers: { host: OFF, ...request.headers } });
      expect(response.statusCode).toBe(404);
      expect(response.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'sso_not_configured', message: expect.stringMatching(/SAML sign-in is not enabled/) });
    }
    h.platform.settings.set('SAML.enabled', '1', { tenant: 'off' });
    try {
      h.platform.settings.set('SAML.idp_metadata_file', 'missing.xml', { tenant: 'off' });
      const missing = await h.app.inject({ method: 'GET', url: '/auth/saml/login', headers: { host: OFF } });
      expect(missing.statusCode).toBe(404);
      expect(missing.json<{ error: { code: string; message: string } }>().error.message).toMatch(/missing\.xml cannot be read/);
      writeMetadata(h.platform.paths.tenantDir('off'), '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor/></EntityDescriptor>');
      h.platform.settings.set('SAML.idp_metadata_file', METADATA_FILE, { tenant: 'off' });
      const broken = await h.app.inject({ method: 'GET', url: '/auth/saml/login', headers: { host: OFF } });
      expect(broken.statusCode).toBe(404);
      expect(broken.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'sso_not_configured', message: expect.stringMatching(/not usable: no EntityDescriptor with an IDPSSODescriptor/) });
    } finally {
      h.platform.settings.set('SAML.enabled', '0', { tenant: 'off' });
      rmSync(join(h.platform.paths.tenantDir('off'), METADATA_FILE), { force: true });
    }
  });

  it('refuses an off-site return_to, and an off-site RelayState falls back to the start page', async () => {
    const offsite = await h.app.inject({ method: 'GET', url: `/auth/saml/login?return_to=${encodeURIComponent('//evil.example/')}`, headers: { host: ACME } });
    expect(offsite.statusCode).toBe(400);
    const started = await startLogin(ACME);
    const response = await post(ACME, await respond(started, ACME, { nameId: 'judy@acme.example', email: 'judy@acme.example' }), 'https://evil.example/');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
  });

  it('signs in on a PostgreSQL tenant, with the role mapping, and refuses the replay there', async () => {
    const started = await startLogin(PG_HOST);
    const samlResponse = await respond(started, PG_HOST, { nameId: 'kim@pg.example', email: 'kim@pg.example', firstName: 'Kim', groups: ['Analysts'] });
    const response = await post(PG_HOST, samlResponse, started.relayState);
    expect(response.statusCode, response.body).toBe(303);
    const who = await me(PG_HOST, response);
    expect(who.user?.login).toBe('kim@pg.example');
    expect(who.sites).toEqual([expect.objectContaining({ site: 1, role: 'view' })]);
    await expectRefused('pgco', PG_HOST, samlResponse, 401, /answers no sign-in started here/);
    const forged = await respond(await startLogin(PG_HOST), PG_HOST, { nameId: 'mallory@pg.example', email: 'mallory@pg.example' }, {}, attacker);
    await expectRefused('pgco', PG_HOST, forged, 401, /not signed by the identity provider/);
  });

  it('signs platform users in on the platform host (metadata from data/config)', async () => {
    const started = await startLogin(PLATFORM);
    const response = await post(PLATFORM, await respond(started, PLATFORM, { nameId: 'ops@platform.example', email: 'ops@platform.example' }), started.relayState);
    expect(response.statusCode, response.body).toBe(303);
    const answer = await h.app.inject({ method: 'GET', url: '/api/v1/me', headers: { host: PLATFORM, cookie: sessionCookieOf(response) } });
    expect(answer.json()).toMatchObject({ kind: 'platform_user', user: { login: 'ops@platform.example' } });
    // The platform's user is not a tenant's.
    expect(await h.asOperator('acme', (ctx) => identityDbFor(ctx.platform, ctx.scope).selectFrom('user').select('id').where('email', '=', 'ops@platform.example').execute())).toEqual([]);
  });

  it('reads entity id, redirect SSO URL and every signing certificate from IdP metadata', async () => {
    const other = await keys('Rollover');
    const xml = `<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <md:EntityDescriptor entityID="https://sp.example/"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>
  <md:EntityDescriptor entityID="https://idp.example/">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${idpKeys.cert.replace(/-----[^-]+-----/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${other.cert.replace(/-----[^-]+-----/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIBroken</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/post"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/redirect"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>
</md:EntitiesDescriptor>`;
    const metadata = await parseIdpMetadata(xml);
    expect(metadata.entityId).toBe('https://idp.example/');
    expect(metadata.ssoUrl).toBe('https://idp.example/redirect');
    expect(metadata.certificates).toHaveLength(2);
    expect(metadata.certificates[0]).toContain('-----BEGIN CERTIFICATE-----');
    await expect(parseIdpMetadata(xml.replace(other.cert.replace(/-----[^-]+-----/g, ''), 'bm90IGEgY2VydA=='))).rejects.toThrow(/not a valid X\.509 certificate/);
  });
});

/**
 * Scheduled email reports against a real SMTP server (smtp-server) started here, with
 * the messages read back by mailparser: schedules and time zones, who may subscribe,
 * the content (equal to the Matomo API's html and csv output for the same call), one
 * send per period across processes, SMTP failures, deactivated users, tenant isolation
 * on a SQLite and a PostgreSQL tenant, REST and CLI.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { openHarness, signInOver, type Harness, type Session } from '../http/test-support/harness.js';
import { freePort } from '../http/test-support/free-port.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { createUser, setUserAccess, setUserActive } from '../access/users.service.js';
import { createSite } from '../sites/sites-access.service.js';
import { openPlatform } from '../platform/platform.js';
import type { AuditTables } from '../audit/audit.tables.js';
import { decideSubscribe, decideSubscriptionRecipients, type Actor } from '../access/policy.js';
import {
  SubscriptionScheduler,
  claimSubscription,
  nextRunAfter,
  sendDueInTenant,
  sendDueOnPlatform,
  zonedHour,
  type Schedule,
  type SubscriptionView,
} from './subscriptions.js';
import type { SubscriptionTable } from './workspace.tables.js';

const ACME = 'acme.test';
const GLOBEX = 'globex.test';
const PLATFORM = 'platform.test';
const DESKTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const DAY = 86_400_000;

interface Received {
  readonly from: string;
  readonly to: string[];
  readonly user: string | undefined;
  readonly mail: ParsedMail;
}

type SubscriptionDb = Kysely<{ subscription: SubscriptionTable }>;

describe('scheduled email reports', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  let smtp: SMTPServer;
  let smtpPort: number;
  let env: Record<string, string>;
  const inbox: Received[] = [];
  /** When set, the SMTP server refuses every message with this answer. */
  let refuse: string | null = null;
  const sessions = new Map<string, Session & { host: string }>();
  let subscribers = 0;
  let reportId = '';

  const call = async (who: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => {
    const session = sessions.get(who);
    if (!session) throw new Error(`no session ${who}`);
    return h.app.inject({ method, url, headers: { host: session.host, cookie: session.cookie, 'x-csrf-token': session.csrf, ...headers }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  };
  const ok = async <T>(response: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const answer = await response;
    expect(answer.statusCode, answer.body).toBe(status);
    return answer.json<T>();
  };
  const refusal = async (response: Promise<LightMyRequestResponse>, status: number): Promise<string> => {
    const answer = await response;
    expect(answer.statusCode, answer.body).toBe(status);
    return answer.json<{ error: { message: string } }>().error.message;
  };
  const tenant = (slug: string) => h.platform.tenants.get(slug);
  const rows = async (slug: string | null): Promise<SubscriptionTable[]> => {
    if (slug === null) return (h.platform.registry.db as unknown as SubscriptionDb).selectFrom('subscription').selectAll().execute();
    return h.asOperator(slug, (ctx) => (ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as SubscriptionDb).selectFrom('subscription').selectAll().execute() : Promise.resolve([])));
  };
  const csvOf = (mail: ParsedMail): string => {
    const attachment = mail.attachments.find((a) => a.contentType.startsWith('text/csv'));
    if (!attachment) throw new Error('no CSV attachment');
    return attachment.content.toString('utf8');
  };
  const mailTo = (address: string): Received[] => inbox.filter((message) => message.to.includes(address));
  const track = async (host: string, path: string, visitor: string, title = `Page ${path}`) => {
    const query = new URLSearchParams({ idsite: '1', rec: '1', url: `https://${host}${path}`, action_name: title, _id: visitor, ua: DESKTOP });
    const response = await h.app.inject({ method: 'GET', url: `/matomo.php?${query.toString()}`, headers: { host } });
    expect(response.statusCode).toBeLessThan(300);
  };
  const matomoApi = async (who: string, query: string): Promise<string> => {
    const response = await call(who, 'GET', `/index.php?module=API&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.body;
  };
  const subscribe = (who: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => ok<SubscriptionView>(call(who, 'POST', '/api/v1/subscriptions', body, headers), 201);

  beforeAll(async () => {
    smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === 'mail-secret') callback(null, { user: 'mailer' });
        else callback(new Error('Invalid username or password'));
      },
      onMailFrom(_address, _session, callback) {
        if (refuse === null) return callback();
        callback(Object.assign(new Error(refuse), { responseCode: 451 }));
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (mail) => {
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            inbox.push({ from, to: session.envelope.rcptTo.map((r) => r.address), user: typeof session.user === 'string' ? session.user : undefined, mail });
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

    pg = await createTestPostgresDatabase('subscr');
    env = {
      PLURA_GENERAL_PLATFORM_HOST: PLATFORM,
      PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix,
      PLURA_MAIL_SMTP_HOST: '127.0.0.1',
      PLURA_MAIL_SMTP_PORT: String(smtpPort),
      PLURA_MAIL_FROM_ADDRESS: 'reports@platform.example',
    };
    // The CLI opens the platform from the environment, as a second process would.
    Object.assign(process.env, env);
    h = await openHarness(env);
    await h.addTenant('acme', [ACME]);
    await h.addTenant('globex', [GLOBEX], pg.url);
    await h.asOperator('acme', (ctx) => createSite(ctx, { name: 'acme-shop', urls: ['https://acme.test'], timezone: 'UTC' }));
    await h.asOperator('globex', (ctx) => createSite(ctx, { name: 'globex-store', urls: ['https://globex.test'], timezone: 'Asia/Tokyo' }));
    // Each tenant sends through its own mail settings (its config.ini over common.ini and the environment).
    h.platform.settings.set('Mail.from_address', 'analytics@acme.example', { tenant: 'acme' });
    h.platform.settings.set('Mail.smtp_user', 'mailer', { tenant: 'globex' });
    h.platform.settings.set('Mail.smtp_password', 'mail-secret', { tenant: 'globex' });
    for (const [slug, host] of [['acme', ACME], ['globex', GLOBEX]] as const) {
      await h.addUser(slug, `${slug}-root`, { superuser: true });
      for (const login of [`${slug}-ann`, `${slug}-bob`]) {
        await h.addUser(slug, login);
        await h.asOperator(slug, (ctx) => setUserAccess(ctx, login, 'view', [1]));
      }
      for (const login of [`${slug}-root`, `${slug}-ann`, `${slug}-bob`]) sessions.set(login, { ...(await signInOver(h.app, host, login)), host });
    }
    const system = { platform: h.platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
    await createUser(system, { login: 'ops', email: 'ops@platform.example', password: 'correct horse battery', superuser: true });
    sessions.set('ops', { ...(await signInOver(h.app, PLATFORM, 'ops')), host: PLATFORM });

    // A tenant group that may subscribe; ann of each tenant and acme's super user are members, bob is not.
    const group = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Subscribers' }), 201);
    subscribers = group.id;
    await ok(call('ops', 'PUT', `/api/v1/groups/${subscribers}/subscriptions`, { allowed: true }));
    for (const [root, member] of [['acme-root', 'acme-ann'], ['acme-root', 'acme-root'], ['globex-root', 'globex-ann']] as const) {
      expect((await call(root, 'PUT', `/api/v1/groups/${subscribers}/members/${member}`)).statusCode).toBe(204);
    }

    // Each tenant's own pages: a report that leaked across tenants would show the other's.
    await track(ACME, '/acme-private-page', 'a000000000000001');
    await track(ACME, '/acme-pricing', 'a000000000000002', 'Acme <b>pricing</b> & "plans"');
    await track(GLOBEX, '/globex-private-page', 'b000000000000001');
    const report = await ok<{ id: string }>(
      call('acme-ann', 'POST', '/api/v1/items', { collectionId: 'tenant', kind: 'saved_report', name: 'Acme pages', definition: { method: 'Actions.getPageTitles', params: { idSite: '1', flat: '1' }, visualization: 'table' } }),
      201,
    );
    reportId = report.id;
  });

  afterEach(async () => {
    refuse = null;
    inbox.length = 0;
    for (const slug of ['acme', 'globex']) {
      await h.asOperator(slug, async (ctx) => {
        if (ctx.scope.kind === 'tenant') await (ctx.scope.store.db as unknown as SubscriptionDb).deleteFrom('subscription').execute();
      });
    }
    await (h.platform.registry.db as unknown as SubscriptionDb).deleteFrom('subscription').execute();
  });

  afterAll(async () => {
    await h?.close();
    await pg?.drop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  it('comes due at the chosen hour of the day, weekday or day of month in the time zone, across daylight saving and the date line', async () => {
    const daily: Schedule = { frequency: 'daily', hour: 7, weekday: null, monthDay: null };
    // New York: 07:00 is 12:00 UTC in winter, 11:00 UTC in summer, and moves with the switch on 8 March 2026.
    expect(new Date(nextRunAfter(daily, Date.parse('2026-01-10T00:00:00Z'), 'America/New_York')).toISOString()).toBe('2026-01-10T12:00:00.000Z');
    expect(new Date(nextRunAfter(daily, Date.parse('2026-07-01T12:00:00Z'), 'America/New_York')).toISOString()).toBe('2026-07-02T11:00:00.000Z');
    expect(new Date(nextRunAfter(daily, Date.parse('2026-03-07T12:30:00Z'), 'America/New_York')).toISOString()).toBe('2026-03-08T11:00:00.000Z');
    // Strictly after: the instant a run is due is not due again.
    const at = nextRunAfter(daily, Date.parse('2026-01-10T00:00:00Z'), 'Asia/Tokyo');
    expect(new Date(at).toISOString()).toBe('2026-01-10T22:00:00.000Z');
    expect(nextRunAfter(daily, at, 'Asia/Tokyo') - at).toBe(DAY);
    // Weekly on Monday 06:00 at UTC+14 is Sunday 16:00 UTC; weekly on Sunday 23:00 in Tokyo is Sunday 14:00 UTC.
    expect(new Date(nextRunAfter({ frequency: 'weekly', hour: 6, weekday: 1, monthDay: null }, Date.parse('2026-11-22T00:00:00Z'), 'Pacific/Kiritimati')).toISOString()).toBe('2026-11-22T16:00:00.000Z');
    expect(new Date(nextRunAfter({ frequency: 'weekly', hour: 23, weekday: 7, monthDay: null }, Date.parse('2026-11-24T00:00:00Z'), 'Asia/Tokyo')).toISOString()).toBe('2026-11-29T14:00:00.000Z');
    // Monthly on the 31st sends on a shorter month's last day; midnight in Berlin is 23:00 UTC the day before.
    const monthly: Schedule = { frequency: 'monthly', hour: 0, weekday: null, monthDay: 31 };
    expect(new Date(nextRunAfter(monthly, Date.parse('2026-02-01T00:00:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-02-27T23:00:00.000Z');
    expect(new Date(nextRunAfter(monthly, Date.parse('2026-02-28T00:00:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-03-30T22:00:00.000Z');
    // An hour skipped by daylight saving (02:00 on 29 March in Berlin) falls on the next one.
    expect(new Date(zonedHour('Europe/Berlin', '2026-03-29', 2)).toISOString()).toBe('2026-03-29T01:00:00.000Z');

    // The service follows the site's time zone (globex's site is in Tokyo), else the tenant's.
    const created = await subscribe('globex-ann', { itemId: await globexReport(), frequency: 'weekly', weekday: 3, hour: 8, idSite: '1' });
    expect(created).toMatchObject({ timezone: 'Asia/Tokyo', frequency: 'weekly', weekday: 3, hour: 8, period: 'week', date: 'yesterday', format: 'html_csv', enabled: true });
    expect(created.nextRunAt).toBe(new Date(nextRunAfter({ frequency: 'weekly', hour: 8, weekday: 3, monthDay: null }, Date.parse(created.createdAt), 'Asia/Tokyo')).toISOString());
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(created.nextRunAt))).toBe('Wed 08:00');
    const patched = await ok<SubscriptionView>(call('globex-ann', 'PATCH', `/api/v1/subscriptions/${created.id}`, { frequency: 'monthly', monthDay: 31, hour: 0 }));
    expect(patched).toMatchObject({ frequency: 'monthly', monthDay: 31, weekday: null, period: 'month' });
    expect(patched.nextRunAt).toBe(new Date(nextRunAfter({ frequency: 'monthly', hour: 0, weekday: null, monthDay: 31 }, Date.parse(patched.updatedAt), 'Asia/Tokyo')).toISOString());
    // A site the subscriber cannot see does not lend its time zone (nor reveal it): the tenant's applies.
    await h.asOperator('globex', (ctx) => createSite(ctx, { name: 'hidden', urls: ['https://hidden.globex.test'], timezone: 'Pacific/Kiritimati' }));
    const hidden = await subscribe('globex-ann', { itemId: await globexReport(), idSite: '2' });
    expect(hidden.timezone).toBe('UTC');
  });

  it('policy: one allowing group is enough; other recipients only for super users and platform admins', () => {
    const ann: Actor = { kind: 'tenant_user', tenant: 'acme', userId: 2, login: 'ann', superuser: false, sites: new Map() };
    const root: Actor = { ...ann, login: 'root', superuser: true };
    const ops: Actor = { kind: 'platform_user', userId: 1, login: 'ops', platformAdmin: true, actingIn: null };
    const analyst: Actor = { ...ops, login: 'analyst', platformAdmin: false };
    expect(decideSubscribe(ann, { groups: [{ name: 'All tenant users', canSubscribe: false }] })).toMatchObject({ allowed: false, reason: 'none of the groups of ann allows email subscriptions' });
    expect(decideSubscribe(ann, { groups: [{ name: 'All tenant users', canSubscribe: false }, { name: 'Subscribers', canSubscribe: true }] })).toMatchObject({ allowed: true, reason: 'group "Subscribers" allows email subscriptions' });
    expect(decideSubscribe(root, { groups: [] }).allowed).toBe(false);
    expect(decideSubscribe({ kind: 'anonymous', tenant: 'acme', sites: new Map() }, { groups: [{ name: 'x', canSubscribe: true }] }).allowed).toBe(false);
    expect(decideSubscribe({ kind: 'system', name: 'cli' }, { groups: [] }).allowed).toBe(true);
    expect(decideSubscriptionRecipients(ann, 'Ann@acme.example', ['ann@ACME.example']).allowed).toBe(true);
    expect(decideSubscriptionRecipients(ann, 'ann@acme.example', ['ann@acme.example', 'boss@acme.example']).allowed).toBe(false);
    expect(decideSubscriptionRecipients(root, 'root@acme.example', ['boss@acme.example']).allowed).toBe(true);
    expect(decideSubscriptionRecipients(ops, 'ops@platform.example', ['board@platform.example']).allowed).toBe(true);
    expect(decideSubscriptionRecipients(analyst, 'analyst@platform.example', ['board@platform.example']).allowed).toBe(false);
  });

  it('who may subscribe: a group permission (off by default for tenant groups), set by platform admins only; only items the user can view', async () => {
    const groups = await ok<{ groups: { id: number; name: string }[] }>(call('ops', 'GET', '/api/v1/groups'));
    const allTenant = groups.groups.find((group) => group.name === 'All tenant users');
    const allInternal = groups.groups.find((group) => group.name === 'All internal users');
    expect(await ok(call('ops', 'GET', `/api/v1/groups/${allTenant?.id ?? 0}/subscriptions`))).toMatchObject({ name: 'All tenant users', canSubscribe: false });
    expect(await ok(call('ops', 'GET', `/api/v1/groups/${allInternal?.id ?? 0}/subscriptions`))).toMatchObject({ name: 'All internal users', canSubscribe: true });
    const fresh = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Readers' }), 201);
    expect(await ok(call('ops', 'GET', `/api/v1/groups/${fresh.id}/subscriptions`))).toMatchObject({ canSubscribe: false });

    // bob is in no group that allows it, so he is refused, whatever he can view.
    const message = await refusal(call('acme-bob', 'POST', '/api/v1/subscriptions', { itemId: reportId }), 403);
    expect(message).toContain('none of the groups of acme-bob allows email subscriptions');
    // Only platform admins, on the platform host, change the permission.
    expect((await call('acme-root', 'PUT', `/api/v1/groups/${fresh.id}/subscriptions`, { allowed: true })).statusCode).toBe(403);
    expect((await call('acme-root', 'GET', `/api/v1/groups/${fresh.id}/subscriptions`)).statusCode).toBe(403);
    expect((await h.app.inject({ method: 'PUT', url: `/api/v1/groups/${fresh.id}/subscriptions`, headers: { host: PLATFORM }, payload: { allowed: true } })).statusCode).toBe(401);
    expect((await call('ops', 'PUT', '/api/v1/groups/999999/subscriptions', { allowed: true })).statusCode).toBe(404);
    // Not while acting inside a tenant either: groups belong to the platform.
    expect((await call('ops', 'PUT', `/api/v1/groups/${fresh.id}/subscriptions`, { allowed: true }, { 'x-plura-tenant': 'acme' })).statusCode).toBe(403);
    expect((await call('ops', 'PUT', `/api/v1/groups/${fresh.id}/subscriptions`, { allowed: 'yes' })).statusCode).toBe(400);
    await ok(call('ops', 'PUT', `/api/v1/groups/${fresh.id}/subscriptions`, { allowed: true }));
    expect((await call('acme-root', 'PUT', `/api/v1/groups/${fresh.id}/members/acme-bob`)).statusCode).toBe(204);
    const bobs = await subscribe('acme-bob', { itemId: reportId });
    expect(bobs.recipients).toEqual(['acme-bob@acme.example']);
    const audit = await (h.platform.registry.db as unknown as Kysely<AuditTables>).selectFrom('audit_entry').select(['action', 'actor', 'after_json']).where('action', '=', 'group.subscriptions_changed').execute();
    expect(audit.some((entry) => entry.actor === 'platform:ops' && entry.after_json?.includes('"Readers"'))).toBe(true);

    // Only what the user can view: another user's personal item, another tenant's item and an unknown id are all "not found".
    const personal = await ok<{ collections: { id: string; kind: string }[] }>(call('acme-root', 'GET', '/api/v1/collections'));
    const rootPersonal = personal.collections.find((collection) => collection.kind === 'personal');
    const secret = await ok<{ id: string }>(
      call('acme-root', 'POST', '/api/v1/items', { collectionId: rootPersonal?.id, kind: 'saved_report', name: 'Mine', definition: { method: 'VisitsSummary.get', params: { idSite: '1' }, visualization: 'table' } }),
      201,
    );
    expect((await call('acme-ann', 'POST', '/api/v1/subscriptions', { itemId: secret.id })).statusCode).toBe(404);
    expect((await call('globex-ann', 'POST', '/api/v1/subscriptions', { itemId: reportId })).statusCode).toBe(404);
    expect((await call('acme-ann', 'POST', '/api/v1/subscriptions', { itemId: 'no-such-item' })).statusCode).toBe(404);
    // Anonymous callers are asked to sign in.
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/subscriptions', headers: { host: ACME } })).statusCode).toBe(401);
    await ok(call('ops', 'PUT', `/api/v1/groups/${fresh.id}/subscriptions`, { allowed: false }));
  });

  it('recipients: the own address by default, other addresses only for super users, validated, at most 20; bad schedules refused', async () => {
    const own = await subscribe('acme-ann', { itemId: reportId });
    expect(own.recipients).toEqual(['acme-ann@acme.example']);
    expect(await refusal(call('acme-ann', 'POST', '/api/v1/subscriptions', { itemId: reportId, recipients: ['boss@elsewhere.example'] }), 403)).toContain('only super users may mail reports to other addresses');
    expect(await refusal(call('acme-ann', 'POST', '/api/v1/subscriptions', { itemId: reportId, recipients: ['a@acme.example, b@evil.example'] }), 400)).toContain('is not an email address');
    expect(await refusal(call('acme-root', 'POST', '/api/v1/subscriptions', { itemId: reportId, recipients: ['not an address'] }), 400)).toContain('is not an email address');
    expect(await refusal(call('acme-root', 'POST', '/api/v1/subscriptions', { itemId: reportId, recipients: ['x@acme.example\r\nBcc: y@evil.example'] }), 400)).toContain('is not an email address');
    const many = Array.from({ length: 21 }, (_, i) => `person${i}@acme.example`);
    expect((await call('acme-root', 'POST', '/api/v1/subscriptions', { itemId: reportId, recipients: many })).statusCode).toBe(400);
    const team = await subscribe('acme-root', { itemId: reportId, recipients: ['CFO@acme.example', 'cfo@acme.example', 'acme-root@acme.example', ...many.slice(0, 17)] });
    expect(team.recipients).toHaveLength(19);
    // Changing recipients later is checked the same way.
    expect((await call('acme-ann', 'PATCH', `/api/v1/subscriptions/${own.id}`, { recipients: ['friend@gmail.example'] })).statusCode).toBe(403);

    for (const body of [
      { frequency: 'hourly' },
      { hour: 24 },
      { frequency: 'weekly', weekday: 0 },
      { frequency: 'monthly', monthDay: 32 },
      { period: 'decade' },
      { date: 'someday' },
      { idSite: '1; drop table' },
      { format: 'pdf' },
    ]) {
      const response = await call('acme-ann', 'POST', '/api/v1/subscriptions', { itemId: reportId, ...body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await rows('acme')).toHaveLength(2);
  });

  it('send now: the HTML tables and the CSV attachment equal the Matomo API output for the same call, run as the subscriber, with its tenant mail settings', async () => {
    const subscription = await subscribe('acme-ann', { itemId: reportId, period: 'day', date: 'today' });
    const sent = await ok<{ sent: boolean; recipients: string[] }>(call('acme-ann', 'POST', `/api/v1/subscriptions/${subscription.id}/send`));
    expect(sent).toMatchObject({ sent: true, recipients: ['acme-ann@acme.example'] });
    expect(inbox).toHaveLength(1);
    const [message] = inbox;
    if (!message) throw new Error('no mail');
    expect(message.to).toEqual(['acme-ann@acme.example']);
    expect(message.from).toBe('analytics@acme.example');
    expect(message.mail.subject).toContain('Acme pages');

    const query = 'method=Actions.getPageTitles&idSite=1&period=day&date=today&flat=1';
    const apiCsv = await matomoApi('acme-ann', `${query}&format=csv&convertToUnicode=0`);
    const apiHtml = await matomoApi('acme-ann', `${query}&format=html`);
    expect(apiCsv).toContain('acme-private-page');
    expect(csvOf(message.mail)).toBe(apiCsv);
    expect(message.mail.attachments[0]?.filename).toBe('Acme-pages.csv');
    const html = typeof message.mail.html === 'string' ? message.mail.html : '';
    expect(html).toContain(apiHtml);
    // Tracked text is escaped, never markup; and nothing of the other tenant is in it.
    expect(html).toContain('Acme &lt;b&gt;pricing&lt;/b&gt; &amp; &quot;plans&quot;');
    expect(html).not.toContain('<b>pricing');
    expect(html).not.toContain('globex');
    expect(message.mail.text).toContain('Acme pages');

    const [row] = await rows('acme');
    expect(row?.last_sent_at).not.toBeNull();
    expect(row?.last_error).toBeNull();
    expect(row?.next_run_at).toBe(subscription.nextRunAt);
    const audit = await h.asOperator('acme', (ctx) =>
      ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as Kysely<AuditTables>).selectFrom('audit_entry').select(['action', 'actor']).where('action', 'like', 'subscription.%').orderBy('id').execute() : Promise.resolve([]),
    );
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual(
      expect.arrayContaining([
        ['subscription.created', 'acme-ann'],
        ['subscription.sent', 'subscriptions'],
      ]),
    );

    // html only: no attachment; csv only: the same CSV, no table in the body.
    await ok(call('acme-ann', 'PATCH', `/api/v1/subscriptions/${subscription.id}`, { format: 'html' }));
    await ok(call('acme-ann', 'POST', `/api/v1/subscriptions/${subscription.id}/send`));
    expect(inbox[1]?.mail.attachments).toHaveLength(0);
    await ok(call('acme-ann', 'PATCH', `/api/v1/subscriptions/${subscription.id}`, { format: 'csv' }));
    await ok(call('acme-ann', 'POST', `/api/v1/subscriptions/${subscription.id}/send`));
    expect(csvOf(inbox[2]?.mail ?? message.mail)).toBe(apiCsv);
    expect(String(inbox[2]?.mail.html)).not.toContain('<table>');
  });

  it("the subscriber's row-level data policy applies to what is mailed, exactly as to its Matomo API calls", async () => {
    const scoped = await ok<{ id: number }>(call('ops', 'POST', '/api/v1/groups', { kind: 'tenant', name: 'Private pages only' }), 201);
    await ok(call('ops', 'PUT', `/api/v1/groups/${scoped.id}/policy`, { template: 'pageUrl=@private' }));
    expect((await call('acme-root', 'PUT', `/api/v1/groups/${scoped.id}/members/acme-ann`)).statusCode).toBe(204);
    try {
      const annSub = await subscribe('acme-ann', { itemId: reportId, period: 'day', date: 'today' });
      const rootSub = await subscribe('acme-root', { itemId: reportId, period: 'day', date: 'today' });
      await ok(call('acme-ann', 'POST', `/api/v1/subscriptions/${annSub.id}/send`));
      await ok(call('acme-root', 'POST', `/api/v1/subscriptions/${rootSub.id}/send`));
      const query = 'method=Actions.getPageTitles&idSite=1&period=day&date=today&flat=1&format=csv&convertToUnicode=0';
      const [annMail] = mailTo('acme-ann@acme.example');
      const [rootMail] = mailTo('acme-root@acme.example');
      if (!annMail || !rootMail) throw new Error('missing mail');
      expect(csvOf(annMail.mail)).toBe(await matomoApi('acme-ann', query));
      expect(csvOf(annMail.mail)).toContain('acme-private-page');
      expect(csvOf(annMail.mail)).not.toContain('pricing');
      expect(String(annMail.mail.html)).not.toContain('pricing');
      // The super user is in no group with a policy: it sees every row.
      expect(csvOf(rootMail.mail)).toBe(await matomoApi('acme-root', query));
      expect(csvOf(rootMail.mail)).toContain('pricing');
    } finally {
      expect((await call('acme-root', 'DELETE', `/api/v1/groups/${scoped.id}/members/acme-ann`)).statusCode).toBe(204);
    }
  });

  it("a shared dashboard: each tenant's subscriber gets its own tenant's data only, on a SQLite and a PostgreSQL tenant", async () => {
    const groups = await ok<{ groups: { id: number; name: string }[] }>(call('ops', 'GET', '/api/v1/groups'));
    const allTenant = groups.groups.find((group) => group.name === 'All tenant users');
    await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant?.id, level: 'view' }));
    const board = await ok<{ id: string }>(
      call('ops', 'POST', '/api/v1/items', {
        collectionId: 'shared',
        kind: 'dashboard',
        name: 'Pages overview',
        definition: {
          widgets: [
            { id: 'pages', title: 'Pages', report: { method: 'Actions.getPageUrls', params: { idSite: '1', flat: '1' }, visualization: 'table' }, x: 0, y: 0, w: 6, h: 4 },
            { id: 'site', title: 'Site', report: { method: 'SitesManager.getSiteFromId', params: { idSite: '1' }, visualization: 'number' }, x: 6, y: 0, w: 6, h: 4 },
          ],
        },
      }),
      201,
    );
    const acmeSub = await subscribe('acme-ann', { itemId: board.id, period: 'day', date: 'today' });
    const globexSub = await subscribe('globex-ann', { itemId: board.id, period: 'day', date: 'today', idSite: '1' });
    const later = Date.now() + 3 * DAY;
    expect(await sendDueInTenant(h.platform, await tenant('acme'), { nowMs: later })).toMatchObject({ unit: 'acme', sent: 1, failed: 0 });
    expect(await sendDueInTenant(h.platform, await tenant('globex'), { nowMs: later })).toMatchObject({ unit: 'globex', sent: 1, failed: 0 });

    const [acmeMail] = mailTo('acme-ann@acme.example');
    const [globexMail] = mailTo('globex-ann@globex.example');
    if (!acmeMail || !globexMail) throw new Error('missing mail');
    const acmeHtml = String(acmeMail.mail.html);
    const globexHtml = String(globexMail.mail.html);
    expect(acmeHtml).toContain('acme-private-page');
    expect(acmeHtml).toContain('acme-shop');
    expect(acmeHtml).not.toMatch(/globex/);
    expect(globexHtml).toContain('globex-private-page');
    expect(globexHtml).toContain('globex-store');
    expect(globexHtml).not.toMatch(/acme/);
    // Each widget is one table and one CSV, equal to the API's answer for the subscriber.
    expect(globexMail.mail.attachments.map((a) => a.filename)).toEqual(['Pages-overview-Pages.csv', 'Pages-overview-Site.csv']);
    expect(globexMail.mail.attachments[0]?.content.toString('utf8')).toBe(await matomoApi('globex-ann', 'method=Actions.getPageUrls&idSite=1&period=day&date=today&flat=1&format=csv&convertToUnicode=0'));
    // globex sends through its own SMTP account; acme without one.
    expect(globexMail.user).toBe('mailer');
    expect(acmeMail.user).toBeUndefined();
    expect(globexMail.from).toBe('reports@platform.example');

    const [acmeRow] = await rows('acme');
    const [globexRow] = await rows('globex');
    expect(acmeRow?.next_run_at).toBe(new Date(nextRunAfter({ frequency: 'daily', hour: acmeSub.hour, weekday: null, monthDay: null }, later, 'UTC')).toISOString());
    expect(globexRow?.next_run_at).toBe(new Date(nextRunAfter({ frequency: 'daily', hour: globexSub.hour, weekday: null, monthDay: null }, later, 'Asia/Tokyo')).toISOString());
    // Ids mean nothing in another tenant.
    expect((await call('globex-root', 'GET', `/api/v1/subscriptions/${acmeSub.id}`)).statusCode).toBe(404);
    expect((await call('acme-root', 'POST', `/api/v1/subscriptions/${globexSub.id}/send`)).statusCode).toBe(404);

    // The subscriber loses sight of the dashboard: nothing is sent, the reason is recorded, the next period is tried again.
    await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant?.id, level: 'none' }));
    try {
      const result = await sendDueInTenant(h.platform, await tenant('globex'), { nowMs: later + DAY });
      expect(result).toMatchObject({ sent: 0, failed: 1 });
      expect(result.failures[0]?.error).toContain('There is no dashboard or saved report');
      const [lost] = await rows('globex');
      expect(lost?.last_error).toContain('There is no dashboard or saved report');
      expect(Date.parse(lost?.next_run_at ?? '')).toBeGreaterThan(later + DAY);
    } finally {
      await ok(call('ops', 'PUT', '/api/v1/collections/shared/permissions', { groupId: allTenant?.id, level: 'view' }));
    }
    expect(inbox).toHaveLength(2);
  });

  it('the claim: two processes running due subscriptions at once send each period once; a restart does not send it again', async () => {
    const acmeSub = await subscribe('acme-ann', { itemId: reportId, period: 'day', date: 'today' });
    const globexSub = await subscribe('globex-ann', { itemId: await globexReport(), period: 'day', date: 'today' });
    const second = await openPlatform({ dataDir: h.dataDir, env });
    try {
      const nowMs = Date.now() + 2 * DAY;
      for (const slug of ['acme', 'globex']) {
        const [a, b] = await Promise.all([sendDueInTenant(h.platform, await tenant(slug), { nowMs }), sendDueInTenant(second, await second.tenants.get(slug), { nowMs })]);
        expect((a?.sent ?? 0) + (b?.sent ?? 0), slug).toBe(1);
        // The loser either lost the claim or found the row already moved on.
        expect((a?.skipped ?? 0) + (b?.skipped ?? 0)).toBeLessThanOrEqual(1);
        expect((a?.failed ?? 0) + (b?.failed ?? 0)).toBe(0);
      }
      expect(mailTo('acme-ann@acme.example')).toHaveLength(1);
      expect(mailTo('globex-ann@globex.example')).toHaveLength(1);
      // A restart (a new process, a new scheduler) at the same moment finds nothing due.
      const restarted = new SubscriptionScheduler(second);
      await restarted.tick(nowMs);
      await restarted.idle();
      expect(inbox).toHaveLength(2);
      // The next period is sent again, once.
      await Promise.all([sendDueInTenant(h.platform, await tenant('acme'), { nowMs: nowMs + DAY }), sendDueInTenant(second, await second.tenants.get('acme'), { nowMs: nowMs + DAY })]);
      expect(mailTo('acme-ann@acme.example')).toHaveLength(2);
    } finally {
      await second.close();
    }
    // The claim itself: of two runs that saw the same due row, exactly one moves it on.
    for (const [slug, id] of [['acme', acmeSub.id], ['globex', globexSub.id]] as const) {
      const claims = await h.asOperator(slug, async (ctx) => {
        if (ctx.scope.kind !== 'tenant') return [];
        const db = ctx.scope.store.db as unknown as Parameters<typeof claimSubscription>[0];
        const seen = await db.selectFrom('subscription').select(['id', 'next_run_at']).where('id', '=', id).executeTakeFirstOrThrow();
        const next = new Date(Date.parse(seen.next_run_at) + DAY).toISOString();
        return Promise.all([claimSubscription(db, seen, next, 'UTC'), claimSubscription(db, seen, next, 'UTC')]);
      });
      expect(claims.filter(Boolean), slug).toHaveLength(1);
    }
  });

  it('a failing SMTP server: last_error is recorded, the run is retried next time, and the scheduler carries on with the other tenants', async () => {
    const acmeSub = await subscribe('acme-ann', { itemId: reportId, period: 'day', date: 'today' });
    await subscribe('globex-ann', { itemId: await globexReport(), period: 'day', date: 'today' });
    const nowMs = Date.now() + 2 * DAY;
    // acme's mail goes to a port where nothing listens; the SMTP server refuses globex's at first too.
    h.platform.settings.set('Mail.smtp_port', String(await freePort()), { tenant: 'acme' });
    refuse = 'Mailbox temporarily unavailable';
    const scheduler = new SubscriptionScheduler(h.platform, { log: () => undefined });
    await scheduler.tick(nowMs);
    await scheduler.idle();
    expect(inbox).toHaveLength(0);
    const [acmeRow] = await rows('acme');
    const [globexRow] = await rows('globex');
    expect(acmeRow?.last_error).toMatch(/Sending mail through 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    expect(globexRow?.last_error).toContain('Mailbox temporarily unavailable');
    // Due again on the next run, not next period.
    expect(acmeRow?.next_run_at).toBe(new Date(nowMs).toISOString());
    const listed = await ok<{ subscriptions: SubscriptionView[] }>(call('acme-ann', 'GET', '/api/v1/subscriptions'));
    expect(listed.subscriptions[0]?.lastError).toContain('ECONNREFUSED');
    const now = await call('acme-ann', 'POST', `/api/v1/subscriptions/${acmeSub.id}/send`);
    expect(now.statusCode).toBe(502);
    expect(now.json()).toMatchObject({ error: { code: 'mail_failed' } });
    // A lasting outage is audited once, not on every retry.
    await scheduler.tick(nowMs + 60_000);
    await scheduler.idle();
    const failures = await h.asOperator('acme', (ctx) => (ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as Kysely<AuditTables>).selectFrom('audit_entry').select('action').where('action', '=', 'subscription.failed').execute() : Promise.resolve([])));
    expect(failures).toHaveLength(1);

    // The servers are back: the next run sends, clears the error and moves on to the next period.
    h.platform.settings.unset('Mail.smtp_port', { tenant: 'acme' });
    refuse = null;
    await scheduler.tick(nowMs + 120_000);
    await scheduler.idle();
    expect(mailTo('acme-ann@acme.example')).toHaveLength(1);
    expect(mailTo('globex-ann@globex.example')).toHaveLength(1);
    const [recovered] = await rows('acme');
    expect(recovered?.last_error).toBeNull();
    expect(Date.parse(recovered?.next_run_at ?? '')).toBeGreaterThan(nowMs + 120_000);

    // Mail not configured at all for a tenant: recorded, never thrown.
    h.platform.settings.set('Mail.smtp_host', '', { tenant: 'acme' });
    try {
      const result = await sendDueInTenant(h.platform, await tenant('acme'), { nowMs: nowMs + 3 * DAY });
      expect(result).toMatchObject({ sent: 0, failed: 1 });
      expect(result.failures[0]?.error).toContain('Mail is not configured');
    } finally {
      h.platform.settings.unset('Mail.smtp_host', { tenant: 'acme' });
    }
  });

  it('deactivated subscribers get nothing; a revoked group permission or a demoted super user stops the sending, recorded', async () => {
    await subscribe('acme-ann', { itemId: reportId, period: 'day', date: 'today' });
    const rootSub = await subscribe('acme-root', { itemId: reportId, period: 'day', date: 'today', recipients: ['acme-root@acme.example', 'board@acme.example'] });
    let nowMs = Date.now() + 2 * DAY;
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'acme-ann', false));
    expect(await sendDueInTenant(h.platform, await tenant('acme'), { nowMs })).toMatchObject({ sent: 1, failed: 0 });
    expect(mailTo('acme-ann@acme.example')).toHaveLength(0);
    expect(mailTo('board@acme.example')).toHaveLength(1);
    // Reactivated: the pending run goes out at the next run.
    await h.asOperator('acme', (ctx) => setUserActive(ctx, 'acme-ann', true));
    sessions.set('acme-ann', { ...(await signInOver(h.app, ACME, 'acme-ann')), host: ACME });
    expect(await sendDueInTenant(h.platform, await tenant('acme'), { nowMs })).toMatchObject({ sent: 1 });
    expect(mailTo('acme-ann@acme.example')).toHaveLength(1);

    // The super user is demoted: other recipients are no longer allowed, so nothing goes out.
    await h.asOperator('acme', async (ctx) => {
      if (ctx.scope.kind === 'tenant') await ctx.scope.store.db.updateTable('user').set({ superuser: 0 }).where('login', '=', 'acme-root').execute();
    });
    nowMs += DAY;
    try {
      const result = await sendDueInTenant(h.platform, await tenant('acme'), { nowMs });
      expect(result.failures.find((failure) => failure.id === rootSub.id)?.error).toContain('only super users may mail reports to other addresses');
      expect(mailTo('board@acme.example')).toHaveLength(1);
    } finally {
      await h.asOperator('acme', async (ctx) => {
        if (ctx.scope.kind === 'tenant') await ctx.scope.store.db.updateTable('user').set({ superuser: 1 }).where('login', '=', 'acme-root').execute();
      });
    }

    // The group no longer allows subscriptions: recorded, not sent, not retried every run.
    await ok(call('ops', 'PUT', `/api/v1/groups/${subscribers}/subscriptions`, { allowed: false }));
    try {
      nowMs += DAY;
      const result = await sendDueInTenant(h.platform, await tenant('acme'), { nowMs });
      expect(result).toMatchObject({ sent: 0, failed: 2 });
      expect(result.failures[0]?.error).toContain('You may not subscribe to email reports');
      expect(await sendDueInTenant(h.platform, await tenant('acme'), { nowMs: nowMs + 60_000 })).toMatchObject({ sent: 0, failed: 0 });
    } finally {
      await ok(call('ops', 'PUT', `/api/v1/groups/${subscribers}/subscriptions`, { allowed: true }));
    }
    // ann's own subscription went out each day meanwhile; root's (to the board) only while root was a super user.
    expect(mailTo('acme-ann@acme.example')).toHaveLength(2);
    expect(inbox).toHaveLength(3);
  });

  it("owners only: another user's or tenant's subscription answers 404; list, patch, delete and re-enable work and are audited", async () => {
    const mine = await subscribe('acme-ann', { itemId: reportId, hour: 9 });
    for (const who of ['acme-root', 'globex-root', 'globex-ann']) {
      expect((await call(who, 'GET', `/api/v1/subscriptions/${mine.id}`)).statusCode, who).toBe(404);
      expect((await call(who, 'PATCH', `/api/v1/subscriptions/${mine.id}`, { hour: 3 })).statusCode, who).toBe(404);
      expect((await call(who, 'DELETE', `/api/v1/subscriptions/${mine.id}`)).statusCode, who).toBe(404);
      expect((await call(who, 'POST', `/api/v1/subscriptions/${mine.id}/send`)).statusCode, who).toBe(404);
      const listed = await ok<{ subscriptions: unknown[] }>(call(who, 'GET', '/api/v1/subscriptions'));
      expect(listed.subscriptions).toEqual([]);
    }
    expect(await ok<{ subscriptions: SubscriptionView[] }>(call('acme-ann', 'GET', '/api/v1/subscriptions'))).toMatchObject({ subscriptions: [{ id: mine.id, hour: 9 }] });
    const disabled = await ok<SubscriptionView>(call('acme-ann', 'PATCH', `/api/v1/subscriptions/${mine.id}`, { enabled: false }));
    expect(disabled.enabled).toBe(false);
    expect(await sendDueInTenant(h.platform, await tenant('acme'), { nowMs: Date.now() + 5 * DAY })).toMatchObject({ sent: 0, failed: 0 });
    // Re-enabled after days: the next run is computed from now, no stale send at once.
    const enabled = await ok<SubscriptionView>(call('acme-ann', 'PATCH', `/api/v1/subscriptions/${mine.id}`, { enabled: true }));
    expect(Date.parse(enabled.nextRunAt)).toBeGreaterThan(Date.now());
    expect((await call('acme-ann', 'PATCH', `/api/v1/subscriptions/${mine.id}`, { hour: 'nine' })).statusCode).toBe(400);
    expect((await call('acme-ann', 'DELETE', `/api/v1/subscriptions/${mine.id}`)).statusCode).toBe(204);
    expect((await call('acme-ann', 'GET', `/api/v1/subscriptions/${mine.id}`)).statusCode).toBe(404);
    const audit = await h.asOperator('acme', (ctx) =>
      ctx.scope.kind === 'tenant' ? (ctx.scope.store.db as unknown as Kysely<AuditTables>).selectFrom('audit_entry').select('action').where('actor', '=', 'acme-ann').where('action', 'like', 'subscription.%').orderBy('id').execute() : Promise.resolve([]),
    );
    expect(audit.map((entry) => entry.action).slice(-4)).toEqual(['subscription.created', 'subscription.updated', 'subscription.updated', 'subscription.deleted']);
  });

  it("platform users: their subscriptions live in the registry; a platform admin acting in a tenant gets that tenant's data, through the platform's mail settings", async () => {
    const acting = { 'x-plura-tenant': 'globex' };
    const sub = await subscribe('ops', { itemId: await globexReport(), period: 'day', date: 'today' }, acting);
    expect(sub.timezone).toBe('Asia/Tokyo');
    expect(await rows('globex')).toHaveLength(0);
    expect(await rows(null)).toMatchObject([{ id: sub.id, acting_tenant: 'globex' }]);
    // Listed where it was made: acting in globex, not on the platform itself nor acting in acme.
    expect((await ok<{ subscriptions: unknown[] }>(call('ops', 'GET', '/api/v1/subscriptions', undefined, acting))).subscriptions).toHaveLength(1);
    expect((await ok<{ subscriptions: unknown[] }>(call('ops', 'GET', '/api/v1/subscriptions'))).subscriptions).toHaveLength(0);
    expect((await call('ops', 'GET', `/api/v1/subscriptions/${sub.id}`, undefined, { 'x-plura-tenant': 'acme' })).statusCode).toBe(404);
    expect(await sendDueOnPlatform(h.platform, { nowMs: Date.now() + 2 * DAY })).toMatchObject({ unit: '(platform)', sent: 1, failed: 0 });
    const [mail] = mailTo('ops@platform.example');
    expect(mail?.from).toBe('reports@platform.example');
    expect(mail?.user).toBeUndefined();
    expect(String(mail?.mail.html)).toContain('globex-private-page');
    expect(String(mail?.mail.html)).not.toContain('acme');
    // While the tenant is deactivated nothing is sent: the period is skipped and the reason recorded.
    await h.platform.tenants.setStatus('globex', 'deactivated');
    try {
      expect(await sendDueOnPlatform(h.platform, { nowMs: Date.now() + 4 * DAY })).toMatchObject({ sent: 0, failed: 0, skipped: 1 });
      const [row] = await rows(null);
      expect(row?.last_error).toContain('Not sent: the tenant "globex" is deactivated.');
      expect(Date.parse(row?.next_run_at ?? '')).toBeGreaterThan(Date.now() + 4 * DAY);
    } finally {
      await h.platform.tenants.setStatus('globex', 'active');
    }
    expect(mailTo('ops@platform.example')).toHaveLength(1);
  });

  it('CLI: subscriptions:list shows schedules and errors; subscriptions:send-due sends what is due, once', async () => {
    const sub = await subscribe('acme-ann', { itemId: reportId, frequency: 'weekly', weekday: 5, hour: 7, period: 'day', date: 'today' });
    const listed = await runCli(h.dataDir, 'subscriptions:list', '--tenant', 'acme', '--format', 'json');
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject([{ id: sub.id, unit: 'acme', login: 'acme-ann', frequency: 'weekly', weekday: 5, recipients: ['acme-ann@acme.example'] }]);
    const text = await runCli(h.dataDir, 'subscriptions:list');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`${sub.id}  acme  acme-ann  item ${reportId}  weekly Fri 07:00 UTC`);
    expect((await runCli(h.dataDir, 'subscriptions:list', '--tenant', 'nope')).code).not.toBe(0);

    // Nothing is due yet.
    expect((await runCli(h.dataDir, 'subscriptions:send-due', '--tenant', 'acme')).out).toBe('acme: 0 sent, 0 failed');
    await h.asOperator('acme', async (ctx) => {
      if (ctx.scope.kind === 'tenant') await (ctx.scope.store.db as unknown as SubscriptionDb).updateTable('subscription').set({ next_run_at: new Date(Date.now() - 60_000).toISOString() }).execute();
    });
    const all = await runCli(h.dataDir, 'subscriptions:send-due');
    expect(all.code, all.err).toBe(0);
    expect(all.out.split('\n')).toEqual(['(platform): 0 sent, 0 failed', 'acme: 1 sent, 0 failed', 'globex: 0 sent, 0 failed']);
    expect(mailTo('acme-ann@acme.example')).toHaveLength(1);
    expect((await runCli(h.dataDir, 'subscriptions:send-due', '--tenant', 'acme')).out).toBe('acme: 0 sent, 0 failed');

    // Failures exit non-zero and name the subscription.
    await h.asOperator('acme', async (ctx) => {
      if (ctx.scope.kind === 'tenant') await (ctx.scope.store.db as unknown as SubscriptionDb).updateTable('subscription').set({ next_run_at: new Date(Date.now() - 60_000).toISOString() }).execute();
    });
    refuse = 'Try again later';
    const failed = await runCli(h.dataDir, 'subscriptions:send-due', '--tenant', 'acme');
    expect(failed.code).toBe(1);
    expect(failed.err).toContain(`acme subscription ${sub.id}: `);
    expect(failed.err).toContain('Try again later');
    expect((await runCli(h.dataDir, 'subscriptions:list', '--tenant', 'acme')).out).toContain('last error');
  });

  /** A saved report in globex's tenant collection (made once). */
  let globexReportId = '';
  async function globexReport(): Promise<string> {
    if (globexReportId === '') {
      const item = await ok<{ id: string }>(
        call('globex-ann', 'POST', '/api/v1/items', { collectionId: 'tenant', kind: 'saved_report', name: 'Globex pages', definition: { method: 'Actions.getPageUrls', params: { idSite: '1', flat: '1' }, visualization: 'table' } }),
        201,
      );
      globexReportId = item.id;
    }
    return globexReportId;
  }
});

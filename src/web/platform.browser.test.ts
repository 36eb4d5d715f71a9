/**
 * Platform administration through the web interface in a real browser: a platform admin
 * creates a tenant whose new host answers at once, edits its hosts, attributes and limits,
 * deactivates it (its host shows the deactivated page) and activates it, acts inside a
 * tenant and comes back, creates a tenant group with members, a data policy and the
 * subscription permission. A tenant's super user sees none of it, and the API refuses.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../http/test-support/harness.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

const PLATFORM = 'ops.test';

/** A GET through the real listening server with a given Host header (what a tracker or a browser at that host sends). */
function getAt(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!haveBrowser)('platform administration in the web interface', { timeout: 90_000 }, () => {
  let world: BrowserWorld;

  beforeAll(async () => {
    world = await openBrowserWorld({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM });
    const { h } = world;
    await h.addTenant('acme', ['acme.test']);
    await h.platform.tenants.update('acme', { name: 'Acme Corp' });
    await h.addUser('acme', 'ann', { superuser: true });
    await h.addUser('acme', 'ben');
    await h.addSite('acme', 'shop');
    await h.addPlatformUser('ops', { admin: true });
    await h.addPlatformUser('ivy');
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('creates a tenant whose host answers, edits hosts, attributes and limits, deactivates and activates it', async () => {
    const { h } = world;
    const page = await world.page();
    await world.signIn(page, PLATFORM, 'ops');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Platform' }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Acme Corp' }).waitFor();

    // Create: slug, name, hosts one per line; a bad slug is refused before anything is sent.
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const create = page.getByRole('dialog', { name: 'Create a tenant' });
    // The slug has the focus: typing goes there.
    await expect.poll(() => create.getByLabel('Slug').evaluate((input) => input === document.activeElement)).toBe(true);
    await page.keyboard.type('New Co');
    await create.getByLabel('Hosts, one per line').fill('newco.test\nwww.newco.test\n');
    await create.getByRole('button', { name: 'Create tenant' }).click();
    await expect.poll(() => create.getByText('Lower-case letters').isVisible()).toBe(true);
    await create.getByLabel('Slug').fill('newco');
    await create.getByLabel('Name (optional)').fill('NewCo Ltd');
    await create.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'NewCo Ltd', level: 1 }).waitFor();
    await page.getByText('Tenant created.').waitFor();

    // The new host answers at once, through the real server.
    const face = await getAt(world.port, 'newco.test', '/api/v1/tenant');
    expect(face.status).toBe(200);
    expect(JSON.parse(face.body)).toMatchObject({ slug: 'newco', name: 'NewCo Ltd' });

    // Hosts: remove one (confirmed), add another.
    await page.getByRole('button', { name: 'Remove host www.newco.test' }).click();
    await page.getByRole('dialog', { name: 'Remove this host?' }).getByRole('button', { name: 'Remove host' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove host www.newco.test' }).count()).toBe(0);
    await page.getByLabel('Add a host').fill('stats.newco.test');
    await page.getByRole('button', { name: 'Add host' }).click();
    await page.getByRole('button', { name: 'Remove host stats.newco.test' }).waitFor();
    expect((await getAt(world.port, 'www.newco.test', '/api/v1/tenant')).status).toBe(404);
    expect((await getAt(world.port, 'stats.newco.test', '/api/v1/tenant')).status).toBe(200);

    // Attributes: @tenant.slug is built in; add, edit in place (keyboard), remove (confirmed).
    const attributes = page.getByRole('region', { name: 'Attributes' });
    await attributes.getByRole('row', { name: /@tenant\.slug newco/ }).waitFor();
    expect(await attributes.getByRole('button', { name: 'Edit @tenant.slug' }).count()).toBe(0);
    await attributes.getByLabel('Key').fill('region');
    await attributes.getByLabel('Value').fill('eu');
    await attributes.getByRole('button', { name: 'Add attribute' }).click();
    await attributes.getByRole('button', { name: 'Edit region' }).waitFor();
    await attributes.getByLabel('Key').fill('plan');
    await attributes.getByLabel('Value').fill('gold');
    await attributes.getByRole('button', { name: 'Add attribute' }).click();
    await attributes.getByRole('button', { name: 'Edit plan' }).waitFor();
    await attributes.getByRole('button', { name: 'Edit region' }).click();
    const regionValue = attributes.getByLabel('Value of region');
    await regionValue.fill('us');
    await regionValue.press('Enter');
    await expect.poll(() => attributes.getByRole('row', { name: /region us/ }).count()).toBe(1);
    // The keyboard user is back on the row's Edit button; Escape leaves an edit unsaved.
    await expect.poll(() => attributes.getByRole('button', { name: 'Edit region' }).evaluate((button) => button === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.keyboard.type('xx');
    await page.keyboard.press('Escape');
    await expect.poll(() => attributes.getByRole('row', { name: /region us/ }).count()).toBe(1);
    await attributes.getByRole('button', { name: 'Remove plan' }).click();
    await page.getByRole('dialog', { name: 'Remove this attribute?' }).getByRole('button', { name: 'Remove attribute' }).click();
    await expect.poll(() => attributes.getByRole('button', { name: 'Edit plan' }).count()).toBe(0);
    expect((await h.platform.tenants.get('newco')).attributes).toEqual({ region: 'us' });

    // Limits: empty is unlimited; a word is refused in the form.
    const limits = page.getByRole('region', { name: 'Limits' });
    await limits.getByLabel('Maximum users').fill('many');
    await expect.poll(() => limits.getByRole('button', { name: 'Save limits' }).isDisabled()).toBe(true);
    await limits.getByLabel('Maximum users').fill('5');
    await limits.getByLabel('Maximum sites').fill('');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.getByText('Limits saved.').waitFor();
    expect((await h.platform.tenants.get('newco')).limits).toEqual({ maxUsers: 5, maxSites: null });

    // Branding: a bad colour is caught in the form; a good one is saved.
    const branding = page.getByRole('region', { name: 'Branding and defaults' });
    await branding.getByLabel('Product name').fill('NewCo Analytics');
    await branding.getByLabel('Primary colour', { exact: true }).fill('#12ab5');
    await expect.poll(() => branding.getByRole('button', { name: 'Save branding' }).isDisabled()).toBe(true);
    await branding.getByLabel('Primary colour', { exact: true }).fill('#12ab56');
    await branding.getByLabel('Time zone').fill('Europe/Berlin');
    await branding.getByRole('button', { name: 'Save branding' }).click();
    await branding.getByText('Branding saved.').waitFor();
    const saved = await h.platform.tenants.get('newco');
    expect(saved.branding.primaryColor).toBe('#12ab56');
    expect(saved.timezone).toBe('Europe/Berlin');
    await world.shot(page, 'platform-tenant');

    // Deactivate: the confirmation explains what happens and waits for the slug.
    await h.addUser('newco', 'nora');
    await page.getByRole('button', { name: 'Deactivate tenant' }).click();
    const deactivate = page.getByRole('dialog', { name: 'Deactivate NewCo Ltd?' });
    expect(await deactivate.textContent()).toContain('Every user of the tenant is deactivated');
    expect(await deactivate.textContent()).toContain('activating restores exactly the previous state');
    await expect.poll(() => deactivate.getByRole('button', { name: 'Deactivate tenant' }).isDisabled()).toBe(true);
    await deactivate.getByLabel('Type newco to confirm').fill('newco');
    await deactivate.getByRole('button', { name: 'Deactivate tenant' }).click();
    await page.getByText('NewCo Ltd is deactivated. Users deactivated: nora.').waitFor();
    await page.getByText('Deactivated', { exact: true }).first().waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Open as super user' }).isDisabled()).toBe(true);

    const visitor = await world.page();
    const refused = await visitor.goto(world.url('newco.test', '/login'));
    expect(refused?.status()).toBe(403);
    expect(await visitor.getByRole('alert').textContent()).toContain('deactivated');
    await world.shot(visitor, 'platform-deactivated-host');

    // Activate: exactly the users the deactivation touched come back.
    await page.getByRole('button', { name: 'Activate tenant' }).click();
    await page.getByRole('dialog', { name: 'Activate NewCo Ltd?' }).getByRole('button', { name: 'Activate tenant' }).click();
    await page.getByText('NewCo Ltd is active again. Users reactivated: nora.').waitFor();
    expect((await getAt(world.port, 'newco.test', '/api/v1/tenant')).status).toBe(200);
    const back = await visitor.goto(world.url('newco.test', '/login'));
    expect(back?.status()).toBe(200);

    // The list shows both tenants with their status; its search filters.
    await page.getByRole('link', { name: 'Tenants' }).first().click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'NewCo Ltd' }).waitFor();
    await world.shot(page, 'platform-tenants');
    await page.getByLabel('Search Tenants').fill('stats.newco');
    await expect.poll(() => page.getByRole('link', { name: 'Acme Corp' }).count()).toBe(0);
    await page.getByRole('link', { name: 'NewCo Ltd' }).waitFor();
    expect(world.pageErrors).toEqual([]);
  });

  it('acts inside a tenant as super user and comes back to the platform', async () => {
    const page = await world.page();
    await world.signIn(page, PLATFORM, 'ops');
    await page.goto(world.url(PLATFORM, '/platform/tenants/acme'));
    await page.getByRole('heading', { name: 'Acme Corp', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Open as super user' }).click();
    await page.waitForURL(/\/reports/);
    await expect.poll(() => page.getByLabel('Acting in').inputValue()).toBe('acme');

    // Platform screens first bring the admin back to the platform.
    await page.goto(world.url(PLATFORM, '/platform/groups'));
    await page.getByRole('heading', { name: 'You are acting in a tenant' }).waitFor();
    await page.getByRole('button', { name: 'Back to the platform' }).click();
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    await expect.poll(() => page.getByLabel('Acting in').inputValue()).toBe('');
    expect(world.pageErrors).toEqual([]);
  });

  it('creates a tenant group with members, a data policy (with its warnings) and the subscription permission', async () => {
    const { h } = world;
    const page = await world.page();
    await world.signIn(page, PLATFORM, 'ops');
    await page.goto(world.url(PLATFORM, '/platform/groups'));
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    // The two built-in groups are there and cannot be deleted.
    await page.getByRole('link', { name: 'All tenant users' }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete group All tenant users' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Create group' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a group' });
    expect(await dialog.getByLabel('Kind').inputValue()).toBe('tenant');
    await dialog.getByLabel('Name', { exact: true }).fill('EU analysts');
    await dialog.getByLabel('Description (optional)').fill('Analysts who see European traffic only');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'EU analysts', level: 1 }).waitFor();

    // A template naming an attribute no tenant defines is saved with a warning; one with region is not.
    const policy = page.getByRole('region', { name: 'Data policy' });
    await policy.getByLabel('Segment template').fill('pageUrl=@{{department}}');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await policy.getByText('Data policy saved.').waitFor();
    await policy.getByText('No tenant defines the attribute "department"').waitFor();
    // A broken template: the server's message.
    await policy.getByLabel('Segment template').fill('nonsense==1');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => policy.getByRole('alert').textContent()).toContain('not a supported segment');
    await policy.getByLabel('Segment template').fill('pageUrl=@{{region}}');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await policy.getByText('Data policy saved.').waitFor();
    await expect.poll(() => policy.getByText('No tenant defines').count()).toBe(0);
    const row = await h.platform.registry.db.selectFrom('user_group').select(['id', 'data_policy', 'can_subscribe']).where('name', '=', 'EU analysts').executeTakeFirstOrThrow();
    expect(row.data_policy).toBe('pageUrl=@{{region}}');

    // Subscriptions: off by default for tenant groups.
    const subscriptions = page.getByRole('region', { name: 'Email subscriptions' });
    const allowed = subscriptions.getByLabel('Members may subscribe to scheduled email reports');
    await expect.poll(() => allowed.isChecked()).toBe(false);
    await allowed.check();
    await subscriptions.getByText('Members may now subscribe.').waitFor();

    // Members are per tenant: acme's ben joins.
    const members = page.getByRole('region', { name: 'Members' });
    await members.getByLabel('Tenant').selectOption('acme');
    await members.getByText('No members of acme yet.').waitFor();
    await members.getByLabel('Login of a user of acme').fill('ben');
    await members.getByRole('button', { name: 'Add member' }).click();
    await members.getByRole('button', { name: 'Remove ben from EU analysts' }).waitFor();
    await members.getByLabel('Login of a user of acme').fill('nobody');
    await members.getByRole('button', { name: 'Add member' }).click();
    await expect.poll(() => members.getByRole('alert').count()).toBe(1);
    await world.shot(page, 'platform-group');

    const after = await h.platform.registry.db.selectFrom('user_group').select(['can_subscribe']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(after.can_subscribe).toBe(1);

    // An internal group holds platform users, without tenants, and carries no data policy.
    await page.getByRole('navigation', { name: 'Platform administration' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('button', { name: 'Create group' }).click();
    await dialog.getByLabel('Kind').selectOption('internal');
    await dialog.getByLabel('Name', { exact: true }).fill('Operators');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Operators', level: 1 }).waitFor();
    await page.getByText('only tenant groups carry them').waitFor();
    await members.getByLabel('Login of a platform user').fill('ops');
    await members.getByRole('button', { name: 'Add member' }).click();
    await members.getByRole('button', { name: 'Remove ops from Operators' }).waitFor();

    // Deleting asks first; Cancel has the focus.
    await page.getByRole('navigation', { name: 'Platform administration' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('link', { name: 'EU analysts' }).waitFor();
    await world.shot(page, 'platform-groups');
    await page.getByRole('button', { name: 'Delete group Operators' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete the group "Operators"?' });
    await expect.poll(() => confirm.getByRole('button', { name: 'Cancel' }).evaluate((button) => button === document.activeElement)).toBe(true);
    await confirm.getByRole('button', { name: 'Delete group' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Operators' }).count()).toBe(0);
    expect(world.pageErrors).toEqual([]);
  });

  it('explains the tenant strategy before switching, and moves a user from the platform to a tenant', async () => {
    const page = await world.page();
    await world.signIn(page, PLATFORM, 'ops');
    await page.goto(world.url(PLATFORM, '/platform/strategy'));
    await page.getByRole('heading', { name: 'This platform is multi-tenant' }).waitFor();
    await page.getByRole('button', { name: 'Switch to single-tenant' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch to single-tenant?' });
    expect(await dialog.textContent()).toContain('Every tenant user is deactivated');
    await expect.poll(() => dialog.getByRole('button', { name: 'Switch to single-tenant' }).isDisabled()).toBe(true);
    await world.shot(page, 'platform-strategy');
    // Escape closes it; nothing was switched.
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await world.h.platform.registry.strategy()).strategy).toBe('multi-tenant');

    await page.getByRole('navigation', { name: 'Platform administration' }).getByRole('link', { name: 'Move users' }).click();
    await page.getByRole('heading', { name: 'Move a user' }).waitFor();
    await page.getByLabel('Login').fill('ivy');
    await page.getByLabel('To tenant').selectOption('acme');
    await page.getByRole('button', { name: 'Move user…' }).click();
    await page.getByRole('dialog', { name: 'Move ivy?' }).getByRole('button', { name: 'Move user' }).click();
    await page.getByText('ivy moved from the platform to acme').waitFor();
    await world.shot(page, 'platform-move-user');
    // Moving again is refused with the server's message.
    await page.getByLabel('Login').fill('ivy');
    await page.getByRole('button', { name: 'Move user…' }).click();
    await page.getByRole('dialog', { name: 'Move ivy?' }).getByRole('button', { name: 'Move user' }).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'Move ivy?' }).getByRole('alert').count()).toBe(1);
    expect(world.pageErrors).toEqual([]);
  });

  it('works at phone width', async () => {
    const page = await world.page({ width: 375, height: 740 });
    await world.signIn(page, PLATFORM, 'ops');
    for (const [path, heading, shot] of [
      ['/platform/tenants', 'Tenants', 'platform-tenants-phone'],
      ['/platform/tenants/newco', 'NewCo Ltd', 'platform-tenant-phone'],
    ] as const) {
      await page.goto(world.url(PLATFORM, path));
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await world.shot(page, shot);
    }
    await page.getByRole('navigation', { name: 'Platform administration' }).getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('dialog', { name: 'Create a tenant' }).getByLabel('Slug').waitFor();
    await world.shot(page, 'platform-create-tenant-phone');
    expect(world.pageErrors).toEqual([]);
  });

  it('offers a tenant user nothing of the platform, and the API refuses it', async () => {
    const page = await world.page();
    await world.signIn(page, 'acme.test', 'ann');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Platform' }).count()).toBe(0);
    await page.goto(world.url('acme.test', '/platform/tenants'));
    await page.getByText('Only platform admins manage tenants and groups').waitFor();
    const answers = await page.evaluate(async () => {
      const me = (await (await fetch('/api/v1/me')).json()) as { csrfToken: string };
      const list = await fetch('/api/v1/tenants');
      const created = await fetch('/api/v1/tenants', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ slug: 'evil', hosts: ['evil.test'] }),
      });
      const group = await fetch('/api/v1/groups', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ kind: 'tenant', name: 'Mine' }),
      });
      return [list.status, created.status, group.status];
    });
    expect(answers).toEqual([403, 403, 403]);
    // Nor can a tenant user sign in on the platform host.
    const other = await world.page();
    await other.goto(world.url(PLATFORM, '/login'));
    await other.getByLabel('Login or email').fill('ann');
    await other.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => other.getByRole('alert').count()).toBe(1);
    expect(world.pageErrors).toEqual([]);
  });
});

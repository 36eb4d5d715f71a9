/**
 * Tenant administration in a real browser: a super user creates a user, gives it roles
 * and finds both in the audit log; the new user sees only its sites; a site admin sees
 * only the Users and Sites screens; branding (colour, logo) changes the header at once;
 * a blocked IP is unblocked; a new site's tracking code is copied; phone width works.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { setUserAccess } from '../access/users.service.js';
import { TEST_PASSWORD } from '../http/test-support/harness.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

const ACME = 'acme.test';
const STRICT = 'strict.test';
const PLATFORM = 'ops.test';

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real PNG of one colour (what a browser decodes and shows). */
function solidPng(width: number, height: number, [r, g, b]: readonly [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

async function brandColour(page: Page): Promise<string> {
  return page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim());
}

describe.skipIf(!haveBrowser)('tenant administration in the web interface', { timeout: 90_000 }, () => {
  let world: BrowserWorld;
  let root: Page;
  /** Script errors on the administration screens (other screens are other tests' business). */
  const adminErrors = () => world.pageErrors.filter((error) => /^https?:\/\/[^/]+\/admin/.test(error));

  beforeAll(async () => {
    world = await openBrowserWorld({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM });
    const { h } = world;
    await h.addTenant('acme', [ACME]);
    await h.platform.tenants.update('acme', { name: 'Acme Corp' });
    await h.addUser('acme', 'root', { superuser: true });
    await h.addUser('acme', 'sally');
    const shop = await h.addSite('acme', 'shop');
    await h.addSite('acme', 'blog');
    await h.addSite('acme', 'docs');
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'sally', 'admin', [shop]));
    // strict blocks an IP after three failed sign-ins.
    await h.addTenant('strict', [STRICT]);
    writeFileSync(join(h.dataDir, 'tenants/strict/config.ini'), '[Security]\nbrute_force_max_retries = 3\n');
    await h.addUser('strict', 'sam', { superuser: true });
    await h.addSite('strict', 'intranet');
    await h.addPlatformUser('ops', { admin: true });
    root = await world.page();
    await world.signIn(root, ACME, 'root');
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  // A failed step leaves a picture of where the super user's page stood.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && root) await world.shot(root, `admin-failed-${context.task.name.slice(0, 30).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  it('lets a super user create a user, give it roles, and find both in the audit log', async () => {
    // The reports page (the landing page) may still be settling its own URL, which would cancel a click's navigation.
    await root.getByRole('link', { name: 'Administration' }).waitFor();
    await root.goto(world.url(ACME, '/admin'));
    await root.getByRole('heading', { name: 'Users' }).waitFor();
    expect(new URL(root.url()).pathname).toBe('/admin/users');
    const subnav = root.getByRole('navigation', { name: 'Administration' });
    expect(await subnav.getByRole('link').allTextContents()).toEqual(['Users', 'Sites', 'Security', 'Audit log', 'Settings & branding']);
    await root.getByRole('cell', { name: 'sally', exact: true }).waitFor();
    await world.shot(root, 'admin-users');

    await root.getByRole('button', { name: 'Create a user' }).click();
    const dialog = root.getByRole('dialog', { name: 'Create a user' });
    await dialog.getByLabel('Login').fill('nina');
    await dialog.getByLabel('Email').fill('nina@acme.example');
    await dialog.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await root.getByRole('heading', { name: 'nina' }).waitFor();
    await root.getByText('The user nina was created.').waitFor();

    await root.getByLabel('Role on shop').selectOption('write');
    await root.getByLabel('Role on blog').selectOption('view');
    expect(await root.getByLabel('Role on docs').inputValue()).toBe('noaccess');
    await root.getByRole('button', { name: 'Save roles' }).click();
    await root.getByText('Saved the roles on 2 sites.').waitFor();
    // A capability on top of the view role, saved at once.
    await root.getByLabel('Create reports on blog').check();
    await expect.poll(() => root.getByLabel('Create reports on blog').isChecked()).toBe(true);
    await expect.poll(() => root.getByLabel('Manage goals on shop').isDisabled()).toBe(true); // in the write role
    await root.getByRole('heading', { name: 'API tokens' }).waitFor();
    await world.shot(root, 'admin-user-detail');

    // An invitation instead of a password: the link to copy, and no mail set up here.
    await root.getByRole('link', { name: 'Users', exact: true }).click();
    await root.getByRole('button', { name: 'Create a user' }).click();
    await dialog.getByLabel('Login').fill('owen');
    await dialog.getByLabel('Email').fill('owen@acme.example');
    await dialog.getByLabel('Send an invitation instead of a password').check();
    expect(await dialog.getByLabel('Password', { exact: true }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    const link = (await dialog.getByLabel('Invitation link').textContent()) ?? '';
    expect(link).toMatch(/^http:\/\/acme\.test:\d+\/invitation\?token=[A-Za-z0-9_-]{43}$/);
    await dialog.getByText('Email is not set up here').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).first().click();

    await root.getByRole('link', { name: 'Audit log' }).click();
    await root.getByText(/hash chain intact/).waitFor();
    await root.getByLabel('Action').fill('user.*');
    await root.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => root.getByRole('cell', { name: 'user.created' }).count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => root.getByRole('cell', { name: 'access.role_changed' }).count()).toBe(0);
    await root.getByLabel('Action').fill('access.role_changed');
    await root.getByLabel('User', { exact: true }).fill('root');
    await root.getByLabel('Site').selectOption({ label: 'shop' });
    await root.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => root.getByRole('cell', { name: 'access.role_changed' }).count()).toBe(1);
    await root.getByRole('button', { name: /Show changes of entry/ }).first().click();
    const details = root.locator('.admin-audit-details');
    await expect.poll(() => details.textContent()).toContain('"role": "write"');
    expect(await details.textContent()).toContain('"role": "noaccess"');
    // Exports carry the same filters.
    const csv = await root.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(csv).toContain('format=csv');
    expect(csv).toContain('action=access.role_changed');
    const exported = await root.evaluate(async (href) => (await fetch(href)).text(), csv ?? '');
    expect(exported).toContain('access.role_changed');
    expect(exported).not.toContain('user.created');
    await world.shot(root, 'admin-audit');
  });

  it('shows the new user only the sites it was given, and no administration', async () => {
    const page = await world.page();
    await world.signIn(page, ACME, 'nina');
    const sites = await page.evaluate(async () => ((await (await fetch('/api/v1/sites')).json()) as { sites: { name: string }[] }).sites.map((s) => s.name));
    expect(sites.sort()).toEqual(['blog', 'shop']);
    expect(await page.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    const picker = page.getByLabel('Site', { exact: true });
    if ((await picker.count()) > 0) expect((await picker.locator('option').allTextContents()).sort()).toEqual(['blog', 'shop']);
    await page.goto(world.url(ACME, '/admin'));
    await page.getByText('Administration is not available to you').waitFor();
  });

  it('shows a site admin only the Users and Sites screens, for its own sites', async () => {
    const page = await world.page();
    await world.signIn(page, ACME, 'sally');
    await page.getByRole('link', { name: 'Administration' }).waitFor();
    await page.goto(world.url(ACME, '/admin'));
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Administration' }).getByRole('link').allTextContents()).toEqual(['Users', 'Sites']);
    await page.getByRole('link', { name: 'nina', exact: true }).click();
    await page.getByLabel('Role on shop').waitFor();
    // Site admins give view or write, never admin, and only on their sites.
    expect(await page.getByLabel('Role on shop').locator('option').allTextContents()).toEqual(['No access', 'View', 'Write']);
    expect(await page.getByLabel('Role on blog').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'API tokens' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Sites' }).click();
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
    await page.getByRole('cell', { name: /^shop id \d+$/ }).waitFor();
    expect(await page.getByRole('cell', { name: /^blog id \d+$/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Add a site' }).count()).toBe(0);

    // A site admin creates users on its own sites only: the site is required.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Create a user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a user' });
    await dialog.getByLabel('Login').fill('pete');
    await dialog.getByLabel('Email').fill('pete@acme.example');
    await dialog.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    expect(await dialog.getByLabel('Give view access to').locator('option').allTextContents()).toEqual(['Choose a site…', 'shop']);
    await dialog.getByLabel('Give view access to').selectOption({ label: 'shop' });
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'pete' }).waitFor();
    await expect.poll(() => page.getByLabel('Role on shop').inputValue()).toBe('view');

    await page.goto(world.url(ACME, '/admin/security'));
    await page.getByText('This screen is for the tenant’s super users.').waitFor();
  });

  it('makes a user a super user only with the caller’s password, deactivates and reactivates it, by keyboard too', async () => {
    await root.goto(world.url(ACME, '/admin/users/owen'));
    await root.getByRole('heading', { name: 'owen' }).waitFor();
    await root.getByRole('button', { name: 'Make super user' }).click();
    const confirm = root.getByRole('dialog', { name: 'Make owen a super user' });
    await confirm.getByLabel('Your password').fill('not my password');
    await confirm.getByRole('button', { name: 'Make super user' }).click();
    await expect.poll(() => confirm.getByRole('alert').textContent()).toContain('The current password you entered is not correct');
    await confirm.getByLabel('Your password').fill(TEST_PASSWORD);
    await confirm.getByRole('button', { name: 'Make super user' }).click();
    await root.getByText('The user is now a super user.').waitFor();
    await root.getByText('owen is a super user: admin on every site').waitFor();
    expect(await root.getByLabel('Role on shop').count()).toBe(0);

    await root.getByRole('button', { name: 'Remove super user access' }).click();
    const remove = root.getByRole('dialog', { name: 'Remove super user access of owen' });
    await remove.getByLabel('Your password').fill(TEST_PASSWORD);
    await remove.getByRole('button', { name: 'Remove super user access' }).click();
    await root.getByLabel('Role on shop').waitFor();

    // Keyboard only: reach "Deactivate user", confirm with Enter; Escape closes a dialog unchanged.
    await root.getByRole('button', { name: 'Deactivate user' }).focus();
    await root.keyboard.press('Enter');
    const deactivate = root.getByRole('dialog', { name: 'Deactivate owen' });
    await deactivate.waitFor();
    await root.keyboard.press('Escape');
    await expect.poll(() => deactivate.isVisible()).toBe(false);
    await root.getByRole('button', { name: 'Deactivate user' }).focus();
    await root.keyboard.press('Enter');
    await deactivate.getByRole('button', { name: 'Deactivate' }).focus();
    await root.keyboard.press('Enter');
    await root.getByText('The user was deactivated').waitFor();
    await root.getByRole('link', { name: '← All users' }).click();
    await expect.poll(() => root.getByRole('row', { name: /owen/ }).textContent()).toContain('deactivated');
    await root.getByRole('link', { name: 'owen', exact: true }).click();
    await root.getByRole('button', { name: 'Reactivate user' }).click();
    await root.getByRole('dialog', { name: 'Reactivate owen' }).getByRole('button', { name: 'Reactivate' }).click();
    await root.getByText('The user was reactivated.').waitFor();

    // The side navigation is reached and followed with the keyboard.
    await root.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).focus();
    await root.keyboard.press('Tab');
    expect(await root.evaluate(() => document.activeElement?.textContent)).toBe('Sites');
    await root.keyboard.press('Enter');
    await root.getByRole('heading', { name: 'Sites' }).waitFor();
  });

  it('changes the colour and the logo, and the header shows them at once', async () => {
    await root.goto(world.url(ACME, '/admin/settings'));
    await root.getByRole('heading', { name: 'Settings and branding' }).waitFor();
    await root.getByLabel('Product name').fill('Acme Analytics');
    await root.getByLabel('Primary colour (hex)').fill('#1a7f45');
    await root.getByRole('button', { name: 'Save branding' }).click();
    await expect.poll(() => brandColour(root)).toBe('#1a7f45');
    await expect.poll(() => root.locator('.topbar .brand-name').textContent()).toBe('Acme Analytics');

    expect(await root.locator('.topbar img.brand-logo').count()).toBe(0);
    await root.getByLabel('Logo file').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: solidPng(120, 40, [0x1a, 0x7f, 0x45]) });
    await root.getByAltText('Preview of the chosen logo').waitFor();
    await root.getByRole('button', { name: 'Upload logo' }).click();
    await root.getByText('The new logo is in place.').waitFor();
    const logo = root.locator('.topbar img.brand-logo');
    await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(120);
    await world.shot(root, 'admin-branding');

    // A second logo replaces the first in the header without a reload.
    await root.getByLabel('Logo file').setInputFiles({ name: 'logo2.png', mimeType: 'image/png', buffer: solidPng(90, 30, [0xaa, 0x22, 0x55]) });
    await root.getByRole('button', { name: 'Upload logo' }).click();
    await expect.poll(() => logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(90);

    // Other tenant settings, by section, edited the same way.
    await root.locator('summary').filter({ hasText: /^Tracker/ }).click();
    await root.getByLabel('Ip anonymization bytes').fill('3');
    await root.getByRole('button', { name: 'Save tracker settings' }).click();
    await root.getByText('Saved 1 setting.').waitFor();
    await root.getByRole('button', { name: 'Reset Ip anonymization bytes to the inherited value' }).waitFor();
    await world.shot(root, 'admin-settings');

    // An SVG is refused with the server's reason.
    await root.getByLabel('Logo file').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
    await root.getByRole('button', { name: 'Upload logo' }).click();
    await expect.poll(() => root.getByRole('alert').allTextContents()).toContainEqual(expect.stringContaining('SVG'));
  });

  it('shows a blocked IP after failed sign-ins and unblocks it', async () => {
    const admin = await world.page();
    await world.signIn(admin, STRICT, 'sam');
    const other = await world.page();
    for (let attempt = 0; attempt < 3; attempt++) {
      await other.goto(world.url(STRICT, '/login'));
      await other.getByLabel('Login or email').fill('sam');
      await other.getByLabel('Password', { exact: true }).fill('wrong password');
      await other.getByRole('button', { name: 'Sign in', exact: true }).click();
      await other.getByRole('alert').waitFor();
    }

    await admin.goto(world.url(STRICT, '/admin/security'));
    await admin.getByRole('heading', { name: 'Security' }).waitFor();
    const unblock = admin.getByRole('button', { name: 'Unblock 127.0.0.1' });
    await unblock.waitFor();
    // A setting changed here shows that it now comes from the tenant, and goes back to the inherited value.
    await admin.getByLabel('Minimum length').fill('12');
    await admin.getByRole('button', { name: 'Save passwords' }).click();
    await admin.getByText('Saved 1 setting.').waitFor();
    await admin.getByRole('button', { name: 'Reset Minimum length to the inherited value' }).waitFor();
    await admin.getByLabel('Idle timeout', { exact: true }).waitFor();
    expect(await admin.getByLabel('Idle timeout unit').inputValue()).toBe('3600');
    await world.shot(admin, 'admin-security');
    await admin.getByRole('button', { name: 'Reset Minimum length to the inherited value' }).click();
    await expect.poll(() => admin.getByLabel('Minimum length').inputValue()).toBe('8');

    // An allowlist without the caller's own address would lock it out: the server's reason is shown.
    await admin.getByLabel('IP allowlist').fill('10.0.0.1\n192.168.0.0/16');
    await admin.getByRole('button', { name: 'Save sign-in protection' }).click();
    await expect.poll(() => admin.getByRole('alert').allTextContents()).toContainEqual(expect.stringContaining('lock you out'));

    await unblock.click();
    await admin.getByText('No address is blocked.').waitFor();
    await world.signIn(other, STRICT, 'sam');
  });

  it('adds a site and copies its tracking code', async () => {
    await root.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await root.goto(world.url(ACME, '/admin/sites'));
    await root.getByRole('button', { name: 'Add a site' }).click();
    const add = root.getByRole('dialog', { name: 'Add a site' });
    await add.getByLabel('Name', { exact: true }).fill('news');
    await add.getByLabel('URLs', { exact: true }).fill('https://news.example\nhttps://www.news.example');
    await add.getByLabel('Time zone').selectOption('Europe/Paris');
    await add.getByLabel('Currency').selectOption('EUR');
    await add.getByRole('button', { name: 'Add site' }).click();
    const code = root.getByRole('dialog', { name: 'Tracking code of news' });
    const pre = code.getByLabel('Tracking code of news');
    await pre.waitFor();
    const text = (await pre.textContent()) ?? '';
    expect(text).toContain("'setSiteId', '4'");
    await code.getByRole('button', { name: 'Copy tracking code' }).click();
    await code.getByRole('button', { name: 'Copied' }).waitFor();
    // acme.test is plain http, where pages cannot read the clipboard; localhost is a secure context and can.
    const reader = await root.context().newPage();
    await reader.goto(`http://localhost:${world.port}/healthz`);
    expect(await reader.evaluate(() => navigator.clipboard.readText())).toBe(text);
    await reader.close();
    await code.getByRole('button', { name: 'Close' }).click();
    await root.getByRole('cell', { name: /^news id \d+$/ }).waitFor();
    expect(await root.getByRole('row', { name: /news/ }).textContent()).toContain('Europe/Paris');
    await world.shot(root, 'admin-sites');

    // Editing keeps both URLs and adds exclusions, one per line.
    await root.getByRole('button', { name: 'Edit news' }).click();
    const edit = root.getByRole('dialog', { name: 'Edit news' });
    expect(await edit.getByLabel('URLs', { exact: true }).inputValue()).toBe('https://news.example\nhttps://www.news.example');
    await edit.getByText('Exclusions and privacy').click();
    await edit.getByLabel('Excluded IPs').fill('10.0.0.0/8\n192.168.1.*');
    await edit.getByLabel('Who sees sensitive data (IPs, user ids)').selectOption('none');
    await edit.getByRole('button', { name: 'Save site' }).click();
    await root.getByText('The site news was saved.').waitFor();
    const saved = await root.evaluate(async () => (await (await fetch('/api/v1/sites/4')).json()) as { excluded_ips: string; sensitive_data_role: string });
    expect(saved).toMatchObject({ excluded_ips: '10.0.0.0/8,192.168.1.*', sensitive_data_role: 'none' });
    await root.getByRole('button', { name: 'Edit news' }).click();
    await edit.getByLabel('Excluded IPs').fill('not an ip');
    await edit.getByRole('button', { name: 'Save site' }).click();
    await expect.poll(() => edit.getByRole('alert').textContent()).toContain('Excluded IPs');
    await edit.getByRole('button', { name: 'Close' }).click();

    // Deleting asks first, naming what goes with the site.
    await root.getByRole('button', { name: 'Delete news' }).click();
    const confirm = root.getByRole('dialog', { name: 'Delete news' });
    await confirm.getByText('cannot be undone').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await root.getByRole('cell', { name: /^news id \d+$/ }).waitFor();
    await root.getByRole('button', { name: 'Delete news' }).click();
    await confirm.getByRole('button', { name: 'Delete site and its data' }).click();
    await root.getByText('The site news and its data were deleted.').waitFor();
    await expect.poll(() => root.getByRole('cell', { name: /^news id \d+$/ }).count()).toBe(0);
    expect(adminErrors()).toEqual([]);
  });

  it('lets a platform admin acting in the tenant use the same screens, audited, without a password prompt for super user access', async () => {
    const page = await world.page();
    await world.signIn(page, PLATFORM, 'ops');
    await page.getByLabel('Acting in').selectOption('acme');
    await page.getByRole('link', { name: 'Administration' }).waitFor();
    await page.goto(world.url(PLATFORM, '/admin'));
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Administration' }).getByRole('link').allTextContents()).toEqual(['Users', 'Sites', 'Security', 'Audit log', 'Settings & branding']);
    await page.getByRole('link', { name: 'pete', exact: true }).click();
    await page.getByRole('button', { name: 'Make super user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Make pete a super user' });
    expect(await dialog.getByLabel('Your password').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Make super user' }).click();
    await page.getByText('The user is now a super user.').waitFor();

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('access.superuser_changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByRole('row', { name: /access\.superuser_changed/ }).first().textContent()).toContain('ops');
    // Downloads carry the tenant the admin acts in (a link cannot send the header).
    const csv = (await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')) ?? '';
    expect(csv).toContain('tenant=acme');
    const exported = await page.evaluate(async (href) => (await fetch(href)).text(), csv);
    expect(exported).toContain('access.superuser_changed');
    expect(adminErrors()).toEqual([]);
  });

  it('works at phone width', async () => {
    const page = await world.page({ width: 375, height: 800 });
    await world.signIn(page, ACME, 'root');
    await page.goto(world.url(ACME, '/admin/users/sally'));
    await page.getByLabel('Role on shop').waitFor();
    await world.shot(page, 'admin-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.goto(world.url(ACME, '/admin/audit'));
    await page.getByText(/hash chain intact/).waitFor();
    await world.shot(page, 'admin-audit-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(adminErrors()).toEqual([]);
  });
});

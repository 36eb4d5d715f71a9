/**
 * Signing in through the web interface in a real browser: branding on the login page,
 * wrong passwords, MFA enrolment with a QR code and recovery codes, the TOTP step,
 * an expired session, a blocked IP and a deactivated tenant, each with its message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityDbFor } from '../access/context.js';
import { issueSetupToken } from '../access/login.service.js';
import { currentTotp } from '../access/totp.js';
import { TEST_PASSWORD } from '../http/test-support/harness.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

describe.skipIf(!haveBrowser)('signing in through the web interface', { timeout: 120_000 }, () => {
  let world: BrowserWorld;

  beforeAll(async () => {
    world = await openBrowserWorld();
    const { h } = world;
    await h.addTenant('acme', ['acme.test']);
    await h.platform.tenants.update('acme', { name: 'Acme Corp', productName: 'Acme Insights', primaryColor: '#aa2255' });
    // acme requires a second factor of everyone; strict has a low brute-force threshold.
    writeFileSync(join(h.dataDir, 'tenants/acme/config.ini'), '[Security]\nrequire_mfa = 1\nmfa_issuer = "Acme"\n');
    await h.addTenant('strict', ['strict.test']);
    writeFileSync(join(h.dataDir, 'tenants/strict/config.ini'), '[Security]\nbrute_force_max_retries = 3\n');
    await h.addTenant('gone', ['gone.test']);
    // sso offers its identity providers; locked forces single sign-on.
    await h.addTenant('sso', ['sso.test']);
    writeFileSync(join(h.dataDir, 'tenants/sso/config.ini'), '[OIDC]\nenabled = 1\ndisplay_name = "Acme Okta"\n[SAML]\nenabled = 1\ndisplay_name = "Corporate SAML"\n[LDAP]\nenabled = 1\ndisplay_name = "Acme Directory"\n');
    await h.addTenant('locked', ['locked.test']);
    writeFileSync(join(h.dataDir, 'tenants/locked/config.ini'), '[SSO]\nforce_sso = 1\n[OIDC]\nenabled = 1\ndisplay_name = "Acme Okta"\n');
    await h.addUser('acme', 'ann', { superuser: true });
    await h.addUser('strict', 'sam', { superuser: true });
    await h.addSite('acme', 'shop');
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('shows the tenant branding, refuses a wrong password, enrols TOTP with a QR code, then asks for the code at each sign-in', async () => {
    const page = await world.page();
    await page.goto(world.url('acme.test', '/login'));
    await expect.poll(() => page.getByText('Acme Insights').first().isVisible()).toBe(true);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim())).toBe('#aa2255');
    await world.shot(page, 'login');

    await page.getByLabel('Login or email').fill('ann');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong login or password.');

    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await page.getByAltText('QR code for your authenticator app').waitFor();
    expect(await page.getByLabel('Recovery codes').locator('li').count()).toBe(10);
    await world.shot(page, 'login-mfa-enrolment');
    const secret = (await page.getByLabel('Setup key').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]+$/);

    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That code is not valid');
    await page.getByLabel('Code from the app').fill(currentTotp(secret));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // Next sign-in: password, then the code (the next time step, since a code works once).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Login or email').waitFor();
    await page.getByLabel('Login or email').fill('ann');
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await world.shot(page, 'login-totp');
    await page.getByLabel('Authentication code').fill(currentTotp(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(world.pageErrors).toEqual([]);
  });

  it('offers the identity providers the tenant enabled, and only those', async () => {
    const page = await world.page();
    await page.goto(world.url('sso.test', '/login?next=%2Freports'));
    const okta = page.getByRole('link', { name: 'Acme Okta' });
    await okta.waitFor();
    expect(await okta.getAttribute('href')).toBe('/auth/oidc/start?return_to=%2Freports');
    expect(await page.getByRole('link', { name: 'Corporate SAML' }).getAttribute('href')).toBe('/auth/saml/login?return_to=%2Freports');
    await page.getByLabel('Use Acme Directory (directory account)').waitFor();
    await world.shot(page, 'login-sso');

    // acme enabled none: the password form alone.
    await page.goto(world.url('acme.test', '/login'));
    await page.getByLabel('Login or email').waitFor();
    expect(await page.getByRole('link', { name: 'Acme Okta' }).count()).toBe(0);

    // Forced SSO hides the password form behind an administrator's link (break-glass users).
    await page.goto(world.url('locked.test', '/login'));
    await page.getByRole('link', { name: 'Acme Okta' }).waitFor();
    expect(await page.getByLabel('Login or email').count()).toBe(0);
    await page.getByRole('button', { name: 'Administrator sign-in with password' }).click();
    await page.getByLabel('Login or email').waitFor();
  });

  it('says so when the session has expired, and returns to the page after signing in again', async () => {
    const page = await world.page();
    await world.signIn(page, 'strict.test', 'sam');
    await page.goto(world.url('strict.test', '/account'));
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    // The session's lifetime runs out on the server.
    await world.h.asOperator('strict', (ctx) =>
      identityDbFor(ctx.platform, ctx.scope).updateTable('session').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute(),
    );
    await page.reload();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Your session has expired');
    expect(page.url()).toContain('/login?next=%2Faccount');
    await page.getByLabel('Login or email').fill('sam');
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
  });

  it('tells a blocked IP why it cannot sign in', async () => {
    const page = await world.page();
    await page.goto(world.url('strict.test', '/login'));
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await page.getByLabel('Login or email').fill('sam');
      await page.getByLabel('Password', { exact: true }).fill(`wrong ${attempt}`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').waitFor();
      await expect.poll(async () => page.getByRole('button', { name: 'Sign in', exact: true }).isEnabled()).toBe(true);
    }
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('sign-in is blocked');
    await world.shot(page, 'login-blocked');
    await world.h.asOperator('strict', (ctx) => identityDbFor(ctx.platform, ctx.scope).deleteFrom('login_failure').execute());
  });

  it('shows a deactivated tenant a page that says so', async () => {
    await world.h.platform.tenants.setStatus('gone', 'deactivated');
    await world.h.refreshHosts();
    const page = await world.page();
    const response = await page.goto(world.url('gone.test', '/login'));
    expect(response?.status()).toBe(403);
    expect(await page.getByRole('alert').textContent()).toContain('deactivated');
    await world.shot(page, 'login-deactivated-tenant');
  });

  it('can be used with the keyboard alone: sign in, skip to the content, reach the navigation', async () => {
    const page = await world.page();
    await page.goto(world.url('strict.test', '/login'));
    await page.getByLabel('Login or email').waitFor();
    // The login field has the focus on arrival; Tab and Enter do the rest.
    await page.keyboard.type('sam');
    await page.keyboard.press('Tab');
    await page.keyboard.type(TEST_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Every control on the page has an accessible name.
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea, button'))
        .filter((element) => {
          const control = element as HTMLInputElement;
          if (control.type === 'hidden') return false;
          const labelled = (control.labels?.length ?? 0) > 0 || control.getAttribute('aria-label') || control.getAttribute('aria-labelledby');
          return !labelled && !(element.tagName === 'BUTTON' && element.textContent?.trim());
        })
        .map((element) => element.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
  });

  it('works at phone width', async () => {
    const page = await world.page({ width: 375, height: 740 });
    await page.goto(world.url('acme.test', '/login'));
    await page.getByLabel('Login or email').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await world.shot(page, 'login-phone');
  });
});

describe.skipIf(!haveBrowser)('first start: the one-time setup link', { timeout: 120_000 }, () => {
  let world: BrowserWorld;
  beforeAll(async () => {
    world = await openBrowserWorld();
    await world.h.addTenant('fresh', ['fresh.test']);
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it('creates the first super user, signs it in, and works once', async () => {
    const tenant = await world.h.platform.tenants.get('fresh');
    const token = await world.h.platform.withStore(tenant, (store) => issueSetupToken(world.h.platform, { kind: 'tenant', tenant, store }));
    const page = await world.page();
    await page.goto(world.url('fresh.test', `/setup?token=${token ?? ''}`));
    await page.getByLabel('Login').fill('root');
    await page.getByLabel('Email').fill('root@fresh.example');
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByLabel('Repeat the password').fill(TEST_PASSWORD);
    await world.shot(page, 'setup');
    await page.getByRole('button', { name: 'Create and sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // Administration is offered: the new user is the tenant's super user.
    await page.getByRole('link', { name: 'Administration' }).waitFor();

    const again = await world.page();
    await again.goto(world.url('fresh.test', `/setup?token=${token ?? ''}`));
    await again.getByLabel('Login').fill('root2');
    await again.getByLabel('Email').fill('root2@fresh.example');
    await again.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await again.getByLabel('Repeat the password').fill(TEST_PASSWORD);
    await again.getByRole('button', { name: 'Create and sign in' }).click();
    await again.getByRole('alert').waitFor();
    expect(await again.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  });
});

/**
 * An invited user opens its link in a real browser, chooses a password (the tenant's
 * policy applies, with its words) and is signed in; the link works once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInOver } from '../http/test-support/harness.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

describe.skipIf(!haveBrowser)('accepting an invitation in the browser', { timeout: 120_000 }, () => {
  let world: BrowserWorld;
  let link = '';

  beforeAll(async () => {
    world = await openBrowserWorld();
    const { h } = world;
    await h.addTenant('acme', ['acme.test']);
    await h.platform.tenants.update('acme', { name: 'Acme Corp' });
    await h.refreshHosts();
    await h.addSite('acme', 'shop');
    await h.addUser('acme', 'ann', { superuser: true });
    const session = await signInOver(h.app, 'acme.test', 'ann');
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { host: 'acme.test', cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { login: 'ivy', email: 'ivy@acme.example', invite: true },
    });
    expect(created.statusCode, created.body).toBe(201);
    const url = new URL(created.json<{ invitation: { url: string } }>().invitation.url);
    link = world.url('acme.test', `${url.pathname}${url.search}`);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('names the tenant and the account, applies the password policy, signs the user in, and works once', async () => {
    const page = await world.page();
    await page.goto(link);
    await page.getByText('Acme Corp').first().waitFor();
    await page.getByText('ivy@acme.example').waitFor();
    await world.shot(page, 'invitation');

    await page.getByLabel('Password', { exact: true }).fill('ivy');
    await page.getByLabel('Repeat the password').fill('ivy');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/password/i);

    await page.getByLabel('Password', { exact: true }).fill('a much better passphrase');
    await page.getByLabel('Repeat the password').fill('a much better passphrase');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByText('ivy').first().waitFor();

    const again = await world.page();
    await again.goto(link);
    await expect.poll(() => again.getByRole('alert').first().textContent()).toMatch(/used|expired|no longer/i);
    expect(world.pageErrors).toEqual([]);
  });
});

/**
 * The end-to-end path in a real browser, across two tenants (one on SQLite, one
 * on PostgreSQL) that both have a site 1: a super user sees a report of tracked data,
 * creates a user and grants it a site role, and finds the change in the audit log; the
 * new user signs in and sees only its own tenant's granted site. Every answer the
 * browser receives is checked for the other tenant's names.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserAccess } from '../access/users.service.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

/** Records the body of every response from `host`, to look for another tenant's data in them. */
function recordResponses(page: Page, host: string): string[] {
  const bodies: string[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).hostname !== host) return;
    void response
      .text()
      .then((text) => bodies.push(text))
      .catch(() => undefined);
  });
  return bodies;
}

describe.skipIf(!haveBrowser)('two tenants in the browser: reports, users, roles, audit, and no crossing', { timeout: 120_000 }, () => {
  let world: BrowserWorld;
  let pg: TestPostgresDatabase;

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('webiso');
    world = await openBrowserWorld({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix });
    const { h } = world;
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('globex', ['globex.test'], pg.url);
    // Site 1 in both tenants; globex also has a site 2.
    await h.addSite('acme', 'acmeshop');
    await h.addSite('acme', 'acmeblog');
    await h.addSite('globex', 'globexstore');
    await h.addSite('globex', 'globexsecret');
    await h.addUser('acme', 'ann', { superuser: true });
    await h.addUser('globex', 'gus', { superuser: true });
    await h.addUser('globex', 'ann', {});
    await h.asOperator('globex', (ctx) => setUserAccess(ctx, 'ann', 'view', [1, 2]));
    await world.track('acme.test', [
      { idsite: 1, url: 'https://acmeshop.example/', action_name: 'Acme home', _id: 'a000000000000001', ua: FIREFOX },
      { idsite: 1, url: 'https://acmeshop.example/anvils', action_name: 'Anvils', _id: 'a000000000000001', ua: FIREFOX },
      { idsite: 1, url: 'https://acmeshop.example/rockets', action_name: 'Rockets', _id: 'a000000000000002' },
    ]);
    await world.track('globex.test', [
      { idsite: 1, url: 'https://globexstore.example/hammock', action_name: 'Globex hammock', _id: 'b000000000000001' },
      { idsite: 2, url: 'https://globexsecret.example/plans', action_name: 'Globex plans', _id: 'b000000000000002' },
    ]);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await pg?.drop();
  });

  it('a super user sees its report, creates a user with a site role, and finds it in the audit log; that user sees only what was granted', async () => {
    const page = await world.page();
    const bodies = recordResponses(page, 'acme.test');
    await world.signIn(page, 'acme.test', 'ann');

    // A report with the tracked data.
    await page.goto(world.url('acme.test', '/reports/1/pages?period=day&date=today'));
    const table = page.getByRole('table', { name: /^Page URLs/ });
    await table.waitFor();
    await expect.poll(() => table.textContent()).toContain('/anvils');
    expect(await table.textContent()).toContain('/rockets');
    const sites = await page.getByLabel('Site', { exact: true }).locator('option').allTextContents();
    expect(sites.join(' ')).toContain('acmeshop');
    expect(sites.join(' ')).not.toMatch(/globex/i);
    await world.shot(page, 'isolation-report');

    // A new user with view access on site 2 only.
    await page.goto(world.url('acme.test', '/admin/users'));
    await page.getByRole('button', { name: 'Create a user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a user' });
    await dialog.getByLabel('Login').fill('vic');
    await dialog.getByLabel('Email').fill('vic@acme.example');
    await dialog.getByLabel('Password', { exact: true }).fill('Seven blue herons at dawn');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'vic' }).waitFor();
    await page.getByLabel('Role on acmeblog').selectOption('view');
    await page.getByRole('button', { name: 'Save roles' }).click();
    await page.getByText('Saved the role on 1 site.').waitFor();

    // The audit log shows both changes.
    await page.goto(world.url('acme.test', '/admin/audit'));
    await expect.poll(() => page.getByRole('cell', { name: 'user.created' }).count()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByRole('cell', { name: 'access.role_changed' }).count()).toBeGreaterThanOrEqual(1);
    await world.shot(page, 'isolation-audit');

    // vic, signed in, sees site 2 only; its report has no data of site 1 and none of globex.
    const vic = await world.page();
    const vicBodies = recordResponses(vic, 'acme.test');
    await world.signIn(vic, 'acme.test', 'vic', 'Seven blue herons at dawn');
    await vic.goto(world.url('acme.test', '/reports'));
    await vic.getByLabel('Site', { exact: true }).waitFor();
    const vicSites = await vic.getByLabel('Site', { exact: true }).locator('option').allTextContents();
    expect(vicSites).toEqual([expect.stringContaining('acmeblog')]);
    expect(await vic.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    // Site 1 is not vic's: the page says so and shows none of its data.
    await vic.goto(world.url('acme.test', '/reports/1/pages?period=day&date=today'));
    await vic.getByText('Site 1 does not exist or you may not view it.').waitFor();
    expect(await vic.locator('main').textContent()).not.toContain('/anvils');
    await world.shot(vic, 'isolation-restricted-user');

    // ann of acme is not ann of globex: the acme session means nothing on globex's host.
    await page.goto(world.url('globex.test', '/reports'));
    await page.waitForURL(/\/login/);

    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const body of [...bodies, ...vicBodies]) {
      expect(body, 'an acme page received data of globex').not.toMatch(/globex|hammock/i);
    }
    expect(vicBodies.join('\n')).not.toContain('/anvils');
  });

  it('the other tenant, on PostgreSQL, sees its own sites and data only', async () => {
    const page = await world.page();
    const bodies = recordResponses(page, 'globex.test');
    await world.signIn(page, 'globex.test', 'gus');
    await page.goto(world.url('globex.test', '/reports/1/pages?period=day&date=today'));
    const table = page.getByRole('table', { name: /^Page URLs/ });
    await expect.poll(() => table.textContent()).toContain('/hammock');
    const sites = await page.getByLabel('Site', { exact: true }).locator('option').allTextContents();
    expect(sites.join(' ')).toMatch(/globexstore.*globexsecret|globexsecret.*globexstore/);
    await page.goto(world.url('globex.test', '/admin/users'));
    await page.getByText('gus').first().waitFor();
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const body of bodies) expect(body, 'a globex page received data of acme').not.toMatch(/acmeshop|anvils|vic@acme/i);
  });
});

/**
 * Collections and dashboards in a real browser: hits tracked through the tenant's
 * /matomo.php; a tenant super user creates a sub-collection, a dashboard with a line
 * chart and a table, and a saved report, sees their data, moves the report into the
 * sub-collection by keyboard, is refused a move that would make a cycle, archives and
 * deletes a collection; the same pages at phone width; a platform admin on the platform
 * host creates a shared dashboard, lets all tenant users view it, and (acting in the
 * tenant) is refused a move that would widen who sees a dashboard; a view-only tenant
 * user sees the shared dashboard with its own tenant's data, no control to change it,
 * and copies it into its tenant's collection.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { setUserAccess } from '../access/users.service.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld, type Hit } from './test-support/browser.js';

const HOST = 'acme.test';
const PLATFORM = 'ops.test';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';

const view = (id: string, ua: string, path: string, title: string): Hit => ({ idsite: 1, _id: id, ua, url: `https://shop.example${path}`, action_name: title });
const HITS: readonly Hit[] = [
  view('a000000000000001', CHROME, '/', 'Home'),
  view('a000000000000001', CHROME, '/pricing', 'Pricing'),
  view('b000000000000002', FIREFOX, '/pricing', 'Pricing'),
  view('b000000000000002', FIREFOX, '/docs', 'Docs'),
  view('c000000000000003', CHROME, '/', 'Home'),
];

describe.skipIf(!haveBrowser)('collections and dashboards in the web interface', () => {
  let world: BrowserWorld;
  let dashboardUrl = '';

  beforeAll(async () => {
    world = await openBrowserWorld({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM });
    const { h } = world;
    await h.addTenant('acme', [HOST]);
    await h.addSite('acme', 'shop');
    await h.addUser('acme', 'ann', { superuser: true });
    await h.addUser('acme', 'vic');
    await h.asOperator('acme', (ctx) => setUserAccess(ctx, 'vic', 'view', [1]));
    await h.addPlatformUser('ops', { admin: true });
    await world.track(HOST, HITS);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  const main = (p: Page) => p.locator('main');
  /** A page whose waits fail after 20 s, naming the step, well before the test's own timeout. */
  /** Script errors on this area's pages (other areas' pages passed through on the way are their tests' business). */
  const ownErrors = () => world.pageErrors.filter((error) => /^https?:\/\/[^/]+\/(collections|dashboards)/.test(error));
  let current: Page | null = null;
  const open = async (viewport?: { width: number; height: number }) => {
    const p = await world.page(viewport);
    p.setDefaultTimeout(20_000);
    current = p;
    return p;
  };
  // A failed step leaves a picture of what the page showed.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && current) await world.shot(current, `workspace-failure-${context.task.name.slice(0, 30).replace(/\W+/g, '-')}`);
  });
  const menu = (p: Page, label: string) => p.locator(`summary[aria-label="${label}"]`);

  it('a tenant super user creates a dashboard and a saved report, sees their data, and moves the report into a sub-collection', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ann');
    await p.goto(world.url(HOST, '/collections'));
    await p.getByRole('heading', { name: 'Dashboards and collections', level: 1 }).waitFor();
    // The shell's "Dashboards" link leads here.
    expect(await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboards' }).getAttribute('aria-current')).toBe('page');
    await p.getByRole('heading', { name: 'Tenant', level: 2 }).waitFor();
    await p.getByRole('heading', { name: 'Personal', level: 2 }).waitFor();
    // A tenant user sees no internal collection, and here no shared one (nothing is granted yet).
    expect(await p.getByRole('heading', { name: 'Internal', level: 2 }).count()).toBe(0);

    // A sub-collection.
    await main(p).getByRole('link', { name: 'Our analytics' }).click();
    await p.getByRole('heading', { name: 'Our analytics', level: 1 }).waitFor();
    await p.getByRole('button', { name: 'New collection' }).click();
    const create = p.getByRole('dialog', { name: 'New collection in “Our analytics”' });
    await create.getByLabel('Name').fill('Marketing');
    await create.getByRole('button', { name: 'Create collection' }).click();
    await p.getByRole('heading', { name: 'Marketing', level: 1 }).waitFor();
    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Our analytics' }).click();
    await p.getByRole('heading', { name: 'Our analytics', level: 1 }).waitFor();

    // A dashboard with two widgets: visits over time (line) and the top pages (table).
    await p.getByRole('link', { name: 'New dashboard' }).click();
    await p.getByRole('heading', { name: 'New dashboard', level: 1 }).waitFor();
    await p.getByLabel('Name', { exact: true }).fill('Traffic');
    const first = p.getByRole('group', { name: 'Widget 1' });
    expect(await first.getByLabel('Title').inputValue()).toBe('Visits over time');
    expect(await first.getByLabel('Visualization').inputValue()).toBe('line');
    await p.getByRole('button', { name: 'Add widget' }).click();
    const second = p.getByRole('group', { name: 'Widget 2' });
    await second.getByLabel('Title').fill('Top pages');
    await second.getByLabel('Report', { exact: true }).selectOption('Actions.getPageUrls');
    await second.getByLabel('Visualization').selectOption('table');
    await second.getByLabel('Width').selectOption('12');
    await world.shot(p, 'dashboard-editor');
    await p.getByRole('button', { name: 'Create dashboard' }).click();
    await p.getByRole('heading', { name: 'Traffic', level: 1 }).waitFor();
    dashboardUrl = p.url();
    expect(dashboardUrl).toMatch(/\/dashboards\/[0-9a-f-]{36}/);

    const chart = p.getByRole('img', { name: /^Visits over time: Visits.* over time$/ });
    await chart.waitFor();
    await expect.poll(() => chart.locator('svg path').count()).toBeGreaterThan(2);
    const pages = p.getByRole('region', { name: 'Top pages' });
    await expect.poll(() => pages.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await pages.locator('tbody').textContent()).toContain('pricing');
    expect(await p.getByLabel('Site', { exact: true }).inputValue()).toBe('1');
    await world.shot(p, 'dashboard');

    // A saved report, drawn as bars.
    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Our analytics' }).click();
    await p.getByRole('link', { name: 'New saved report' }).click();
    await p.getByRole('heading', { name: 'New saved report', level: 1 }).waitFor();
    await p.getByLabel('Name', { exact: true }).fill('Browsers');
    await p.getByLabel('Report', { exact: true }).selectOption('DevicesDetection.getBrowsers');
    await p.getByLabel('Visualization').selectOption('bar');
    await p.getByRole('button', { name: 'Create saved report' }).click();
    await p.getByRole('heading', { name: 'Browsers', level: 1 }).waitFor();
    await p.getByRole('img', { name: /^Browsers: Visits by label$/ }).waitFor();
    await world.shot(p, 'saved-report');

    // Move it into the sub-collection.
    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Our analytics' }).click();
    await main(p).getByRole('link', { name: 'Browsers' }).waitFor();
    await world.shot(p, 'collection');
    // By keyboard: the row's menu button, its entries in tab order, Enter to choose.
    await menu(p, 'Actions for Browsers').focus();
    await p.keyboard.press('Enter');
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Edit');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Move…');
    await p.keyboard.press('Enter');
    const move = p.getByRole('dialog', { name: 'Move “Browsers”' });
    await move.getByLabel('Move into').selectOption({ label: 'Tenant: Our analytics › Marketing' });
    await move.getByRole('button', { name: 'Move', exact: true }).click();
    await expect.poll(() => p.getByRole('status').filter({ hasText: 'moved' }).count()).toBe(1);
    expect(await main(p).getByRole('link', { name: 'Browsers' }).count()).toBe(0);
    await main(p).getByRole('link', { name: 'Marketing' }).click();
    await p.getByRole('heading', { name: 'Marketing', level: 1 }).waitFor();
    await main(p).getByRole('link', { name: 'Browsers' }).waitFor();

    // A move into its own sub-collection is refused, with the server's reason.
    await p.getByRole('button', { name: 'New collection' }).click();
    await p.getByRole('dialog', { name: 'New collection in “Marketing”' }).getByLabel('Name').fill('Campaigns');
    await p.getByRole('button', { name: 'Create collection' }).click();
    await p.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Marketing' }).click();
    await p.getByRole('heading', { name: 'Marketing', level: 1 }).waitFor();
    await menu(p, 'Actions for collection Marketing').click();
    await p.getByRole('button', { name: 'Move…' }).click();
    const refuse = p.getByRole('dialog', { name: 'Move “Marketing”' });
    await refuse.getByLabel('Move into').selectOption({ label: 'Tenant: Our analytics › Marketing › Campaigns' });
    await refuse.getByRole('button', { name: 'Move', exact: true }).click();
    await expect.poll(() => refuse.getByRole('alert').textContent()).toContain('cannot be moved under itself');
    await world.shot(p, 'collections-move-refused');
    await refuse.getByRole('button', { name: 'Cancel' }).click();

    // Explain: why ann may curate it.
    await p.getByRole('button', { name: 'Explain why' }).click();
    await expect.poll(() => p.locator('.ws-facts').textContent()).toContain('users of tenant acme curate its collection');

    // Archive a collection, then delete it after a confirmation.
    await main(p).getByRole('link', { name: 'Campaigns' }).click();
    await p.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    await menu(p, 'Actions for collection Campaigns').click();
    await p.getByRole('button', { name: 'Archive' }).click();
    await expect.poll(() => p.getByRole('status').filter({ hasText: 'archived' }).count()).toBe(1);
    await menu(p, 'Actions for collection Campaigns').click();
    await p.getByRole('button', { name: 'Delete…' }).click();
    const confirm = p.getByRole('dialog', { name: 'Delete “Campaigns”?' });
    expect(await confirm.textContent()).toContain('cannot be undone');
    await confirm.getByRole('button', { name: 'Delete collection' }).click();
    await p.getByRole('heading', { name: 'Marketing', level: 1 }).waitFor();
    expect(await main(p).getByRole('link', { name: 'Campaigns' }).count()).toBe(0);

    await p.goto(world.url(HOST, '/collections'));
    await main(p).getByRole('link', { name: 'Marketing' }).waitFor();
    await world.shot(p, 'collections');
    expect(ownErrors()).toEqual([]);
  }, 180_000);

  it('shows the dashboard at phone width without sideways scrolling', async () => {
    const p = await open({ width: 375, height: 800 });
    await world.signIn(p, HOST, 'ann');
    await p.goto(dashboardUrl);
    await p.getByRole('img', { name: /^Visits over time/ }).waitFor();
    await expect.poll(() => p.getByRole('region', { name: 'Top pages' }).locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'dashboard-phone');
    // The collection page and the editor fit too.
    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Our analytics' }).click();
    await main(p).getByRole('link', { name: 'Traffic' }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'collection-phone');
    await main(p).getByRole('link', { name: 'Traffic' }).click();
    await p.getByRole('link', { name: 'Edit dashboard' }).click();
    await p.getByRole('group', { name: 'Widget 2' }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'dashboard-editor-phone');
    expect(ownErrors()).toEqual([]);
  }, 180_000);

  it('a platform admin on the platform host sees shared collections, creates a dashboard there and lets all tenant users view it', async () => {
    const p = await open();
    await world.signIn(p, PLATFORM, 'ops');
    await p.goto(world.url(PLATFORM, '/collections?kind=shared'));
    await p.getByRole('heading', { name: 'Shared collections', level: 1 }).waitFor();
    expect(await p.getByRole('heading', { name: 'Internal', level: 2 }).count()).toBe(0);
    await p.locator('.ws-tree').getByRole('link', { name: 'Shared' }).click();
    await p.getByRole('heading', { name: 'Shared', level: 1 }).waitFor();

    await p.getByRole('link', { name: 'New dashboard' }).click();
    await p.getByLabel('Name', { exact: true }).fill('Company overview');
    await p.getByRole('button', { name: 'Create dashboard' }).click();
    await p.getByRole('heading', { name: 'Company overview', level: 1 }).waitFor();
    // No tenant here: the page says where its data comes from instead of failing.
    await p.getByText('Dashboards run on a tenant’s data').waitFor();

    await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Shared' }).click();
    const permissions = p.getByRole('region', { name: 'Group permissions' });
    await permissions.getByLabel('Permission of All tenant users').waitFor();
    expect(await permissions.getByLabel('Permission of All tenant users').inputValue()).toBe('none');
    // Tenant groups may at most view a shared collection: Curate is not offered to them.
    expect(await permissions.getByLabel('Permission of All tenant users').locator('option').allTextContents()).toEqual(['No access', 'View']);
    await permissions.getByLabel('Permission of All tenant users').selectOption('view');
    await expect.poll(() => permissions.getByRole('status').textContent()).toContain('may now view this collection');
    expect(await permissions.getByLabel('Permission of All tenant users').inputValue()).toBe('view');
    await p.getByRole('button', { name: 'Explain why' }).click();
    await expect.poll(() => p.locator('.ws-facts').textContent()).toContain('platform_admin curates shared collections');
    await world.shot(p, 'collections-shared-permissions');

    // Acting inside acme, the admin curates both acme's collection and the shared ones, yet a
    // move of acme's dashboard into a shared collection is refused: other tenants would see it.
    await p.getByLabel('Acting in').selectOption('acme');
    await p.goto(world.url(PLATFORM, '/collections'));
    await main(p).getByRole('link', { name: 'Our analytics' }).click();
    await p.getByRole('heading', { name: 'Our analytics', level: 1 }).waitFor();
    await menu(p, 'Actions for Traffic').click();
    await p.getByRole('button', { name: 'Move…' }).click();
    const move = p.getByRole('dialog', { name: 'Move “Traffic”' });
    await move.getByLabel('Move into').selectOption({ label: 'Shared: Shared' });
    await move.getByRole('button', { name: 'Move', exact: true }).click();
    await expect.poll(() => move.getByRole('alert').textContent()).toContain('other tenants would see it');
    await world.shot(p, 'collections-move-widening-refused');
    expect(ownErrors()).toEqual([]);
  }, 180_000);

  it('a view-only user sees the shared dashboard with its own tenant’s data and no control to change it', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'vic');
    await p.goto(world.url(HOST, '/collections'));
    await p.getByRole('heading', { name: 'Shared', level: 2 }).waitFor();
    await p.locator('.ws-tree').getByRole('link', { name: 'Shared' }).click();
    await p.getByRole('heading', { name: 'Shared', level: 1 }).waitFor();
    await p.getByText('You may view this collection; only its curators change it.').waitFor();
    expect(await p.getByRole('link', { name: 'New dashboard' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'New collection' }).count()).toBe(0);
    await main(p).getByRole('link', { name: 'Company overview' }).click();
    await p.getByRole('heading', { name: 'Company overview', level: 1 }).waitFor();
    const chart = p.getByRole('img', { name: /^Visits over time/ });
    await chart.waitFor();
    await expect.poll(() => chart.locator('svg path').count()).toBeGreaterThan(2);
    expect(await p.getByRole('link', { name: /^Edit/ }).count()).toBe(0);
    expect(await menu(p, 'Actions for Company overview').count()).toBe(0);
    await world.shot(p, 'dashboard-view-only');

    // A viewer may copy it into a collection it curates; the copy is its tenant's to change.
    await p.getByRole('button', { name: 'Copy to my collections…' }).click();
    const copy = p.getByRole('dialog', { name: 'Copy “Company overview”' });
    await copy.getByLabel('Copy into').selectOption({ label: 'Tenant: Our analytics' });
    await copy.getByLabel('Name of the copy (optional)').fill('Our overview');
    await copy.getByRole('button', { name: 'Copy', exact: true }).click();
    await p.getByRole('heading', { name: 'Our overview', level: 1 }).waitFor();
    await p.getByRole('link', { name: 'Edit dashboard' }).waitFor();
    expect(await p.getByRole('navigation', { name: 'Breadcrumb' }).textContent()).toContain('Our analytics');
    expect(ownErrors()).toEqual([]);
  });
});

/**
 * The Reports area in a real browser: hits tracked through the tenant's /matomo.php,
 * then the overview, a core report (sorting, search, row evolution, export), the segment
 * editor (applied, saved, deleted), the real-time visitor log, the empty state of a site
 * without data, the sites a view-only user sees, a platform admin acting in the tenant,
 * and phone width.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { setUserAccess } from '../access/users.service.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld, type Hit } from './test-support/browser.js';

const HOST = 'shop.test';
const PLATFORM = 'ops.test';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';

const page = (id: string, ua: string, path: string, title: string, extra: Partial<Hit> = {}): Hit => ({
  idsite: 1,
  _id: id,
  ua,
  lang: 'en-us',
  res: '1920x1080',
  url: `https://store.example${path}`,
  action_name: title,
  ...extra,
});

// Four visits: search (Chrome), website (Firefox), direct (iPhone), campaign (Android).
const HITS: readonly Hit[] = [
  page('a000000000000001', CHROME_WINDOWS, '/', 'Home', { urlref: 'https://www.google.com/search?q=plura+shop' }),
  page('a000000000000001', CHROME_WINDOWS, '/pricing', 'Pricing'),
  { idsite: 1, _id: 'a000000000000001', ua: CHROME_WINDOWS, url: 'https://store.example/pricing', e_c: 'Video', e_a: 'Play', e_n: 'Intro' },
  page('b000000000000002', FIREFOX_LINUX, '/pricing', 'Pricing', { urlref: 'https://news.example.org/article', lang: 'de-de' }),
  page('b000000000000002', FIREFOX_LINUX, '/docs/start', 'Getting started', { lang: 'de-de' }),
  page('b000000000000002', FIREFOX_LINUX, '/docs/install', 'Install', { lang: 'de-de' }),
  page('c000000000000003', IPHONE, '/', 'Home', { res: '390x844', lang: 'fr-fr' }),
  page('d000000000000004', ANDROID, '/landing?mtm_campaign=spring', 'Spring sale', { res: '412x915' }),
];

describe.skipIf(!haveBrowser)('reports in the web interface', { timeout: 120_000 }, () => {
  let world: BrowserWorld;

  beforeAll(async () => {
    world = await openBrowserWorld({ PLURA_GENERAL_PLATFORM_HOST: PLATFORM });
    const { h } = world;
    await h.addTenant('shop', [HOST]);
    await h.addSite('shop', 'store');
    await h.addSite('shop', 'quiet');
    await h.addSite('shop', 'secret');
    await h.addUser('shop', 'ana', { superuser: true });
    await h.addUser('shop', 'vic');
    await h.asOperator('shop', (ctx) => setUserAccess(ctx, 'vic', 'view', [1, 2]));
    await h.addPlatformUser('ops', { admin: true });
    await world.track(HOST, HITS);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  // Actions wait at most 15 s (Playwright's library default is forever).
  const open = async (viewport?: { width: number; height: number }) => {
    const p = await world.page(viewport);
    p.setDefaultTimeout(15_000);
    return p;
  };
  // Reports are archived on first use: give answers a few seconds (vitest's default is one).
  const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 10_000 });
  const kpi = (p: Page, name: string) => p.locator('.kpi').filter({ has: p.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd');
  const firstColumn = (p: Page) => p.locator('.data-table tbody tr td:first-child .row-label-text').allTextContents();

  it('opens the first site and shows the visits summary and visits over time', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports'));
    await p.waitForURL(/\/reports\/1(\?|$)/);
    await poll(() => kpi(p, 'Visits').textContent()).toBe('4');
    expect(await kpi(p, 'Actions').textContent()).toBe('8');
    expect(await kpi(p, 'Unique visitors').textContent()).toBe('4');
    expect(await kpi(p, 'Bounce rate').textContent()).toBe('50%');
    expect(await p.getByLabel('Site', { exact: true }).inputValue()).toBe('1');
    expect(await p.getByLabel('Period', { exact: true }).inputValue()).toBe('day');
    const chart = p.getByRole('img', { name: /Visits over time: Visits from/ });
    await chart.waitFor();
    await poll(() => chart.locator('svg path').count()).toBeGreaterThan(0);
    // Every control is labelled and reachable: the report menu is a list of links.
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Page URLs' }).waitFor();
    await p.getByRole('table', { name: /Top page urls/ }).waitFor();
    // Every form control of the page has a label (a <label>, or aria-label where a label cannot be shown).
    const unlabelled = await p.evaluate(() =>
      Array.from(document.querySelectorAll('main input, main select, main textarea')).filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute('aria-label')).map((e) => e.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    await world.shot(p, 'reports-overview');

    // Period and date go to the URL; month shows the same visits, the back button returns.
    await p.getByLabel('Period', { exact: true }).selectOption('month');
    await p.waitForURL(/period=month/);
    await poll(() => kpi(p, 'Visits').textContent()).toBe('4');
    await p.goBack();
    await p.waitForURL((url) => !url.search.includes('period=month'));
    await p.getByRole('button', { name: 'Yesterday' }).click();
    await p.waitForURL(/date=yesterday/);
    await poll(() => kpi(p, 'Visits').textContent()).toBe('0');
  });

  it('shows page URLs as a sortable, searchable table with row evolution and exports of the API data', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/1'));
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Page URLs' }).click();
    await p.waitForURL(/\/reports\/1\/pages\?/);
    const table = p.locator('.data-table table');
    await table.waitFor();
    expect(await table.locator('caption').textContent()).toContain('Page URLs');
    await poll(() => firstColumn(p)).toContain('/pricing');
    const labels = await firstColumn(p);
    expect(labels.includes('docs/start')).toBe(true);
    // Sorted by pageviews first: / and /pricing (2 pageviews each) lead.
    expect(labels.slice(0, 2).sort()).toEqual(['/index', '/pricing']);

    await p.getByRole('button', { name: 'Page URL', exact: true }).click();
    expect(await p.getByRole('columnheader', { name: /Page URL/ }).getAttribute('aria-sort')).toBe('ascending');
    const ascending = await firstColumn(p);
    expect(ascending).toEqual([...ascending].sort((a, b) => a.localeCompare(b)));
    await p.getByRole('button', { name: 'Page URL', exact: true }).click();
    expect(await firstColumn(p)).toEqual([...ascending].reverse());

    // Sorting works from the keyboard too.
    await p.getByRole('button', { name: 'Pageviews', exact: true }).focus();
    await p.keyboard.press('Enter');
    expect(await p.getByRole('columnheader', { name: /Pageviews/ }).getAttribute('aria-sort')).toBe('descending');

    await p.getByRole('searchbox').fill('docs');
    await poll(() => firstColumn(p)).toHaveLength(2);
    expect((await firstColumn(p)).every((l) => l.includes('docs'))).toBe(true);
    await world.shot(p, 'reports-table');
    await p.getByRole('searchbox').fill('');

    // Row evolution: the same report for the last 30 days, for this row only.
    await p.getByRole('button', { name: 'Row evolution of /pricing' }).click();
    const dialog = p.getByRole('dialog', { name: 'Row evolution: /pricing' });
    await dialog.waitFor();
    await dialog.getByRole('img', { name: /Evolution of \/pricing: Pageviews/ }).waitFor();
    await dialog.getByText('Show the numbers').click();
    await world.shot(p, 'reports-row-evolution');
    await poll(() => dialog.locator('tbody tr').count()).toBe(30);
    expect(await dialog.locator('tbody tr').last().locator('td').last().textContent()).toBe('2');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Export: the links answer exactly what the Matomo API answers.
    const csvHref = await p.getByRole('link', { name: 'CSV' }).getAttribute('href');
    const jsonHref = await p.getByRole('link', { name: 'JSON' }).getAttribute('href');
    expect(csvHref).toContain('method=Actions.getPageUrls');
    expect(csvHref).toContain('filter_limit=-1');
    expect(await p.getByRole('link', { name: 'CSV' }).getAttribute('download')).toMatch(/\.csv$/);
    // Fetched by the page itself (its session cookie, its *.test host resolution).
    const fetchText = (href: string) =>
      p.evaluate(async (url) => {
        const response = await fetch(url, { credentials: 'same-origin' });
        const bytes = new Uint8Array(await response.arrayBuffer());
        // Matomo's CSV is UTF-16LE with a byte order mark (convertToUnicode=1), as spreadsheets want it.
        const text = bytes[0] === 0xff && bytes[1] === 0xfe ? new TextDecoder('utf-16le').decode(bytes.subarray(2)) : new TextDecoder().decode(bytes);
        return { status: response.status, type: response.headers.get('content-type') ?? '', text };
      }, href);
    const csv = await fetchText(csvHref ?? '');
    expect(csv.status).toBe(200);
    // Matomo answers CSV as application/vnd.ms-excel (so spreadsheets open it).
    expect(csv.type).toMatch(/csv|ms-excel/);
    expect(csv.text.split('\n')[0]).toContain('label');
    expect(csv.text).toContain('/pricing');
    const json = JSON.parse((await fetchText(jsonHref ?? '')).text) as { label: string; nb_hits: number }[];
    expect(json.find((row) => row.label === '/pricing')?.nb_hits).toBe(2);
    const api = JSON.parse((await fetchText('/index.php?module=API&method=Actions.getPageUrls&idSite=1&period=day&date=today&flat=1&filter_limit=-1&format=json')).text) as unknown;
    expect(json).toEqual(api);
  });

  it('narrows every report with the segment editor, and saves and deletes segments', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/1'));
    await poll(() => kpi(p, 'Visits').textContent()).toBe('4');

    await p.getByRole('button', { name: 'Add segment' }).click();
    const dialog = p.getByRole('dialog', { name: 'Segment editor' });
    await dialog.getByLabel('Dimension 1').selectOption('browserName');
    await dialog.getByLabel('Operator 1').selectOption('==');
    await dialog.getByLabel('Value 1').fill('Firefox');
    expect(await dialog.getByLabel('Segment definition').inputValue()).toBe('browserName==Firefox');
    await dialog.getByRole('button', { name: 'Add condition' }).click();
    await dialog.getByLabel('Join 2').selectOption('or');
    await dialog.getByLabel('Dimension 2').selectOption('pageUrl');
    await dialog.getByLabel('Operator 2').selectOption('=@');
    await dialog.getByLabel('Value 2').fill('/landing?mtm');
    // Values are URL-encoded inside the definition, as Matomo expects.
    expect(await dialog.getByLabel('Segment definition').inputValue()).toBe('browserName==Firefox,pageUrl=@%2Flanding%3Fmtm');
    await world.shot(p, 'reports-segment-editor');
    await dialog.getByRole('button', { name: 'Apply segment' }).click();
    await p.waitForURL(/segment=/);
    expect(new URL(p.url()).searchParams.get('segment')).toBe('browserName==Firefox,pageUrl=@%2Flanding%3Fmtm');
    await poll(() => kpi(p, 'Visits').textContent()).toBe('2');

    // Only the Firefox visit now.
    await p.getByRole('button', { name: 'Edit segment' }).click();
    await dialog.getByRole('button', { name: 'Remove condition 2' }).click();
    await dialog.getByRole('button', { name: 'Apply segment' }).click();
    await poll(() => kpi(p, 'Visits').textContent()).toBe('1');
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Page URLs' }).click();
    await poll(async () => (await firstColumn(p)).length).toBe(3);
    expect(await firstColumn(p)).not.toContain('/');
    expect(new URL(p.url()).searchParams.get('segment')).toBe('browserName==Firefox');

    // Saved with SegmentEditor.add (POST with the CSRF token), then picked from the list, then deleted.
    await p.getByRole('button', { name: 'Edit segment' }).click();
    await dialog.getByLabel('Name').fill('Firefox users');
    await dialog.getByRole('button', { name: 'Save segment' }).click();
    await dialog.getByText('Firefox users').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await p.getByRole('button', { name: 'Clear segment' }).click();
    await p.waitForURL((url) => !url.searchParams.has('segment'));
    await poll(async () => (await firstColumn(p)).length).toBe(5);
    await p.getByLabel('Saved', { exact: true }).selectOption({ label: 'Firefox users' });
    await poll(async () => (await firstColumn(p)).length).toBe(3);
    expect(await p.locator('.segment-current').textContent()).toContain('Firefox users');
    await p.getByRole('button', { name: 'Edit segment' }).click();
    await dialog.getByRole('button', { name: 'Delete Firefox users' }).click();
    await dialog.getByText('No saved segments yet.').waitFor();
  });

  it('lists the visits in the real-time visitor log with their actions', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/1/visitor-log'));
    const visits = p.getByRole('list', { name: 'Visits, latest first' }).locator(':scope > li');
    await poll(() => visits.count()).toBe(4);
    await poll(() => kpi(p, 'Visits').first().textContent()).toBe('4');
    const firefox = visits.filter({ hasText: 'Firefox' });
    expect(await firefox.textContent()).toContain('Website: news.example.org');
    await firefox.getByText('3 actions').click();
    expect(await firefox.locator('.visit-actions li').count()).toBe(3);
    expect(await firefox.locator('.visit-actions').textContent()).toContain('/docs/install');
    await world.shot(p, 'reports-visitor-log');
    const chrome = visits.filter({ hasText: 'Windows' });
    expect(await chrome.textContent()).toContain('Search: Google');
  });

  it('shows the other core reports and goals', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/1/channels'));
    await poll(() => firstColumn(p)).toEqual(expect.arrayContaining(['Search Engines', 'Websites', 'Direct Entry', 'Campaigns']));
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Browsers' }).click();
    await poll(() => firstColumn(p)).toEqual(expect.arrayContaining(['Firefox', 'Chrome']));
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Event categories' }).click();
    await poll(() => firstColumn(p)).toEqual(['Video']);
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Goals', exact: true }).click();
    await p.getByText('No goals are set up for this site.').waitFor();
    expect(await kpi(p, 'Conversions').textContent()).toBe('0');
  });

  it('shows how to install the tracking code for a site without data', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/2'));
    await p.getByRole('heading', { name: 'No data yet for quiet' }).waitFor();
    const snippet = await p.locator('pre.tracking-snippet').textContent();
    expect(snippet).toContain('_paq');
    expect(snippet).toContain("'setSiteId', '2'");
    expect(snippet).not.toContain('&quot;');
    await p.getByRole('button', { name: 'Copy the tracking code' }).waitFor();
    await p.goto(world.url(HOST, '/reports/2/pages'));
    await p.getByRole('heading', { name: 'No data yet for quiet' }).waitFor();
  });

  it('offers a view-only user the sites it may view, and nothing else', async () => {
    const p = await open();
    await world.signIn(p, HOST, 'vic');
    await p.goto(world.url(HOST, '/reports'));
    await p.waitForURL(/\/reports\/1/);
    await poll(() => p.getByLabel('Site', { exact: true }).locator('option').allTextContents()).toEqual(['store', 'quiet']);
    await p.goto(world.url(HOST, '/reports/3'));
    await p.getByText('Site 3 does not exist or you may not view it.').waitFor();
  });

  it('works the same for a platform admin acting in the tenant', async () => {
    const p = await open();
    await world.signIn(p, PLATFORM, 'ops');
    await p.getByLabel('Acting in').selectOption('shop');
    await p.goto(world.url(PLATFORM, '/reports'));
    await p.waitForURL(/\/reports\/1/);
    await poll(() => kpi(p, 'Visits').textContent()).toBe('4');
    await p.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Page URLs' }).click();
    await poll(() => firstColumn(p)).toContain('/pricing');
    // Saving a segment is a POST with the session's CSRF token, in the tenant acted in.
    await p.getByRole('button', { name: 'Add segment' }).click();
    const dialog = p.getByRole('dialog', { name: 'Segment editor' });
    await dialog.getByLabel('Value 1').fill('/docs');
    await dialog.getByLabel('Name').fill('Docs readers');
    await dialog.getByRole('button', { name: 'Save segment' }).click();
    await dialog.getByText('Docs readers').waitFor();
    await dialog.getByRole('button', { name: 'Apply Docs readers' }).click();
    // An action condition: page reports count the matching actions only.
    await poll(async () => (await firstColumn(p)).sort()).toEqual(['docs/install', 'docs/start']);
    expect(world.pageErrors).toEqual([]);
  });

  it('fits a phone screen', async () => {
    const p = await open({ width: 375, height: 800 });
    await world.signIn(p, HOST, 'ana');
    await p.goto(world.url(HOST, '/reports/1/pages'));
    await poll(() => firstColumn(p)).toContain('/pricing');
    // The report menu is a labelled select here.
    expect(await p.getByLabel('Report', { exact: true }).inputValue()).toBe('pages');
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'reports-phone');
    await p.getByLabel('Report', { exact: true }).selectOption('');
    await poll(() => kpi(p, 'Visits').textContent()).toBe('4');
    await poll(() => p.getByRole('img', { name: /Visits over time/ }).locator('svg path').count()).toBeGreaterThan(0);
    await p.getByRole('table', { name: /Top page urls/ }).waitFor();
    await p.waitForTimeout(400);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'reports-phone-overview');
    await p.getByLabel('Report', { exact: true }).selectOption('visitor-log');
    await poll(() => p.locator('.visit').count()).toBe(4);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await world.shot(p, 'reports-phone-visitor-log');
    await p.getByRole('button', { name: 'Add segment' }).click();
    const dialog = p.getByRole('dialog', { name: 'Segment editor' });
    await dialog.getByLabel('Value 1').fill('/pricing');
    const box = await dialog.boundingBox();
    expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 999) <= 375).toBe(true);
    await p.screenshot({ path: 'test-results/reports-phone-segment.png' });
    await dialog.getByRole('button', { name: 'Apply segment' }).click();
    await poll(() => p.locator('.visit').count()).toBe(2);
    expect(world.pageErrors).toEqual([]);
  });
});

/**
 * Browser tests of the web interface: the client built by Vite into a temporary folder,
 * a real server listening on loopback with real tenants and data, and Debian's Chromium
 * driven by playwright-core. Host names under `.test` resolve to 127.0.0.1 inside the
 * browser, so each tenant is reached at its own host as in production.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { openHarness, TEST_PASSWORD, type Harness } from '../../http/test-support/harness.js';

export const CHROMIUM = process.env.PLURA_CHROMIUM ?? '/usr/bin/chromium';
export const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`Chromium is needed for the browser tests and was not found at ${CHROMIUM} (apt-get install chromium).`);
if (!haveBrowser) console.warn(`browser tests: ${CHROMIUM} not found; they are skipped (CI installs chromium).`);

export const SCREENSHOTS = 'test-results';

/** Builds the web client into a fresh temporary folder (about two seconds). */
export async function buildClient(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'plura-web-'));
  await build({ configFile: resolve('vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export interface Hit {
  readonly idsite: number;
  readonly url: string;
  readonly action_name?: string;
  readonly urlref?: string;
  readonly _id?: string;
  readonly ua?: string;
  readonly cdt?: string;
  readonly [param: string]: string | number | undefined;
}

export interface BrowserWorld {
  readonly h: Harness;
  readonly browser: Browser;
  readonly port: number;
  /** `http://<host>:<port><path>`. */
  url(host: string, path?: string): string;
  /** A page in a fresh context (its own cookies), at 1280×800 unless told otherwise. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  /** Signs in through the login page at `host` and waits for the signed-in shell. */
  signIn(page: Page, host: string, login: string, password?: string): Promise<void>;
  /** Saves `test-results/<name>.png`. */
  shot(page: Page, name: string): Promise<void>;
  /** Tracks hits through the real tracking endpoint of `host` (bulk request), acknowledged before it returns. */
  track(host: string, hits: readonly Hit[], tokenAuth?: string): Promise<void>;
  /** Errors the pages threw (uncaught exceptions, console errors): a test asserts it stays empty. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Opens a platform (temporary data directory, `env` as settings) listening on 127.0.0.1,
 * with the built client and a headless Chromium. Set up tenants, sites and users with
 * `world.h` (the same harness the HTTP tests use).
 */
export async function openBrowserWorld(env: Record<string, string> = {}): Promise<BrowserWorld> {
  const webDir = await buildClient();
  const h = await openHarness(env, { webDir });
  const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(address).port);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP *.test 127.0.0.1'],
  });
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  mkdirSync(SCREENSHOTS, { recursive: true });

  return {
    h,
    browser,
    port,
    pageErrors,
    url: (host, path = '/') => `http://${host}:${port}${path}`,
    async page(viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      // A missing element fails its own step, naming it, well before the test's time runs out.
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        // Refused API calls log a console error by design of the browser; only script errors count.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(`${page.url()}: ${message.text()}`);
      });
      return page;
    },
    async signIn(page, host, login, password = TEST_PASSWORD) {
      await page.goto(`http://${host}:${port}/login`);
      await page.getByLabel('Login or email').fill(login);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      try {
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
      } catch (error) {
        // Say what the page said instead of only that the shell never came.
        await page.screenshot({ path: join(SCREENSHOTS, `sign-in-failed-${login}.png`) }).catch(() => undefined);
        const said = await page.locator('[role=alert], [role=status]').allTextContents().catch(() => []);
        throw new Error(`signing in as ${login} at ${host} failed at ${page.url()}; the page said: ${said.join(' | ') || '(nothing)'}; page errors: ${pageErrors.join(' | ') || '(none)'}`, { cause: error });
      }
    },
    async shot(page, name) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async track(host, hits, tokenAuth) {
      const requests = hits.map((hit) => {
        const params = new URLSearchParams({ rec: '1', apiv: '1', send_image: '0' });
        for (const [key, value] of Object.entries(hit)) if (value !== undefined) params.set(key, String(value));
        return `?${params.toString()}`;
      });
      const response = await h.app.inject({
        method: 'POST',
        url: '/matomo.php',
        headers: { host, 'content-type': 'application/json' },
        payload: { requests, ...(tokenAuth ? { token_auth: tokenAuth } : {}) },
      });
      const body = response.json<{ status: string; tracked: number; invalid: number }>();
      if (response.statusCode !== 200 || body.invalid > 0) throw new Error(`tracking failed: ${response.statusCode} ${response.body}`);
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await h.close();
      rmSync(webDir, { recursive: true, force: true });
    },
  };
}

/**
 * Reports on a large site, against a baseline measured in the same run:
 * - generates a site with BENCH_REPORT_HITS hits (10 million by default) over one
 *   year, with a realistic spread of pages, titles, referrers, devices, countries,
 *   events, downloads, outlinks, searches and goal conversions, written straight
 *   into the tenant store (the tracking bench measures ingestion);
 * - archives the whole year (`archiveTenant`, what `plura core:archive` runs) and
 *   prints hits archived per second;
 * - archives one day of BENCH_REPORT_DAY_HITS hits (1 million) on a second site
 *   (target ≤ 10 s on one core);
 * - starts `plura serve` and measures request latency, p50 and p95, of
 *   API.getMatomoVersion (the baseline: token check and rendering only),
 *   VisitsSummary.get for the year (target p50 ≤ 20 ms), Actions.getPageUrls for a
 *   month (target p50 ≤ 100 ms) and a segmented VisitsSummary.get for a month once
 *   its archive exists (its first, archiving request is printed too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledQuery } from 'kysely';
import { identityDbFor } from '../src/access/context.js';
import { identityStore } from '../src/access/identity.store.js';
import { createToken } from '../src/access/tokens.js';
import { createUser } from '../src/access/users.service.js';
import { openPlatform, type Platform } from '../src/platform/platform.js';
import { archiveScopeFor, archiveTenant } from '../src/reports/archive-runner.js';
import { recordsOf } from '../src/reports/archiver.js';
import { addDays, dayRange, periodOf } from '../src/reports/periods.js';
import { createSite } from '../src/sites/sites-access.service.js';
import type { TenantStore } from '../src/storage/tenant-stores.js';
import type { Tenant } from '../src/tenancy/tenant.js';
import { freePort } from '../src/http/test-support/free-port.js';
import { seededRandom } from '../src/reports/test-support/random.js';

const HITS = Number(process.env.BENCH_REPORT_HITS ?? 10_000_000);
const DAY_HITS = Number(process.env.BENCH_REPORT_DAY_HITS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REPORT_REQUESTS ?? 50);
const YEAR = '2025';
const TIMEZONE = 'Europe/Berlin';

const next = seededRandom(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
/** Skewed towards the first items, as page popularity is. */
const zipf = <T>(items: readonly T[]): T => items[Math.floor(items.length * next() ** 3)]!;

const DEVICES = [
  ['desktop', '', '', 'Windows', '10', 'Chrome', '120.0'],
  ['desktop', 'Apple', '', 'Mac', '14.1', 'Safari', '17.1'],
  ['desktop', '', '', 'GNU/Linux', '', 'Firefox', '121.0'],
  ['smartphone', 'Apple', 'iPhone', 'iOS', '17.1', 'Mobile Safari', '17.1'],
  ['smartphone', 'Samsung', 'Galaxy S23', 'Android', '14', 'Chrome Mobile', '120.0'],
  ['tablet', 'Apple', 'iPad', 'iOS', '17.1', 'Mobile Safari', '17.1'],
  ['smartphone', 'Xiaomi', 'Redmi Note 12', 'Android', '13', 'Chrome Mobile', '119.0'],
] as const;
const REFERRERS = [
  ['direct', '', '', ''],
  ['direct', '', '', ''],
  ['search', 'Google', 'garden tools', 'https://www.google.com/'],
  ['search', 'Google', '', 'https://www.google.com/'],
  ['search', 'Bing', 'rake', 'https://www.bing.com/'],
  ['website', 'blog.partner.example', '', 'https://blog.partner.example/post/1'],
  ['website', 'news.example', '', 'https://news.example/a'],
  ['social', 'Facebook', '', 'https://www.facebook.com/'],
  ['campaign', 'spring-sale', 'newsletter', ''],
] as const;
const COUNTRIES = ['de', 'de', 'de', 'fr', 'us', 'gb', 'at', 'ch', 'nl', 'it'];
const LANGUAGES = ['de-de', 'de-de', 'en-us', 'fr-fr', 'en-gb'];
const RESOLUTIONS = ['1920x1080', '1366x768', '390x844', '2560x1440', '1536x864'];

const visitColumns = ['id', 'site_id', 'visitor_id', 'user_id', 'visit_number', 'first_action_at', 'last_action_at', 'actions', 'pageviews', 'entry_url_id', 'exit_url_id', 'goals_converted', 'revenue', 'referrer_type', 'referrer_name', 'referrer_keyword', 'referrer_url', 'campaign_name', 'campaign_keyword', 'device_type', 'device_brand', 'device_model', 'os_name', 'os_version', 'browser_name', 'browser_version', 'language', 'country', 'region', 'city', 'resolution', 'local_time', 'ip', 'cookie_enabled'] as const;
const actionColumns = ['visit_id', 'site_id', 'at', 'type', 'url_id', 'title_id', 'search_keyword', 'event_category', 'event_action', 'event_name', 'event_value'] as const;

/** Writes hits for `days` straight into the store: visits, actions, conversions; returns the number of hits. */
async function generate(store: TenantStore, siteId: number, days: readonly string[], hitsPerDay: number, firstVisitId: number, names: { urls: number[]; titles: number[] }): Promise<{ hits: number; lastVisitId: number }> {
  const direct = store.direct;
  if (!direct) throw new Error('the reports bench writes through SQLite directly');
  const visitSql = `insert into "visit" (${visitColumns.map((c) => `"${c}"`).join(', ')}) values (${visitColumns.map(() => '?').join(', ')})`;
  const actionSql = `insert into "visit_action" (${actionColumns.map((c) => `"${c}"`).join(', ')}) values (${actionColumns.map(() => '?').join(', ')})`;
  const conversionSql = 'insert into "conversion" ("visit_id", "site_id", "goal_id", "at", "revenue") values (?, ?, ?, ?, ?)';
  let visitId = firstVisitId;
  let hits = 0;
  for (const day of days) {
    const [start] = dayRange(TIMEZONE, day);
    await store.db.transaction().execute(async () => {
      let dayHits = 0;
      while (dayHits < hitsPerDay) {
        visitId += 1;
        const count = next() < 0.35 ? 1 : 2 + Math.floor(next() * 8);
        const device = pick(DEVICES);
        const referrer = pick(REFERRERS);
        let at = start + Math.floor(next() * (86_400 - 3_600));
        const first = at;
        const visitor = Math.floor(next() ** 2 * 400_000).toString(16).padStart(16, '0');
        const entry = zipf(names.urls);
        let exit = entry;
        for (let i = 0; i < count; i += 1) {
          const roll = i === 0 ? 0 : next();
          const type = roll < 0.85 ? 'pageview' : roll < 0.9 ? 'event' : roll < 0.93 ? 'download' : roll < 0.96 ? 'outlink' : 'search';
          const url = i === 0 ? entry : zipf(names.urls);
          if (type === 'pageview') exit = url;
          direct.run(actionSql, [visitId, siteId, at, type, type === 'search' || type === 'event' ? null : url, type === 'pageview' ? zipf(names.titles) : null, type === 'search' ? pick(['rake', 'shovel', 'gloves', 'seeds']) : null, type === 'event' ? 'Video' : null, type === 'event' ? pick(['Play', 'Pause', 'Finish']) : null, type === 'event' ? 'Intro' : null, type === 'event' ? 3 : null]);
          at += 20 + Math.floor(next() * 200);
        }
        const converted = next() < 0.03 ? 1 : 0;
        if (converted) direct.run(conversionSql, [visitId, siteId, 1, at, 10]);
        const hour = String(Math.floor(((first - start) / 3600 + 1) % 24)).padStart(2, '0');
        direct.run(visitSql, [visitId, siteId, visitor, null, 1, first, at - 20, count, count, entry, exit, converted, converted * 10, referrer[0], referrer[1], referrer[2], referrer[3], referrer[0] === 'campaign' ? referrer[1] : '', referrer[0] === 'campaign' ? referrer[2] : '', device[0], device[1], device[2], device[3], device[4], device[5], device[6], pick(LANGUAGES), pick(COUNTRIES), '', '', pick(RESOLUTIONS), `${hour}:10:00`, '192.0.2.0', 1]);
        dayHits += count;
      }
      hits += dayHits;
    });
  }
  return { hits, lastVisitId: visitId };
}

async function dictionary(store: TenantStore): Promise<{ urls: number[]; titles: number[] }> {
  const urls: number[] = [];
  const titles: number[] = [];
  const folders = ['shop', 'blog', 'help', 'garden', 'tools', 'about', 'news', 'account'];
  for (let i = 0; i < 2000; i += 1) {
    const path = i === 0 ? '/' : `/${pick(folders)}/${i % 3 === 0 ? `${pick(folders)}/` : ''}page-${i}${i % 10 === 0 ? '?ref=nav' : ''}`;
    const url = await store.db.insertInto('action_name').values({ kind: 'url', hash: `u${i}`, name: `https://bench.example${path}` }).returning('id').executeTakeFirstOrThrow();
    const title = await store.db.insertInto('action_name').values({ kind: 'title', hash: `t${i}`, name: `Page ${i} - Bench` }).returning('id').executeTakeFirstOrThrow();
    urls.push(url.id);
    titles.push(title.id);
  }
  return { urls, titles };
}

async function prepare(dataDir: string): Promise<{ token: string; hits: number; archiveSeconds: number; daySeconds: number; dayHits: number; generateSeconds: number }> {
  const platform: Platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
  try {
    const tenant: Tenant = await platform.tenants.create({ slug: 'bench', hosts: ['localhost', '127.0.0.1'] });
    return await platform.withStore(tenant, async (store) => {
      const ctx = { platform, scope: { kind: 'tenant', tenant, store } as const, actor: { kind: 'system', name: 'bench' } as const, ip: null };
      await createSite(ctx, { name: 'big', urls: ['https://bench.example'], timezone: TIMEZONE });
      await createSite(ctx, { name: 'one big day', urls: ['https://day.bench.example'], timezone: TIMEZONE });
      await createUser(ctx, { login: 'analyst', email: 'analyst@bench.example', password: 'bench password 123', superuser: true });
      const db = identityDbFor(platform, ctx.scope);
      const user = await identityStore.findUserByLogin(db, 'analyst');
      if (!user) throw new Error('user missing');
      const token = (await createToken(db, platform.secret, user.id, { description: 'bench' })).token;

      let started = performance.now();
      const names = await dictionary(store);
      const days: string[] = [];
      for (let day = `${YEAR}-01-01`; day <= `${YEAR}-12-31`; day = addDays(day, 1)) days.push(day);
      const year = await generate(store, 1, days, Math.ceil(HITS / days.length), 0, names);
      const oneDay = await generate(store, 2, [`${YEAR}-06-15`], DAY_HITS, year.lastVisitId, names);
      await store.db.executeQuery(CompiledQuery.raw('analyze'));
      const generateSeconds = (performance.now() - started) / 1000;
      console.log(`generated ${year.hits.toLocaleString('en')} hits over ${YEAR} and ${oneDay.hits.toLocaleString('en')} hits on one day in ${generateSeconds.toFixed(1)} s`);

      started = performance.now();
      // BENCH_REPORT_SKIP_YEAR=1 leaves the year out (to profile the one-day build alone).
      if (process.env.BENCH_REPORT_SKIP_YEAR !== '1') await archiveTenant(platform, tenant, { siteIds: [1], dateRange: [`${YEAR}-01-01`, `${YEAR}-12-31`] });
      const archiveSeconds = (performance.now() - started) / 1000;

      started = performance.now();
      await recordsOf(archiveScopeFor(platform, tenant, store, { id: 2, timezone: TIMEZONE }), periodOf('day', `${YEAR}-06-15`), null, []);
      const daySeconds = (performance.now() - started) / 1000;
      return { token, hits: year.hits, archiveSeconds, daySeconds, dayHits: oneDay.hits, generateSeconds };
    });
  } finally {
    await platform.close();
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host: 'localhost' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function latency(url: string): Promise<{ p50: number; p95: number; first: number }> {
  const times: number[] = [];
  let first = 0;
  for (let i = 0; i < REQUESTS + 1; i += 1) {
    const started = performance.now();
    const response = await get(url);
    const ms = performance.now() - started;
    if (response.status !== 200 || response.body.includes('"result":"error"')) throw new Error(`${url} failed: ${response.status} ${response.body.slice(0, 300)}`);
    if (i === 0) first = ms;
    else times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)] ?? 0, p95: times[Math.floor(times.length * 0.95)] ?? 0, first };
}

export async function runReportsBench(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plura-bench-reports-'));
  let child: ChildProcess | undefined;
  try {
    const prepared = await prepare(dataDir);
    const port = await freePort();
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', main, '--data-dir', dataDir, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'error', PLURA_GENERAL_CREATE_DEMO_TENANT: '0', PLURA_GENERAL_ARCHIVING_INTERVAL_SECONDS: '0' },
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600 && !(await get(`${base}/healthz`).then(() => true, () => false)); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    const api = (query: string) => `${base}/index.php?module=API&format=json&token_auth=${prepared.token}&${query}`;

    const baseline = await latency(api('method=API.getMatomoVersion'));
    const year = await latency(api(`method=VisitsSummary.get&idSite=1&period=year&date=${YEAR}-06-01`));
    const pages = await latency(api(`method=Actions.getPageUrls&idSite=1&period=month&date=${YEAR}-06-01`));
    const segmented = await latency(api(`method=VisitsSummary.get&idSite=1&period=month&date=${YEAR}-06-01&segment=${encodeURIComponent('deviceType==smartphone;referrerType==search')}`));

    const ms = (value: number): string => `${value.toFixed(1)} ms`.padStart(10);
    console.log(`archived ${prepared.hits.toLocaleString('en')} hits (one year: days, weeks, months, the year) in ${prepared.archiveSeconds.toFixed(1)} s = ${Math.round(prepared.hits / prepared.archiveSeconds).toLocaleString('en')} hits/s`);
    console.log(`one day of ${prepared.dayHits.toLocaleString('en')} hits archived in ${prepared.daySeconds.toFixed(2)} s (target ≤ 10 s on one core)`);
    console.log(`latency over ${REQUESTS} sequential requests each      p50        p95`);
    console.log(`API.getMatomoVersion (baseline)            ${ms(baseline.p50)} ${ms(baseline.p95)}`);
    console.log(`VisitsSummary.get, year                    ${ms(year.p50)} ${ms(year.p95)}   (target p50 ≤ 20 ms)`);
    console.log(`Actions.getPageUrls, month                 ${ms(pages.p50)} ${ms(pages.p95)}   (target p50 ≤ 100 ms)`);
    console.log(`VisitsSummary.get, month, segmented        ${ms(segmented.p50)} ${ms(segmented.p95)}   (its first request, which archived the segment: ${segmented.first.toFixed(0)} ms)`);
  } finally {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

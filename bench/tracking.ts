/**
 * Tracking throughput, each figure against a baseline measured in the same run:
 * - single hits (GET /matomo.php over keep-alive, acknowledged only once committed)
 *   vs. a no-op Node HTTP server answering the same requests, same load tool and
 *   concurrency (target ≥ 0.5);
 * - bulk: POST 1,000 hits per request, hits/s stored (target ≥ 100,000/s);
 * - single hits spread over 1,000 tenants vs. one tenant (target ≥ 0.8).
 * Plura runs in a child process (`plura serve`); the no-op server in another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { openPlatform } from '../src/platform/platform.js';
import { identityDbFor } from '../src/access/context.js';
import { identityStore } from '../src/access/identity.store.js';
import { createToken } from '../src/access/tokens.js';
import { createUser } from '../src/access/users.service.js';
import { createSite } from '../src/sites/sites-access.service.js';
import { freePort } from '../src/http/test-support/free-port.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/**
 * Untimed load right before each timed one, longer than the batching interval
 * (Tracker.group_commit_interval_ms, 3 s by default): the applier is then already
 * writing earlier hits while the timed load runs, as it would under sustained
 * traffic, instead of leaving the timed hits' work until after the clock stops.
 */
const PRELOAD_SECONDS = Number(process.env.BENCH_PRELOAD_SECONDS ?? 4);
/** Which cases to run (all by default): `single`, `bulk`, `tenants`; for profiling one of them. */
const CASES = new Set((process.env.BENCH_CASES ?? 'single,bulk,tenants').split(','));
/** Extra node flags for the Plura child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const benchEnv: Record<string, string> = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

/** Creates the tenants with a site each; returns a super user token of t0 (a reader, for `settled`). */
async function prepare(dataDir: string, tenants: number): Promise<string> {
  const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
  try {
    let token = '';
    for (let i = 0; i < tenants; i += 1) {
      const tenant = await platform.tenants.create({ slug: `t${i}`, hosts: [`t${i}.bench.test`] });
      await platform.withStore(tenant, async (store) => {
        const ctx = { platform, scope: { kind: 'tenant' as const, tenant, store }, actor: { kind: 'system' as const, name: 'bench' }, ip: null };
        await createSite(ctx, { name: 'site', urls: ['https://site.example'] });
        if (i > 0) return;
        await createUser(ctx, { login: 'bench', email: 'bench@bench.test', password: 'correct horse battery staple', superuser: true });
        const db = identityDbFor(platform, ctx.scope);
        const user = await identityStore.findUserByLogin(db, 'bench');
        if (user) token = (await createToken(db, platform.secret, user.id, { description: 'bench' })).token;
      });
    }
    return token;
  } finally {
    await platform.close();
  }
}

/** Stops a server cleanly (so that profiles are written) and waits for it to exit. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function startPlura(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', main, '--data-dir', dataDir, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    stdio: ['ignore', nodeArgs.length > 0 ? 'inherit' : 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'error', PLURA_GENERAL_CREATE_DEMO_TENANT: '0', PLURA_TRACKER_MAX_QUEUED_HITS: '1000000', ...benchEnv },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { url, child };
}

/** The baseline: a Node HTTP server that answers every request at once with a 1×1 GIF. */
async function startNoop(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const code = `const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'image/gif' }); res.end(gif); }); }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url);
  return { url, child };
}

let sequence = 0;
function hitPath(): string {
  sequence += 1;
  const visitor = (sequence % 5000).toString(16).padStart(16, '0');
  return `/matomo.php?idsite=1&rec=1&url=https%3A%2F%2Fsite.example%2Fpage${sequence % 100}&action_name=Page&_id=${visitor}&send_image=0`;
}

/** Every measured server first gets a short untimed load: first-use costs (store opening, parser tables) are not throughput. */
async function warmUp(url: string, hosts: readonly string[], plura = true): Promise<void> {
  for (let start = 0; start < hosts.length; start += 50) {
    await Promise.all(hosts.slice(start, start + 50).map((host) => getWithHost(`${url}${hitPath()}`, host, { 'user-agent': UA })));
  }
  await singleHits(url, hosts, 2);
  if (plura) await settled(url);
}

async function singleHits(url: string, hosts: readonly string[], seconds = SECONDS): Promise<{ rps: number; bad: number }> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'user-agent': UA },
    requests: [
      {
        setupRequest: (request) => {
          i = (i + 1) % hosts.length;
          return { ...request, path: hitPath(), headers: { ...request.headers, host: hosts[i] ?? 'localhost' } };
        },
      },
    ],
  });
  return { rps: result.requests.average, bad: result.non2xx + result.errors };
}

async function trackingCounts(url: string): Promise<{ queuedHits: number; appliedHits: number }> {
  const body = (await (await fetch(`${url}/readyz`)).json()) as { tracking: { queuedHits: number; appliedHits: number } };
  return body.tracking;
}

let readerToken = '';

/** GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(url: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { ...headers, host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Waits until every acknowledged hit is in its store; returns the seconds that took.
 * A reader of t0 asks first (as the Live API and reports do), so t0's last partial
 * batch is written at once instead of after the batching interval.
 */
async function settled(url: string): Promise<number> {
  const started = performance.now();
  if (readerToken) {
    const read = await getWithHost(`${url}/index.php?module=API&method=Live.getCounters&idSite=1&lastMinutes=30&format=json&token_auth=${readerToken}`, 't0.bench.test');
    if (read.status !== 200) throw new Error(`the reader's call failed: ${read.status} ${read.body}`);
  }
  while ((await trackingCounts(url)).queuedHits > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  return (performance.now() - started) / 1000;
}

async function bulkHits(url: string): Promise<{ hitsPerSecond: number; storedPerSecond: number; bad: number }> {
  await settled(url);
  const before = await trackingCounts(url);
  const started = performance.now();
  const requests = Array.from({ length: 1000 }, (_, i) => `?idsite=1&rec=1&url=https%3A%2F%2Fsite.example%2Fbulk${i % 50}&_id=${(i % 300).toString(16).padStart(16, 'a')}&ua=${encodeURIComponent(UA)}`);
  const result = await autocannon({
    url: `${url}/matomo.php`,
    method: 'POST',
    connections: 4,
    duration: SECONDS,
    headers: { host: 't0.bench.test', 'content-type': 'application/json' },
    body: JSON.stringify({ requests }),
  });
  await settled(url);
  const stored = (await trackingCounts(url)).appliedHits - before.appliedHits;
  // Stored hits/s: from the first request until the last acknowledged hit is in the store.
  return { hitsPerSecond: result.requests.average * 1000, storedPerSecond: stored / ((performance.now() - started) / 1000), bad: result.non2xx + result.errors };
}

export async function runTrackingBench(): Promise<void> {
  const oneDir = mkdtempSync(join(tmpdir(), 'plura-bench-track-1-'));
  const manyDir = mkdtempSync(join(tmpdir(), 'plura-bench-track-n-'));
  const children: ChildProcess[] = [];
  try {
    readerToken = await prepare(oneDir, 1);
    console.log(`tracking bench: ${SECONDS} s per case after ${PRELOAD_SECONDS} s of untimed load, ${CONNECTIONS} connections, keep-alive, servers in child processes`);
    const flag = (bad: number): string => (bad > 0 ? `  (${bad} non-2xx/errors!)` : '');
    const lines: string[] = [];
    let baselineRps = NaN;
    let single: { rps: number; bad: number } | undefined;
    if (CASES.has('single') || CASES.has('tenants')) {
      const noop = await startNoop();
      children.push(noop.child);
      await warmUp(noop.url, ['t0.bench.test'], false);
      const baseline = await singleHits(noop.url, ['t0.bench.test']);
      noop.child.kill();
      baselineRps = baseline.rps;
      lines.push(`no-op Node HTTP server (baseline)         ${baseline.rps.toFixed(0).padStart(8)} req/s${flag(baseline.bad)}`);
    }

    if (CASES.has('single') || CASES.has('bulk') || CASES.has('tenants')) {
      const one = await startPlura(oneDir);
      children.push(one.child);
      await warmUp(one.url, ['t0.bench.test']);
      if (CASES.has('single') || CASES.has('tenants')) {
        await singleHits(one.url, ['t0.bench.test'], PRELOAD_SECONDS);
        single = await singleHits(one.url, ['t0.bench.test']);
        const singleSettle = await settled(one.url);
        lines.push(`single hits, 1 tenant                     ${single.rps.toFixed(0).padStart(8)} req/s  ratio ${(single.rps / baselineRps).toFixed(2)} (target ≥ 0.5)${flag(single.bad)}; all stored ${singleSettle.toFixed(2)} s after the load`);
      }
      if (CASES.has('bulk')) {
        const bulk = await bulkHits(one.url);
        lines.push(`bulk, 1,000 hits per request              ${bulk.storedPerSecond.toFixed(0).padStart(8)} hits/s stored (target ≥ 100,000); acknowledged ${bulk.hitsPerSecond.toFixed(0)} hits/s${flag(bulk.bad)}`);
      }
      await stopChild(one.child);
    }

    if (CASES.has('tenants') && single) {
      const started = performance.now();
      readerToken = await prepare(manyDir, TENANTS);
      console.log(`prepared ${TENANTS} tenants with a site each in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const many = await startPlura(manyDir);
      children.push(many.child);
      const manyHosts = Array.from({ length: TENANTS }, (_, i) => `t${i}.bench.test`);
      await warmUp(many.url, manyHosts);
      await singleHits(many.url, manyHosts, PRELOAD_SECONDS);
      const spread = await singleHits(many.url, manyHosts);
      const spreadSettle = await settled(many.url);
      await stopChild(many.child);
      lines.push(`single hits over ${TENANTS} tenants            ${spread.rps.toFixed(0).padStart(8)} req/s  ratio to 1 tenant ${(spread.rps / single.rps).toFixed(2)} (target ≥ 0.8)${flag(spread.bad)}; all stored ${spreadSettle.toFixed(2)} s after the load`);
    }
    for (const line of lines) console.log(line);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(oneDir, { recursive: true, force: true });
    rmSync(manyDir, { recursive: true, force: true });
  }
}

/**
 * Many tenants on one node: creates 1,000 tenants, then compares against a
 * one-tenant installation measured in the same run: start-up time, resident memory
 * (idle, and after every tenant store was opened once), and host resolution cost
 * per request (requests/s to /api/v1/tenant over 1,000 hosts vs. /healthz, which
 * resolves nothing). The server runs in a child process; the load comes from here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { openPlatform } from '../src/platform/platform.js';
import { startServer } from '../src/http/server.js';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

interface ChildReport {
  url: string;
  startupMs: number;
  rssIdleMb: number;
}

async function createTenants(dataDir: string, count: number): Promise<number> {
  const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
  const started = performance.now();
  try {
    for (let i = 0; i < count; i += 1) {
      await platform.tenants.create({ slug: `t${i}`, hosts: [`t${i}.bench.test`] });
    }
  } finally {
    await platform.close();
  }
  return performance.now() - started;
}

/** Starts `serve` in a child process and waits for its report line. */
function startChild(dataDir: string): Promise<{ report: ChildReport; send(cmd: string): Promise<string>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, PLURA_GENERAL_CREATE_DEMO_TENANT: '0' },
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let index: number;
    while ((index = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = (): Promise<string> => new Promise((resolve) => (lines.length ? resolve(lines.shift()!) : waiters.push(resolve)));
  return next().then((first) => ({
    report: JSON.parse(first) as ChildReport,
    send: (cmd: string) => {
      child.stdin.write(`${cmd}\n`);
      return next();
    },
    stop: () => child.kill('SIGTERM'),
  }));
}

async function childMain(dataDir: string): Promise<void> {
  const started = performance.now();
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', logger: false });
  const startupMs = performance.now() - started;
  const rss = (): number => process.memoryUsage().rss / 1024 / 1024;
  process.stdout.write(`${JSON.stringify({ url: server.url, startupMs, rssIdleMb: rss() })}\n`);
  process.stdin.setEncoding('utf8');
  let pending = '';
  process.stdin.on('data', async (chunk: string) => {
    pending += chunk;
    if (!pending.includes('\n')) return;
    const cmd = pending.trim();
    pending = '';
    if (cmd === 'touch-all') {
      // Open every tenant store once; the LRU keeps at most max_open_stores of them.
      for (const tenant of await server.platform.tenants.list()) {
        await server.platform.withStore(tenant, (store) => store.db.selectFrom('site').select('id').execute());
      }
      global.gc?.();
      process.stdout.write(`${JSON.stringify({ rssMb: rss(), open: server.platform.stores.openCount })}\n`);
    }
  });
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

async function load(url: string, path: string, hosts: readonly string[]): Promise<number> {
  let i = 0;
  const result = await autocannon({
    url: `${url}${path}`,
    connections: 10,
    duration: LOAD_SECONDS,
    requests: [
      {
        setupRequest: (request) => {
          i = (i + 1) % hosts.length;
          return { ...request, headers: { ...request.headers, host: hosts[i]! } };
        },
      },
    ],
  });
  return result.requests.average;
}

export async function runTenantsBench(): Promise<void> {
  const oneDir = mkdtempSync(join(tmpdir(), 'plura-bench-1-'));
  const manyDir = mkdtempSync(join(tmpdir(), 'plura-bench-n-'));
  try {
    await createTenants(oneDir, 1);
    const createMs = await createTenants(manyDir, TENANTS);
    console.log(`created ${TENANTS} tenants in ${(createMs / 1000).toFixed(1)} s (${(createMs / TENANTS).toFixed(1)} ms each)`);

    const one = await startChild(oneDir);
    const oneHealth = await load(one.report.url, '/healthz', ['t0.bench.test']);
    const oneTenant = await load(one.report.url, '/api/v1/tenant', ['t0.bench.test']);
    one.stop();

    const many = await startChild(manyDir);
    const hosts = Array.from({ length: TENANTS }, (_, i) => `t${i}.bench.test`);
    const manyHealth = await load(many.report.url, '/healthz', hosts);
    const manyTenant = await load(many.report.url, '/api/v1/tenant', hosts);
    const touched = JSON.parse(await many.send('touch-all')) as { rssMb: number; open: number };
    many.stop();

    const rows: [string, string, string, string][] = [
      ['start-up (ms)', one.report.startupMs.toFixed(0), many.report.startupMs.toFixed(0), (many.report.startupMs / one.report.startupMs).toFixed(2)],
      ['RSS after start (MB)', one.report.rssIdleMb.toFixed(1), many.report.rssIdleMb.toFixed(1), (many.report.rssIdleMb / one.report.rssIdleMb).toFixed(2)],
      ['req/s /healthz (no resolution)', oneHealth.toFixed(0), manyHealth.toFixed(0), (manyHealth / oneHealth).toFixed(2)],
      ['req/s /api/v1/tenant (resolved)', oneTenant.toFixed(0), manyTenant.toFixed(0), (manyTenant / oneTenant).toFixed(2)],
    ];
    console.log(`\n${'measure'.padEnd(34)} ${'1 tenant'.padStart(10)} ${`${TENANTS} tenants`.padStart(14)} ${'ratio'.padStart(7)}`);
    for (const [label, a, b, r] of rows) console.log(`${label.padEnd(34)} ${a.padStart(10)} ${b.padStart(14)} ${r.padStart(7)}`);
    const perRequestUs = (1e6 / manyTenant - 1e6 / manyHealth) * 10; // 10 connections in flight
    console.log(`\nhost resolution + tenant route cost over /healthz, ${TENANTS} tenants: ~${perRequestUs.toFixed(1)} µs per request`);
    console.log(
      `after opening all ${TENANTS} stores once (LRU keeps ${touched.open} open): RSS ${touched.rssMb.toFixed(1)} MB; growth per tenant over idle: ${(((touched.rssMb - many.report.rssIdleMb) * 1024) / TENANTS).toFixed(1)} KB`,
    );
    console.log(`idle memory per tenant (${TENANTS} vs 1 at start): ${(((many.report.rssIdleMb - one.report.rssIdleMb) * 1024) / (TENANTS - 1)).toFixed(2)} KB`);
  } finally {
    rmSync(oneDir, { recursive: true, force: true });
    rmSync(manyDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child' && process.argv[3]) {
  await childMain(process.argv[3]);
}

/**
 * Cost of authentication, against a baseline measured in the same run: requests/s
 * of `/healthz` (no tenant, no auth) vs. a Matomo API call authenticated by
 * token_auth (hash lookup + current grants), `/api/v1/me` with a session cookie, and
 * `POST /auth/login` (argon2id verify, the deliberate cost). The server runs in a
 * child process (`plura serve`); the load comes from here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { identityDbFor } from '../src/access/context.js';
import { identityStore } from '../src/access/identity.store.js';
import { createToken } from '../src/access/tokens.js';
import { createUser, setUserAccess } from '../src/access/users.service.js';
import { openPlatform } from '../src/platform/platform.js';
import { createSite } from '../src/sites/sites-access.service.js';
import { freePort } from '../src/http/test-support/free-port.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PASSWORD = 'bench password 123';

async function prepare(dataDir: string): Promise<string> {
  const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
  try {
    const tenant = await platform.tenants.create({ slug: 'bench', hosts: ['localhost', '127.0.0.1'] });
    return await platform.withStore(tenant, async (store) => {
      const ctx = { platform, scope: { kind: 'tenant', tenant, store } as const, actor: { kind: 'system', name: 'bench' } as const, ip: null };
      await createSite(ctx, { name: 'site', urls: ['https://bench.example'] });
      await createUser(ctx, { login: 'analyst', email: 'analyst@bench.example', password: PASSWORD });
      await setUserAccess(ctx, 'analyst', 'view', [1]);
      const db = identityDbFor(platform, ctx.scope);
      const user = await identityStore.findUserByLogin(db, 'analyst');
      if (!user) throw new Error('user missing');
      return (await createToken(db, platform.secret, user.id, { description: 'bench' })).token;
    });
  } finally {
    await platform.close();
  }
}

async function load(name: string, options: autocannon.Options): Promise<number> {
  const result = await autocannon({ connections: 10, duration: SECONDS, ...options });
  const bad = result.non2xx + result.errors;
  console.log(`${name.padEnd(44)} ${result.requests.average.toFixed(0).padStart(8)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms${bad ? `  (${bad} non-2xx/errors!)` : ''}`);
  return result.requests.average;
}

export async function runIdentityBench(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plura-bench-identity-'));
  const token = await prepare(dataDir);
  const port = await freePort();
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--data-dir', dataDir, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'error', PLURA_GENERAL_CREATE_DEMO_TENANT: '0', PLURA_SECURITY_API_RATE_LIMIT_PER_MINUTE: '0', PLURA_SECURITY_API_RATE_LIMIT_PER_HOUR: '0', PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '1000000' },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 600; i += 1) {
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const login = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'analyst', password: PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    console.log(`identity bench: ${SECONDS} s per case, 10 connections, server in a child process`);
    const baseline = await load('GET /healthz (baseline)', { url: `${url}/healthz` });
    const tenantRate = await load('GET /api/v1/tenant (tenant scope, no auth)', { url: `${url}/api/v1/tenant` });
    const tokenRate = await load('Matomo API call with token_auth (POST)', {
      url: `${url}/index.php`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `module=API&method=SitesManager.getSitesIdWithAtLeastViewAccess&format=json&token_auth=${token}`,
    });
    const sessionRate = await load('GET /api/v1/me with a session cookie', { url: `${url}/api/v1/me`, headers: { cookie } });
    const loginRate = await load('POST /auth/login (argon2id verify)', {
      url: `${url}/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'analyst', password: PASSWORD }),
      connections: 2,
    });
    console.log(`tenant-scoped call without auth: ${(tenantRate / baseline).toFixed(2)} of baseline`);
    console.log(`token-checked call: ${(tokenRate / baseline).toFixed(2)} of baseline; per-call overhead ≈ ${((1 / tokenRate - 1 / baseline) * 1000 * 10).toFixed(2)} ms at 10 connections`);
    console.log(`session-checked call: ${(sessionRate / baseline).toFixed(2)} of baseline`);
    console.log(`sign-in: ${loginRate.toFixed(1)} per second on 2 connections ≈ ${(2000 / loginRate).toFixed(0)} ms each`);
  } finally {
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runIdentityBench();

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../platform/platform.js';
import { startServer, type RunningServer } from './server.js';

/** Speaks real HTTP to the server, with whatever Host header the test wants. */
function get(url: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request({ hostname: target.hostname, port: target.port, path: target.pathname, headers: { host, ...headers } }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? (JSON.parse(data) as unknown) : null }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP server with host-based tenants', () => {
  let dataDir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plura-http-'));
    server = await startServer({ dataDir, port: 0, host: '127.0.0.1', logger: false, env: { PLURA_GENERAL_REGISTRY_POLL_INTERVAL_MS: '100' } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a demo tenant on first start answering for localhost and 127.0.0.1', async () => {
    for (const host of ['localhost:8080', '127.0.0.1', 'LOCALHOST.']) {
      const response = await get(`${server.url}/api/v1/tenant`, host);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ slug: 'demo', name: 'Demo', language: 'en', branding: { productName: 'Plura' } });
    }
  });

  it('answers 404 with a clear message and no tenant data for an unknown host', async () => {
    const response = await get(`${server.url}/api/v1/tenant`, 'nobody.example');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'unknown_host', message: 'No analytics tenant is configured for the host "nobody.example".' } });
  });

  it('serves /healthz and /readyz on any host', async () => {
    expect((await get(`${server.url}/healthz`, 'whatever')).status).toBe(200);
    expect(await get(`${server.url}/readyz`, 'whatever')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('serves a tenant created and changed by another process within a second, and refuses it once deactivated', async () => {
    const other = await openPlatform({ dataDir });
    try {
      await other.tenants.create({ slug: 'acme', hosts: ['acme.test'], name: 'Acme' });
      await expect.poll(async () => (await get(`${server.url}/api/v1/tenant`, 'acme.test')).status, { timeout: 1000, interval: 50 }).toBe(200);
      await other.tenants.update('acme', { productName: 'Acme Analytics', primaryColor: '#112233' });
      await expect
        .poll(async () => (await get(`${server.url}/api/v1/tenant`, 'acme.test')).body, { timeout: 1000, interval: 50 })
        .toMatchObject({ branding: { productName: 'Acme Analytics', primaryColor: '#112233' } });
      await other.tenants.setStatus('acme', 'deactivated');
      await expect.poll(async () => (await get(`${server.url}/api/v1/tenant`, 'acme.test')).status, { timeout: 1000, interval: 50 }).toBe(403);
      const refused = await get(`${server.url}/api/v1/tenant`, 'acme.test');
      expect(refused.body).toMatchObject({ error: { code: 'tenant_deactivated' } });
    } finally {
      await other.close();
    }
  });

  it('answers 503 naming the file when a tenant config file is corrupt, and recovers once fixed', async () => {
    const file = join(dataDir, 'tenants', 'demo', 'config.ini');
    writeFileSync(file, '[General]\nthis is not ini\n');
    try {
      await expect
        .poll(async () => (await get(`${server.url}/api/v1/tenant`, 'localhost')).status, { timeout: 2500, interval: 100 })
        .toBe(503);
      const response = await get(`${server.url}/api/v1/tenant`, 'localhost');
      expect(response.body).toMatchObject({ error: { code: 'config_invalid', message: expect.stringContaining(file) as string } });
    } finally {
      writeFileSync(file, '[General]\ndefault_language = "fr"\n');
    }
    await expect
      .poll(async () => (await get(`${server.url}/api/v1/tenant`, 'localhost')).body, { timeout: 2500, interval: 100 })
      .toMatchObject({ language: 'fr' });
  });

  it('ignores X-Forwarded-Host from a peer that is not a trusted proxy', async () => {
    const response = await get(`${server.url}/api/v1/tenant`, 'nobody.example', { 'x-forwarded-host': 'localhost' });
    expect(response.status).toBe(404);
  });
});

describe('X-Forwarded-Host from a trusted proxy', () => {
  it('picks the tenant by the forwarded host', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plura-proxy-'));
    const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', logger: false, env: { PLURA_GENERAL_TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const response = await get(`${server.url}/api/v1/tenant`, 'proxy.internal', { 'x-forwarded-host': 'localhost' });
      expect(response).toMatchObject({ status: 200, body: { slug: 'demo' } });
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('an unwritable data directory', () => {
  it('fails to start with one sentence naming the directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'plura-ro-'));
    const dataDir = join(parent, 'data');
    writeFileSync(dataDir, 'a file where the directory should be');
    try {
      await expect(startServer({ dataDir, port: 0, logger: false })).rejects.toMatchObject({
        code: 'data_dir_unwritable',
        message: expect.stringContaining(`The data directory ${dataDir} is not writable`) as string,
      });
    } finally {
      chmodSync(parent, 0o700);
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '../http/test-support/harness.js';

const html = { accept: 'text/html,application/xhtml+xml' };

describe('the web interface is served on every tenant host and the platform host', () => {
  let h: Harness;
  let webDir: string;

  beforeAll(async () => {
    // A stand-in build output: what matters here is routing, caching and refusal, not the bundle.
    webDir = mkdtempSync(join(tmpdir(), 'plura-web-routes-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>shell</title><div id="root"></div>');
    writeFileSync(join(webDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    h = await openHarness({ PLURA_GENERAL_PLATFORM_HOST: 'ops.test' }, { webDir });
    await h.addTenant('acme', ['acme.test']);
    await h.addTenant('gone', ['gone.test']);
    await h.platform.tenants.setStatus('gone', 'deactivated');
    await h.refreshHosts();
  });
  afterAll(async () => {
    await h.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('answers page paths with the shell, with a content security policy and no caching', async () => {
    for (const host of ['acme.test', 'ops.test']) {
      for (const url of ['/', '/index.php', '/login', '/reports/1/pages?period=day&date=today', '/admin/users/bob', '/platform/tenants', '/collections', '/account']) {
        const response = await h.app.inject({ url, headers: { host, ...html } });
        expect(response.statusCode, `${host}${url}`).toBe(200);
        expect(response.headers['content-type']).toContain('text/html');
        expect(response.body).toContain('<div id="root">');
        expect(response.headers['cache-control']).toBe('no-cache');
        expect(String(response.headers['content-security-policy'])).toContain("script-src 'self'");
      }
    }
  });

  it('keeps / and /index.php for the Matomo API when a module is named', async () => {
    const response = await h.app.inject({ url: '/?module=API&method=API.getMatomoVersion&format=json', headers: { host: 'acme.test' } });
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.body).not.toContain('<div id="root">');
    const posted = await h.app.inject({ method: 'POST', url: '/', headers: { host: 'acme.test' }, payload: 'module=API&method=API.getMatomoVersion&format=json' });
    expect(posted.body).not.toContain('<div id="root">');
  });

  it('serves hashed assets for a year', async () => {
    const response = await h.app.inject({ url: '/assets/index-abc123.js', headers: { host: 'acme.test' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toContain('immutable');
    const missing = await h.app.inject({ url: '/assets/nope.js', headers: { host: 'acme.test' } });
    expect(missing.statusCode).toBe(404);
  });

  it('refuses unknown hosts and deactivated tenants with a readable page for browsers, JSON for APIs', async () => {
    const unknown = await h.app.inject({ url: '/login', headers: { host: 'nobody.test', ...html } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('text/html');
    expect(unknown.body).toContain('No analytics tenant is configured for the host');
    const deactivated = await h.app.inject({ url: '/', headers: { host: 'gone.test', ...html } });
    expect(deactivated.statusCode).toBe(403);
    expect(deactivated.body).toContain('deactivated');
    expect(deactivated.body).not.toContain('<script');
    const api = await h.app.inject({ url: '/api/v1/tenant', headers: { host: 'gone.test', ...html } });
    expect(api.statusCode).toBe(403);
    expect(api.json()).toMatchObject({ error: { code: 'tenant_deactivated' } });
  });

  it('says how to build the interface when it is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'plura-web-empty-'));
    const bare = await openHarness({}, { webDir: empty });
    try {
      await bare.addTenant('solo', ['solo.test']);
      const response = await bare.app.inject({ url: '/login', headers: { host: 'solo.test', ...html } });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build');
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

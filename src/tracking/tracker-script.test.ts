import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, type Harness } from '../http/test-support/harness.js';
import { buildTrackerScript } from './tracker-script.routes.js';

describe('tracker script serving', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness();
    await h.addTenant('alpha', ['alpha.test']);
  });
  afterAll(() => h.close());

  const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers: { host: 'alpha.test', ...headers } });

  it('is minified and small: at most 15 kB gzipped (the issue target)', () => {
    const script = buildTrackerScript();
    expect(script.gzip.length).toBeLessThanOrEqual(15 * 1024);
    expect(script.brotli.length).toBeLessThan(script.gzip.length);
    expect(script.plain.toString()).toContain('Plura browser tracker'); // the licence comment stays
  });

  it('serves brotli, gzip or plain by Accept-Encoding, the same script each time, with caching headers', async () => {
    const plain = await get('/matomo.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toContain('application/javascript');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.headers['cache-control']).toBe('public, max-age=3600');

    const gzip = await get('/piwik.js', { 'accept-encoding': 'gzip, deflate' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(plain.body);

    const br = await get('/plura.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);

    const noBrotli = await get('/matomo.js', { 'accept-encoding': 'br;q=0, gzip' });
    expect(noBrotli.headers['content-encoding']).toBe('gzip');

    const etag = String(plain.headers.etag);
    const again = await get('/matomo.js', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});

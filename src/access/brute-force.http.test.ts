/**
 * Matomo counts a failed token like a failed sign-in, on the API and on the
 * tracker: an IP guessing tokens is blocked, in its tenant only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tokenFor, type Harness } from '../http/test-support/harness.js';

describe('failed tokens count as failed attempts', () => {
  let h: Harness;
  let goodToken: string;

  beforeAll(async () => {
    h = await openHarness({ PLURA_SECURITY_BRUTE_FORCE_MAX_RETRIES: '3' });
    await h.addTenant('alpha', ['alpha.test']);
    await h.addTenant('beta', ['beta.test']);
    await h.addSite('alpha', 'shop');
    await h.addSite('beta', 'blog');
    await h.addUser('alpha', 'root', { superuser: true });
    goodToken = await tokenFor(h.app, 'alpha.test', 'root');
  });

  afterAll(() => h.close());

  const api = (host: string, token: string, ip: string) =>
    h.app.inject({ method: 'GET', url: `/index.php?module=API&method=SitesManager.getSitesIdWithAtLeastViewAccess&format=json&token_auth=${token}`, headers: { host }, remoteAddress: ip });
  const trackWithToken = (host: string, token: string, ip: string) =>
    h.app.inject({ method: 'GET', url: `/matomo.php?idsite=1&rec=1&send_image=0&url=https%3A%2F%2Fshop.example%2F&cip=10.1.2.3&token_auth=${token}`, headers: { host }, remoteAddress: ip });

  it('blocks an IP after too many bad API tokens, also for its good token, in that tenant only', async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < 3; i += 1) expect((await api('alpha.test', 'f'.repeat(32), ip)).statusCode).toBe(401);
    const blocked = await api('alpha.test', goodToken, ip);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json<{ result: string; message: string }>().message).toMatch(/blocked/i);
    // Another tenant keeps its own count; another IP is not blocked.
    expect((await api('beta.test', 'f'.repeat(32), ip)).statusCode).toBe(401);
    expect((await api('alpha.test', goodToken, '203.0.113.11')).statusCode).toBe(200);
  });

  it('counts bad tracker tokens too, and answers the block in the tracker format', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 3; i += 1) {
      const refused = await trackWithToken('alpha.test', 'e'.repeat(32), ip);
      expect(refused.statusCode).toBe(400);
      expect(refused.body).toContain('the token given is not valid');
    }
    const blocked = await trackWithToken('alpha.test', goodToken, ip);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.headers['content-type']).toContain('text/plain');
    expect(blocked.body).toMatch(/blocked/i);
    // Hits without a token are not slowed down by any of this.
    const plain = await h.app.inject({ method: 'GET', url: '/matomo.php?idsite=1&rec=1&send_image=0&url=https%3A%2F%2Fshop.example%2F', headers: { host: 'alpha.test' }, remoteAddress: ip });
    expect(plain.statusCode).toBe(204);
    expect((await trackWithToken('alpha.test', goodToken, '198.51.100.21')).statusCode).toBe(204);
  });
});

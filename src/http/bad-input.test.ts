/**
 * Bad input on every identity surface: malformed JSON, wrong types, missing fields,
 * absurd ids, oversized values. Each must get a clear 4xx (or Matomo's error shape),
 * never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, signInOver, type Harness } from './test-support/harness.js';

const HOST = 'bad.test';

describe('bad input never answers 500', () => {
  let h: Harness;
  let session: { cookie: string; csrf: string };

  beforeAll(async () => {
    h = await openHarness();
    await h.addTenant('bad', [HOST]);
    await h.addSite('bad', 'site');
    await h.addUser('bad', 'root', { superuser: true });
    session = await signInOver(h.app, HOST, 'root');
  });
  afterAll(() => h.close());

  const bodies: (string | undefined)[] = ['{', '[]', 'null', '"text"', '{"login":5,"password":[]}', `{"login":"${'x'.repeat(5000)}","password":"y"}`, '{"capabilities":"x","sites":"none"}', undefined];
  const routes: [string, string][] = [
    ['POST', '/auth/login'],
    ['POST', '/auth/mfa'],
    ['POST', '/auth/mfa/enroll/confirm'],
    ['POST', '/auth/password'],
    ['POST', '/setup'],
    ['POST', '/api/v1/users'],
    ['PATCH', '/api/v1/users/root'],
    ['PUT', '/api/v1/users/root/access'],
    ['POST', '/api/v1/users/root/capabilities'],
    ['PUT', '/api/v1/users/root/superuser'],
    ['POST', '/api/v1/users/root/tokens'],
    ['DELETE', '/api/v1/users/root/tokens/abc'],
    ['POST', '/api/v1/sites'],
    ['PATCH', '/api/v1/sites/1'],
    ['GET', '/api/v1/sites/0'],
    ['GET', '/api/v1/sites/99999999999999999999'],
    ['GET', '/api/v1/access/explain?user=root'],
    ['GET', '/api/v1/audit?from=yesterday&limit=-5'],
    ['GET', '/api/v1/users/%00'],
  ];

  for (const [method, url] of routes) {
    it(`${method} ${url}`, async () => {
      for (const body of bodies) {
        const response = await h.app.inject({
          method: method as 'GET',
          url,
          headers: { host: HOST, cookie: session.cookie, 'x-csrf-token': session.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined && method !== 'GET' ? { payload: body } : {}),
        });
        expect(response.statusCode, `${method} ${url} with ${String(body).slice(0, 40)}: ${response.body.slice(0, 200)}`).toBeLessThan(500);
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        if (response.statusCode >= 400) expect(response.json<{ error: { code: string; message: string } }>().error.message.length).toBeGreaterThan(5);
      }
    });
  }

  it('Matomo API: absurd parameters answer Matomo errors', async () => {
    const cases = [
      'module=API&method=SitesManager.getSiteFromId&idSite=-1',
      'module=API&method=SitesManager.getSiteFromId&idSite=1e99',
      'module=API&method=UsersManager.setUserAccess&userLogin=root&access=god&idSites=1',
      'module=API&method=UsersManager.setUserAccess&userLogin=nobody&access=view&idSites=1,x',
      'module=API&method=UsersManager.addCapabilities&userLogin=root&capabilities=fly&idSites=all',
      'module=API&method=API.getBulkRequest&urls[0]=%25%25%25',
      'module=API&method=.&format=json',
      'module=API&method=UsersManager.getUser&userLogin[]=a&userLogin[]=b',
      'module=Other',
    ];
    for (const query of cases) {
      const response = await h.app.inject({ method: 'GET', url: `/index.php?${query}&format=json`, headers: { host: HOST, cookie: session.cookie } });
      expect(response.statusCode, `${query}: ${response.body}`).toBeLessThan(500);
    }
  });
});

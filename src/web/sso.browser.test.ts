/**
 * Single sign-on from the login page in a real browser: the user clicks the tenant's
 * OpenID Connect button, signs in at a real OpenID provider (oidc-provider with its own
 * login and consent pages) and lands, signed in, on the page it asked for.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../http/test-support/free-port.js';
import { haveBrowser, openBrowserWorld, type BrowserWorld } from './test-support/browser.js';

describe.skipIf(!haveBrowser)('single sign-on from the login page', { timeout: 120_000 }, () => {
  let world: BrowserWorld;
  let idp: Server;

  beforeAll(async () => {
    world = await openBrowserWorld();
    const { h } = world;
    await h.addTenant('acme', ['acme.test']);
    await h.addSite('acme', 'shop');
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'plura-acme',
          client_secret: 'acme-client-secret',
          redirect_uris: [world.url('acme.test', '/auth/oidc/callback')],
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'k1' }] },
      cookies: { keys: ['browser-test-cookie-key'] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'], groups: ['groups'] },
      // The provider's own login and consent pages, which the browser fills in like a person.
      features: { devInteractions: { enabled: true } },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ sub, email: `${sub}@acme.example`, email_verified: true, given_name: 'Olga', family_name: 'Idp', groups: ['Analysts'] }),
      }),
    });
    const handle = provider.callback();
    idp = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => idp.listen(port, '127.0.0.1', resolve));
    for (const [name, value] of Object.entries({
      'OIDC.enabled': '1',
      'OIDC.display_name': 'Acme Okta',
      'OIDC.issuer': issuer,
      'OIDC.client_id': 'plura-acme',
      'OIDC.client_secret': 'acme-client-secret',
      'SSO.role_mapping': 'Analysts = site:1:view',
    })) {
      h.platform.settings.set(name, value, { tenant: 'acme' });
    }
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
  });

  it('signs in with the OpenID provider and returns to the page asked for, with the mapped rights', async () => {
    const page = await world.page();
    await page.goto(world.url('acme.test', '/account'));
    await page.waitForURL(/\/login\?next=%2Faccount/);
    await page.getByRole('link', { name: 'Acme Okta' }).click();
    // At the provider: its login page, then its consent page.
    await page.locator('input[name="login"]').fill('olga');
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(world.url('acme.test', '/account'));
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('olga@acme.example').first().waitFor();
    // The role mapping granted view on site 1: the reports area is offered.
    await page.getByRole('link', { name: 'Reports' }).waitFor();
    await world.shot(page, 'sso-signed-in');
    expect(world.pageErrors).toEqual([]);
  });
});

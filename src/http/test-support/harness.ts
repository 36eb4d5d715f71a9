import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ActContext } from '../../access/context.js';
import { createUser } from '../../access/users.service.js';
import { openPlatform, type Platform } from '../../platform/platform.js';
import { createSite } from '../../sites/sites-access.service.js';
import { HostResolver } from '../../tenancy/host-resolver.js';
import type { Tenant } from '../../tenancy/tenant.js';
import { buildApp } from '../app.js';

export interface Harness {
  readonly platform: Platform;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  /** `storage`: 'sqlite' (default) or a postgres:// URL. */
  addTenant(slug: string, hosts: string[], storage?: string): Promise<Tenant>;
  /** Runs `fn` as the console operator inside a tenant (set-up steps of tests). */
  asOperator<T>(slug: string, fn: (ctx: ActContext) => Promise<T>): Promise<T>;
  addSite(slug: string, name: string): Promise<number>;
  /** Reloads the host map (after a tenant's status or hosts changed behind the app's back). */
  refreshHosts(): Promise<void>;
  addUser(slug: string, login: string, options?: { superuser?: boolean; password?: string | null }): Promise<void>;
  /** A platform user (`admin`: a platform admin), with TEST_PASSWORD. */
  addPlatformUser(login: string, options?: { admin?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export const TEST_PASSWORD = 'correct horse battery';

/** A real platform in a temporary data directory, with the app built for inject(). */
export async function openHarness(env: Record<string, string> = {}, options: { webDir?: string } = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plura-harness-'));
  // A stand-in web interface unless a test brings a real build: pages answer alike whether or not `npm run build` ran.
  const webDir = options.webDir ?? join(dataDir, 'web');
  if (options.webDir === undefined) {
    mkdirSync(join(webDir, 'assets'), { recursive: true });
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Plura</title><div id="root"></div>');
  }
  const platform = await openPlatform({ dataDir, env });
  const resolver = new HostResolver(platform.registry, () => undefined);
  await resolver.refresh();
  const app = await buildApp({ platform, resolver, logger: false, webDir });
  const asOperator = async <T>(slug: string, fn: (ctx: ActContext) => Promise<T>): Promise<T> => {
    const tenant = await platform.tenants.get(slug);
    return platform.withStore(tenant, (store) => fn({ platform, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'test' }, ip: null }));
  };
  return {
    platform,
    app,
    dataDir,
    async addTenant(slug, hosts, storage = 'sqlite') {
      const tenant = await platform.tenants.create({ slug, hosts, storage });
      await resolver.refresh();
      return tenant;
    },
    asOperator,
    refreshHosts: () => resolver.refresh(),
    async addSite(slug, name) {
      const site = await asOperator(slug, (ctx) => createSite(ctx, { name, urls: [`https://${name}.example`] }));
      return site.idsite;
    },
    async addUser(slug, login, options = {}) {
      await asOperator(slug, (ctx) => createUser(ctx, { login, email: `${login}@${slug}.example`, password: options.password ?? TEST_PASSWORD, superuser: options.superuser ?? false }));
    },
    async addPlatformUser(login, options = {}) {
      const system: ActContext = { platform, scope: { kind: 'platform' }, actor: { kind: 'system', name: 'test' }, ip: null };
      await createUser(system, { login, email: `${login}@platform.example`, password: TEST_PASSWORD, superuser: options.admin ?? false });
    },
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The session cookie a response set, as a Cookie header value. */
export function sessionCookieOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'plura_session');
  if (!cookie) throw new Error(`no session cookie in response ${response.statusCode}: ${response.body}`);
  return `plura_session=${cookie.value}`;
}

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

/** Signs in over HTTP; returns the cookie and CSRF token of the new session. */
export async function signInOver(app: FastifyInstance, host: string, login: string, password = TEST_PASSWORD): Promise<Session> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', headers: { host }, payload: { login, password } });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  const body = response.json<{ csrfToken: string }>();
  return { cookie: sessionCookieOf(response), csrf: body.csrfToken };
}

/** Creates a token over the REST API for a signed-in user. */
export async function tokenFor(app: FastifyInstance, host: string, login: string, password = TEST_PASSWORD): Promise<string> {
  const session = await signInOver(app, host, login, password);
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/users/${encodeURIComponent(login)}/tokens`,
    headers: { host, cookie: session.cookie, 'x-csrf-token': session.csrf },
    payload: { description: 'test token' },
  });
  if (response.statusCode !== 201) throw new Error(`token creation failed: ${response.statusCode} ${response.body}`);
  return response.json<{ token: string }>().token;
}

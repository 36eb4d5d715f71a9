import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ActContext } from '../../access/context.js';
import { createUser } from '../../access/users.service.js';
import { findAuditEntries } from '../../audit/audit.store.js';
import { platformAuditDb } from '../../audit/audit.service.js';
import type { AuditTables } from '../../audit/audit.tables.js';
import { buildApp } from '../../http/app.js';
import { signInOver, TEST_PASSWORD, type Session } from '../../http/test-support/harness.js';
import { openPlatform, type Platform } from '../../platform/platform.js';
import { createSite } from '../../sites/sites-access.service.js';
import type { TenantDatabase } from '../../storage/tenant-database.js';
import { HostResolver } from '../host-resolver.js';
import type { Tenant } from '../tenant.js';

export const PLATFORM_HOST = 'platform.test';

/**
 * Like the HTTP harness, with the host map in the test's hands: a server reloads it
 * within General.registry_poll_interval_ms of a tenant change; tests reload it at once.
 */
export interface TenancyHarness {
  readonly platform: Platform;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  refreshTenants(): Promise<void>;
  addTenant(slug: string, hosts: string[], storage?: string): Promise<Tenant>;
  asOperator<T>(slug: string, fn: (ctx: ActContext & { scope: { kind: 'tenant' } }) => Promise<T>): Promise<T>;
  addSite(slug: string, name: string): Promise<number>;
  addUser(slug: string, login: string, options?: { superuser?: boolean }): Promise<void>;
  addPlatformUser(login: string, options?: { admin?: boolean }): Promise<void>;
  /** Signs in over HTTP; `host` is the tenant's host or the platform host. */
  signIn(host: string, login: string): Promise<Session & { host: string }>;
  call(session: (Session & { host: string }) | { host: string; token?: string }, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Actions in the platform's log, or a tenant's (newest last). */
  auditActions(slug: string | null): Promise<{ action: string; actor: string; tenant: string | null; after: unknown }[]>;
  /** Rows per table of a tenant's store, after the tracking queue reached it. */
  rowCounts(slug: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function openTenancyHarness(env: Record<string, string> = {}): Promise<TenancyHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plura-tenancy-'));
  const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_PLATFORM_HOST: PLATFORM_HOST, ...env } });
  const resolver = new HostResolver(platform.registry, () => undefined);
  await resolver.refresh();
  const app = await buildApp({ platform, resolver, logger: false });
  const asOperator = async <T>(slug: string, fn: (ctx: ActContext & { scope: { kind: 'tenant' } }) => Promise<T>): Promise<T> => {
    const tenant = await platform.tenants.get(slug);
    return platform.withStore(tenant, (store) => fn({ platform, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'test' }, ip: null }));
  };
  const system = { platform, scope: { kind: 'platform' } as const, actor: { kind: 'system', name: 'test' } as const, ip: null };
  return {
    platform,
    app,
    dataDir,
    refreshTenants: () => resolver.refresh(),
    async addTenant(slug, hosts, storage = 'sqlite') {
      const tenant = await platform.tenants.create({ slug, hosts, storage });
      await resolver.refresh();
      return tenant;
    },
    asOperator,
    async addSite(slug, name) {
      return (await asOperator(slug, (ctx) => createSite(ctx, { name, urls: [`https://${name}.example`] }))).idsite;
    },
    async addUser(slug, login, options = {}) {
      await asOperator(slug, (ctx) => createUser(ctx, { login, email: `${login}@${slug}.example`, password: TEST_PASSWORD, superuser: options.superuser ?? false }));
    },
    async addPlatformUser(login, options = {}) {
      await createUser(system, { login, email: `${login}@platform.example`, password: TEST_PASSWORD, superuser: options.admin ?? false });
    },
    async signIn(host, login) {
      return { ...(await signInOver(app, host, login)), host };
    },
    call(session, method, url, payload, headers = {}) {
      const auth = 'cookie' in session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : session.token ? { authorization: `Bearer ${session.token}` } : {};
      return app.inject({ method, url, headers: { host: session.host, ...auth, ...headers }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
    },
    async auditActions(slug) {
      const read = async (db: Kysely<AuditTables>) => (await findAuditEntries(db, { limit: -1 })).entries;
      const entries = slug === null ? await read(platformAuditDb(platform)) : await asOperator(slug, (ctx) => read(ctx.scope.store.db as unknown as Kysely<AuditTables>));
      return entries
        .map((entry) => ({ id: entry.id, action: entry.action, actor: entry.actor, tenant: entry.tenant, after: entry.after }))
        .sort((a, b) => a.id - b.id)
        .map(({ id: _id, ...rest }) => rest);
    },
    async rowCounts(slug) {
      await platform.tracking.drain();
      return asOperator(slug, async (ctx) => {
        const db = ctx.scope.store.db;
        const storage = ctx.scope.tenant.storage;
        const tables = (await db.introspection.getTables()).filter((t) => !t.isView && (storage.kind === 'sqlite' || t.schema === storage.schema));
        const counts: Record<string, number> = {};
        for (const table of tables) counts[table.name] = await countRows(db, table.name);
        return counts;
      });
    },
    async close() {
      await app.close();
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function countRows(db: Kysely<TenantDatabase>, table: string): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/** Expects a JSON error answer with this status (and code, when given). */
export function expectError(response: LightMyRequestResponse, status: number, code?: string): string {
  expect(response.statusCode, response.body).toBe(status);
  const body = response.json<{ error: { code: string; message: string } }>();
  if (code) expect(body.error.code).toBe(code);
  return body.error.message;
}

import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import { issueSetupToken } from './login.service.js';

/** The URL where the first super user of a tenant (or the first platform admin) is created. */
export function setupUrl(host: string, port: number, token: string): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const portPart = port === 80 ? '' : `:${port}`;
  return `http://${hostPart}${portPart}/setup?token=${token}`;
}

/** A one-time setup link for a tenant without a super user, or null when it has one. */
export async function tenantSetupLink(platform: Platform, tenant: Tenant, port: number): Promise<string | null> {
  const token = await platform.withStore(tenant, (store) => issueSetupToken(platform, { kind: 'tenant', tenant, store }));
  const host = tenant.hosts[0];
  return token && host ? setupUrl(host, port, token) : null;
}

/** A one-time link for the first platform admin, when a platform host is configured and none exists. */
export async function platformSetupLink(platform: Platform, port: number): Promise<string | null> {
  const host = platform.settings.get('General.platform_host');
  if (!host) return null;
  const token = await issueSetupToken(platform, { kind: 'platform' });
  return token ? setupUrl(host, port, token) : null;
}

/** Every setup link still needed, for the server to print once at start. */
export async function pendingSetupLinks(platform: Platform, port: number): Promise<{ tenant: string; url: string }[]> {
  const links: { tenant: string; url: string }[] = [];
  const platformLink = await platformSetupLink(platform, port);
  if (platformLink) links.push({ tenant: '(platform)', url: platformLink });
  for (const tenant of await platform.registry.listTenants()) {
    if (tenant.status !== 'active') continue;
    const url = await tenantSetupLink(platform, tenant, port);
    if (url) links.push({ tenant: tenant.slug, url });
  }
  return links;
}

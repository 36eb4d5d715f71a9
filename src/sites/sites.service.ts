import { PluraError } from '../core/errors.js';
import type { TenantStore } from '../storage/tenant-stores.js';
import type { Tenant } from '../tenancy/tenant.js';
import { requireTimezone } from '../tenancy/tenants.service.js';

export interface Site {
  readonly id: number;
  readonly name: string;
  readonly mainUrl: string;
  readonly timezone: string;
  readonly currency: string;
  readonly createdAt: string;
}

export interface AddSiteInput {
  readonly name: string;
  readonly url: string;
  readonly timezone: string;
  readonly currency: string;
}

const currencies = new Set(Intl.supportedValuesOf('currency'));

/** Adds a site to the tenant's own store; ids count from 1 in every tenant. */
export async function addSite(tenant: Tenant, store: TenantStore, input: AddSiteInput): Promise<Site> {
  const name = input.name.trim();
  if (name === '') throw new PluraError('invalid_input', 'A site needs a name (--name).');
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new PluraError('invalid_input', `"${input.url}" is not a valid URL (expected something like https://example.com).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PluraError('invalid_input', `Site URL "${input.url}" must start with http:// or https://.`);
  }
  const timezone = requireTimezone(input.timezone);
  const currency = input.currency.toUpperCase();
  if (!currencies.has(currency)) throw new PluraError('invalid_input', `"${input.currency}" is not a known ISO 4217 currency code.`);
  const mainUrl = url.toString().replace(/\/$/, '');
  const now = new Date().toISOString();
  return store.db.transaction().execute(async (trx) => {
    if (tenant.limits.maxSites !== null) {
      const { count } = await trx.selectFrom('site').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
      if (Number(count) >= tenant.limits.maxSites) {
        throw new PluraError('limit_reached', `Tenant "${tenant.slug}" has reached its limit of ${tenant.limits.maxSites} sites.`);
      }
    }
    const row = await trx
      .insertInto('site')
      .values({ name, main_url: mainUrl, timezone, currency, ecommerce: 0, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.insertInto('site_url').values({ site_id: row.id, url: mainUrl }).execute();
    return { id: row.id, name, mainUrl, timezone, currency, createdAt: now };
  });
}

export async function listSites(store: TenantStore): Promise<Site[]> {
  const rows = await store.db.selectFrom('site').selectAll().orderBy('id').execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    mainUrl: row.main_url,
    timezone: row.timezone,
    currency: row.currency,
    createdAt: row.created_at,
  }));
}

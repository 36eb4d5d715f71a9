/**
 * The tracking pipeline end to end on both storage engines: hits acknowledged
 * from the journal, applied by the applier thread, visible to readers at once
 * (they wait for the tenant's queue), and two tenants with the same site ids
 * never mixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tokenFor, type Harness } from '../http/test-support/harness.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../storage/test-support/postgres-database.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

describe('tracking pipeline on SQLite and PostgreSQL tenants', () => {
  let h: Harness;
  let pg: TestPostgresDatabase;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    pg = await createTestPostgresDatabase('pipeline');
    // A long batching interval: readers must not depend on it.
    h = await openHarness({ PLURA_DATABASE_POSTGRES_ROLE_PREFIX: pg.rolePrefix, PLURA_TRACKER_GROUP_COMMIT_INTERVAL_MS: '60000' });
    await h.addTenant('lite', ['lite.test']);
    await h.addTenant('post', ['post.test'], pg.url);
    for (const slug of ['lite', 'post']) {
      await h.addSite(slug, `${slug}-site`);
      await h.addUser(slug, `${slug}-admin`, { superuser: true });
      tokens.set(slug, await tokenFor(h.app, `${slug}.test`, `${slug}-admin`));
    }
  });

  afterAll(async () => {
    await h.close();
    await pg.drop();
  });

  const track = (host: string, query: string) =>
    h.app.inject({ method: 'GET', url: `/matomo.php?idsite=1&rec=1&send_image=0&${query}`, headers: { host, 'user-agent': CHROME } });

  const lastVisits = async (slug: string) => {
    const response = await h.app.inject({
      method: 'GET',
      url: `/index.php?module=API&method=Live.getLastVisitsDetails&idSite=1&format=json&filter_limit=-1&token_auth=${tokens.get(slug) ?? ''}`,
      headers: { host: `${slug}.test` },
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ visitorId: string; actions: number; actionDetails: { url: string | null }[] }[]>();
  };

  it('stores hits of both tenants apart, and readers see every acknowledged hit', async () => {
    const visitor = 'a1b2c3d4e5f60718';
    for (let i = 0; i < 20; i += 1) {
      for (const slug of ['lite', 'post']) {
        const response = await track(`${slug}.test`, `_id=${visitor}&url=${encodeURIComponent(`https://${slug}.example/p${i}`)}&action_name=P${i}`);
        expect(response.statusCode).toBe(204);
      }
    }
    for (const slug of ['lite', 'post']) {
      const visits = await lastVisits(slug);
      expect(visits).toHaveLength(1);
      expect(visits[0]?.visitorId).toBe(visitor);
      expect(visits[0]?.actions).toBe(20);
      const urls = visits[0]?.actionDetails.map((a) => a.url) ?? [];
      expect(urls.every((url) => url?.startsWith(`https://${slug}.example/`))).toBe(true);
    }
    expect(h.platform.tracking.queuedHits).toBe(0);
  });

  it('bulk requests with mixed valid and invalid entries store the valid ones on PostgreSQL too', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/matomo.php',
      headers: { host: 'post.test', 'content-type': 'application/json', 'user-agent': CHROME },
      payload: JSON.stringify({
        requests: ['?idsite=1&rec=1&_id=0000000000000b01&url=https%3A%2F%2Fpost.example%2Fbulk', '?idsite=99&rec=1&url=x', { idsite: 1, rec: 1, _id: '0000000000000b02', url: 'https://post.example/obj' }, 'no-query'],
      }),
    });
    expect(response.json()).toEqual({ status: 'success', tracked: 2, invalid: 2, invalid_indices: [1, 3] });
    const visitors = (await lastVisits('post')).map((v) => v.visitorId);
    expect(visitors).toEqual(expect.arrayContaining(['0000000000000b01', '0000000000000b02']));
  });
  it('never writes hits of a deleted tenant into a new tenant created with the same slug', async () => {
    for (const [slug, storage] of [['again-lite', 'sqlite'], ['again-post', pg.url]] as const) {
      const host = `${slug}.test`;
      await h.addTenant(slug, [host], storage);
      await h.addSite(slug, `${slug}-site`);
      // Acknowledged, and still waiting in the applier (60 s batching) when the tenant goes.
      expect((await track(host, '_id=00000000000000aa&url=https%3A%2F%2Fold.example%2F')).statusCode).toBe(204);
      await h.platform.tenants.delete(slug, { force: true });
      await h.addTenant(slug, [host], storage);
      await h.addSite(slug, `${slug}-site`);
      await h.platform.tracking.drain();
      const tenant = await h.platform.tenants.get(slug);
      const visits = await h.platform.stores.use(tenant, (store) => store.db.selectFrom('visit').select('id').execute());
      expect(visits).toEqual([]);
    }
    expect(h.platform.tracking.queuedHits).toBe(0);
  });
});

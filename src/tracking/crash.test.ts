/**
 * Durability: hits are sent at full speed to a real server process, which is
 * killed with SIGKILL mid-stream. After a restart every acknowledged hit must be
 * in the store exactly once (a hit is acknowledged once it is in the tracking
 * journal; the restarted server applies what the killed one had not).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { openPlatform } from '../platform/platform.js';
import { createSite } from '../sites/sites-access.service.js';
import type { Tenant } from '../tenancy/tenant.js';
import { freePort } from '../http/test-support/free-port.js';

function hit(port: number, agent: Agent, n: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, agent, path: `/matomo.php?idsite=1&rec=1&send_image=0&_id=00000000000000ff&url=https%3A%2F%2Fsite.example%2Fh${n}`, headers: { host: 'crash.test' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A data directory with one tenant (host <slug>.test) and one site, and no platform left open. */
async function tenantWithSite(dataDir: string, slug: string): Promise<Tenant> {
  const setup = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
  try {
    const tenant = await setup.tenants.create({ slug, hosts: [`${slug}.test`] });
    await setup.withStore(tenant, (store) =>
      createSite({ platform: setup, scope: { kind: 'tenant', tenant, store }, actor: { kind: 'system', name: 'test' }, ip: null }, { name: 'site', urls: ['https://site.example'] }),
    );
    return tenant;
  } finally {
    await setup.close();
  }
}

describe('crash safety', () => {
  it('loses no acknowledged hit when the server is killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plura-crash-'));
    try {
      await tenantWithSite(dataDir, 'crash');

      const port = await freePort();
      const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
      const serve = () =>
        spawn(process.execPath, ['--import', 'tsx', main, '--data-dir', dataDir, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
          stdio: 'ignore',
          // A long batching interval: most acknowledged hits are only in the journal when the kill comes.
          env: { ...process.env, LOG_LEVEL: 'error', PLURA_GENERAL_CREATE_DEMO_TENANT: '0', PLURA_TRACKER_GROUP_COMMIT_INTERVAL_MS: '2000' },
        });
      const child = serve();
      const agent = new Agent({ keepAlive: true, maxSockets: 20 });
      for (let i = 0; i < 300 && (await hit(port, agent, -1)) === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));

      const acknowledged: number[] = [];
      let next = 0;
      let stop = false;
      const worker = async (): Promise<void> => {
        while (!stop) {
          const n = next;
          next += 1;
          if ((await hit(port, agent, n)) === 204) acknowledged.push(n);
        }
      };
      const workers = Array.from({ length: 20 }, () => worker());
      while (acknowledged.length < 1500) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      agent.destroy();
      await new Promise((resolve) => child.once('exit', resolve));
      expect(readdirSync(join(dataDir, 'journal')).filter((name) => name.endsWith('.log')).length).toBeGreaterThan(0);

      // Restart: the server replays the journal before it listens, then stops cleanly.
      const restarted = serve();
      for (let i = 0; i < 300; i += 1) {
        const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => true, () => false);
        if (up) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      restarted.kill('SIGTERM');
      await new Promise((resolve) => restarted.once('exit', resolve));
      expect(readdirSync(join(dataDir, 'journal')).filter((name) => name.endsWith('.log'))).toEqual([]);

      const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
      try {
        const stored = await platform.withStore(await platform.tenants.get('crash'), (store) =>
          store.db.selectFrom('visit_action').innerJoin('action_name', 'action_name.id', 'visit_action.url_id').select('action_name.name').execute(),
        );
        const storedNumbers = stored.map((row) => Number(/\/h(-?\d+)$/.exec(row.name)?.[1])).filter((n) => n >= 0);
        const unique = new Set(storedNumbers);
        const lost = acknowledged.filter((n) => !unique.has(n));
        expect(acknowledged.length).toBeGreaterThanOrEqual(1500);
        expect(lost).toEqual([]);
        // Replaying never stores a hit twice.
        expect(storedNumbers.length).toBe(unique.size);
      } finally {
        await platform.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
  it('applies a journal left by an earlier version, whose lines hold the raw hit (h) instead of decoded parameters', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plura-legacy-journal-'));
    try {
      const tenant = await tenantWithSite(dataDir, 'legacy');
      const meta = { ip: '192.0.2.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', acceptLanguage: 'de', refererHeader: '', doNotTrack: false, receivedAt: Math.floor(Date.now() / 1000) };
      const lines = [
        { s: 1, t: 'legacy', c: tenant.createdAt, h: { q: 'idsite=1&rec=1&_id=00000000000000ee&url=https%3A%2F%2Fsite.example%2Fq&action_name=Caf%C3%A9' }, m: meta },
        { s: 2, t: 'legacy', c: tenant.createdAt, h: { b: { idsite: 1, rec: 1, _id: '00000000000000ee', url: 'https://site.example/b' } }, m: meta },
      ];
      mkdirSync(join(dataDir, 'journal'), { recursive: true });
      writeFileSync(join(dataDir, 'journal', '1.log'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));

      const platform = await openPlatform({ dataDir, env: { PLURA_GENERAL_CREATE_DEMO_TENANT: '0' } });
      try {
        await platform.tracking.start();
        await platform.tracking.drain();
        const actions = await platform.withStore(tenant, (store) =>
          store.db.selectFrom('visit_action').innerJoin('action_name as u', 'u.id', 'visit_action.url_id').leftJoin('action_name as t', 't.id', 'visit_action.title_id').select(['u.name as url', 't.name as title']).orderBy('visit_action.id').execute(),
        );
        expect(actions).toEqual([
          { url: 'https://site.example/q', title: 'Café' },
          { url: 'https://site.example/b', title: null },
        ]);
      } finally {
        await platform.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Archiving ahead of requests: `plura core:archive` (date range, sites, late
 * hits) and the in-process scheduler, with browser archiving off so that reports
 * show exactly what the archiver stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, tokenFor, type Harness } from '../http/test-support/harness.js';
import { createSite } from '../sites/sites-access.service.js';
import { ArchiveScheduler } from './archive-runner.js';
import { runCli } from '../cli/test-support/run-cli.js';
import { dayRange } from './periods.js';

describe('core:archive and the archive scheduler', () => {
  let h: Harness;
  let token = '';

  const cli = (...args: string[]) => runCli(h.platform.paths.dataDir, ...args);

  const track = async (day: string, visitor: string, hits: number) => {
    const start = dayRange('UTC', day)[0] + 10 * 3600;
    const requests = Array.from({ length: hits }, (_, i) => `?idsite=1&rec=1&_id=${visitor}&cdt=${start + i * 60}&url=${encodeURIComponent(`https://arch.example/p${i}`)}`);
    const response = await h.app.inject({ method: 'POST', url: '/matomo.php', headers: { host: 'arch.test', 'content-type': 'application/json' }, payload: JSON.stringify({ token_auth: token, requests }) });
    expect(response.json()).toMatchObject({ tracked: hits });
    await h.platform.tracking.drain();
  };

  const visits = async (period: string, date: string): Promise<unknown> => {
    const response = await h.app.inject({ method: 'GET', url: `/index.php?module=API&method=VisitsSummary.get&idSite=1&period=${period}&date=${date}&format=json&token_auth=${token}`, headers: { host: 'arch.test' } });
    return response.json();
  };

  beforeAll(async () => {
    h = await openHarness({ PLURA_GENERAL_BROWSER_ARCHIVING: '0' });
    await h.addTenant('arch', ['arch.test']);
    await h.addTenant('idle', ['idle.test']);
    await h.asOperator('arch', (ctx) => createSite(ctx, { name: 'Arch', urls: ['https://arch.example'], timezone: 'UTC' }));
    await h.addUser('arch', 'arch-admin', { superuser: true });
    token = await tokenFor(h.app, 'arch.test', 'arch-admin');
    await track('2026-10-01', '00000000000000a1', 3);
    await track('2026-10-02', '00000000000000a2', 1);
    await track('2026-10-03', '00000000000000a1', 2);
  });

  afterAll(async () => {
    await h.close();
  });

  it('archives a forced date range; requests then read what it stored', async () => {
    expect(await visits('day', '2026-10-01')).toEqual([]);
    const run = await cli('core:archive', '--tenant', 'arch', '--force-date-range', '2026-10-01,2026-10-03');
    expect(run).toMatchObject({ code: 0, out: expect.stringMatching(/^arch: archived \d+ period\(s\) of 1 site\(s\)/) });
    expect(await visits('day', '2026-10-01')).toMatchObject({ nb_visits: 1, nb_actions: 3 });
    expect(await visits('month', '2026-10-01')).toMatchObject({ nb_visits: 3, nb_actions: 6, nb_uniq_visitors: 2 });
    expect(await visits('year', '2026-10-01')).toMatchObject({ nb_visits: 3, nb_actions: 6 });
  });

  it('rebuilds the days late hits arrived for, and their month, on the next default run', async () => {
    await track('2026-10-02', '00000000000000a3', 4);
    // Browser archiving is off: the stored (now stale) archive is what requests see until the archiver runs.
    expect(await visits('month', '2026-10-01')).toMatchObject({ nb_visits: 3 });
    expect(await cli('core:archive', '--tenant', 'arch.test', '--force-idsites', '1')).toMatchObject({ code: 0 });
    expect(await visits('day', '2026-10-02')).toMatchObject({ nb_visits: 2, nb_actions: 5 });
    expect(await visits('month', '2026-10-01')).toMatchObject({ nb_visits: 4, nb_actions: 10, nb_uniq_visitors: 3 });
  });

  it('refuses bad options with a clear message', async () => {
    expect(await cli('core:archive', '--force-idsites', '1')).toMatchObject({ code: 1, err: expect.stringContaining('--tenant') });
    expect(await cli('core:archive', '--tenant', 'arch', '--force-date-range', '2026-10-05')).toMatchObject({ code: 1, err: expect.stringContaining('two dates') });
    expect(await cli('core:archive', '--tenant', 'arch', '--force-date-range', '2026-10-05,2026-10-01')).toMatchObject({ code: 1, err: expect.stringContaining('ends before') });
    expect(await cli('core:archive', '--tenant', 'arch', '--force-idsites', '7')).toMatchObject({ code: 1, err: expect.stringContaining('no site 7') });
  });

  it('the scheduler starts each due tenant once per interval, side by side', async () => {
    const scheduler = new ArchiveScheduler(h.platform, { concurrency: 4 });
    await scheduler.tick();
    expect([...scheduler.active].sort()).toEqual(['arch', 'idle']);
    while (scheduler.active.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.tick();
    expect(scheduler.active).toEqual([]);
    // An hour later (General.archiving_interval_seconds) both are due again.
    await scheduler.tick(Date.now() + 3_601_000);
    expect(scheduler.active.length).toBe(2);
    while (scheduler.active.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  });
});

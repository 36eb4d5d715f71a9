/**
 * SegmentEditor, Annotations, goals and custom dimensions through the Matomo API:
 * who may do what, Matomo's answers, and the reports that use them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserAccess } from '../access/users.service.js';
import { openHarness, tokenFor, type Harness } from '../http/test-support/harness.js';

const HOST = 'mgmt.test';

describe('segments, annotations, goals and custom dimensions', () => {
  let h: Harness;
  const tokens: Record<string, string> = {};

  const call = async (who: string, method: string, params: Record<string, string> = {}): Promise<unknown> => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/index.php',
      headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ module: 'API', format: 'json', method, token_auth: tokens[who] ?? '', ...params }).toString(),
    });
    expect(response.statusCode).toBeLessThan(500);
    return response.json();
  };

  beforeAll(async () => {
    // Today's reports are computed again on every request here (no 15-minute reuse).
    h = await openHarness({ PLURA_GENERAL_TIME_BEFORE_TODAY_ARCHIVE_CONSIDERED_OUTDATED: '0' });
    await h.addTenant('mgmt', [HOST]);
    await h.addSite('mgmt', 'shop');
    await h.addSite('mgmt', 'other');
    await h.addUser('mgmt', 'boss', { superuser: true });
    for (const login of ['ann', 'bob', 'writer', 'admin']) await h.addUser('mgmt', login);
    await h.asOperator('mgmt', async (ctx) => {
      await setUserAccess(ctx, 'ann', 'view', [1]);
      await setUserAccess(ctx, 'bob', 'view', [1]);
      await setUserAccess(ctx, 'writer', 'write', [1]);
      await setUserAccess(ctx, 'admin', 'admin', [1]);
    });
    for (const login of ['boss', 'ann', 'bob', 'writer', 'admin']) tokens[login] = await tokenFor(h.app, HOST, login);
  });

  afterAll(async () => {
    await h.close();
  });

  it('stores segments per user; sharing needs a super user; only the owner or a super user changes one', async () => {
    const id = await call('ann', 'SegmentEditor.add', { name: 'Mobile', definition: 'deviceType==smartphone', idSite: '1' });
    expect(id).toEqual({ value: expect.any(Number) });
    const idSegment = String((id as { value: number }).value);
    expect(await call('ann', 'SegmentEditor.getAll', { idSite: '1' })).toEqual([expect.objectContaining({ idsegment: Number(idSegment), name: 'Mobile', definition: 'deviceType==smartphone', login: 'ann', enable_only_idsite: 1 })]);
    expect(await call('bob', 'SegmentEditor.getAll', { idSite: '1' })).toEqual([]);
    expect(await call('bob', 'SegmentEditor.update', { idSegment, name: 'Mine now', definition: 'deviceType==desktop' })).toMatchObject({ result: 'error' });
    expect(await call('ann', 'SegmentEditor.add', { name: 'Shared', definition: 'browserName==Chrome', enabledAllUsers: '1' })).toMatchObject({ result: 'error', message: expect.stringContaining('superuser') });
    expect(await call('ann', 'SegmentEditor.add', { name: 'Broken', definition: 'deviceType~~x' })).toMatchObject({ result: 'error', message: expect.stringContaining('not valid') });
    expect(await call('ann', 'SegmentEditor.add', { name: 'Elsewhere', definition: 'deviceType==desktop', idSite: '2' })).toMatchObject({ result: 'error' });
    await call('boss', 'SegmentEditor.add', { name: 'Shared', definition: 'browserName==Chrome', enabledAllUsers: '1' });
    expect(((await call('bob', 'SegmentEditor.getAll')) as { name: string }[]).map((s) => s.name)).toEqual(['Shared']);
    expect(await call('ann', 'SegmentEditor.update', { idSegment, name: 'Phones', definition: 'deviceType==smartphone', idSite: '1' })).toEqual({ value: true });
    expect(await call('ann', 'SegmentEditor.get', { idSegment })).toMatchObject({ name: 'Phones' });
    expect(await call('ann', 'SegmentEditor.delete', { idSegment })).toEqual({ result: 'success', message: 'ok' });
    expect(((await call('ann', 'SegmentEditor.getAll')) as { name: string }[]).map((s) => s.name)).toEqual(['Shared']);
  });

  it('keeps annotations per site; the author or a super user edits them', async () => {
    const note = (await call('ann', 'Annotations.add', { idSite: '1', date: '2026-10-05', note: 'Launch day', starred: '1' })) as { idNote: number };
    expect(note).toMatchObject({ date: '2026-10-05', note: 'Launch day', starred: 1, user: 'ann', canEditOrDelete: true });
    await call('bob', 'Annotations.add', { idSite: '1', date: '2026-10-20', note: 'Newsletter' });
    expect(await call('bob', 'Annotations.getAll', { idSite: '1', date: '2026-10-01,2026-10-10' })).toEqual({ '1': [expect.objectContaining({ note: 'Launch day', canEditOrDelete: false })] });
    expect(await call('bob', 'Annotations.save', { idSite: '1', idNote: String(note.idNote), note: 'Mine now' })).toMatchObject({ result: 'error' });
    expect(await call('boss', 'Annotations.save', { idSite: '1', idNote: String(note.idNote), note: 'Launch' })).toMatchObject({ note: 'Launch' });
    expect(await call('ann', 'Annotations.add', { idSite: '2', date: '2026-10-05', note: 'no access' })).toMatchObject({ result: 'error' });
    expect(await call('ann', 'Annotations.add', { idSite: '1', date: 'soon', note: 'bad date' })).toMatchObject({ result: 'error', message: expect.stringContaining('date') });
    expect(await call('ann', 'Annotations.delete', { idSite: '1', idNote: String(note.idNote) })).toEqual({ result: 'success', message: 'ok' });
    expect(((await call('ann', 'Annotations.getAll', { idSite: '1' })) as Record<string, unknown[]>)['1']).toHaveLength(1);
  });

  it('manages goals with write access, and Goals.get reports their conversions', async () => {
    expect(await call('ann', 'Goals.addGoal', { idSite: '1', name: 'Signup', matchAttribute: 'url', pattern: '/welcome', patternType: 'contains' })).toMatchObject({ result: 'error' });
    expect(await call('writer', 'Goals.addGoal', { idSite: '1', name: 'Signup', matchAttribute: 'url', pattern: '/welcome', patternType: 'contains', revenue: '5' })).toEqual({ value: 1 });
    expect(await call('writer', 'Goals.addGoal', { idSite: '1', name: 'Bad', matchAttribute: 'colour', pattern: 'x' })).toMatchObject({ result: 'error', message: expect.stringContaining('colour') });
    expect(await call('writer', 'Goals.updateGoal', { idSite: '1', idGoal: '1', name: 'Sign-up', matchAttribute: 'url', pattern: '/welcome', patternType: 'contains', revenue: '7' })).toEqual({ result: 'success', message: 'ok' });
    expect(await call('ann', 'Goals.getGoals', { idSite: '1' })).toEqual([expect.objectContaining({ idgoal: 1, name: 'Sign-up', match_attribute: 'url', pattern: '/welcome', revenue: 7 })]);

    for (const [visitor, path] of [['00000000000000c1', '/welcome'], ['00000000000000c2', '/home']] as const) {
      const response = await h.app.inject({ method: 'GET', url: `/matomo.php?idsite=1&rec=1&send_image=0&_id=${visitor}&url=${encodeURIComponent(`https://shop.example${path}`)}`, headers: { host: HOST } });
      expect(response.statusCode).toBe(204);
    }
    expect(await call('ann', 'Goals.get', { idSite: '1', period: 'day', date: 'today', idGoal: '1' })).toMatchObject({ nb_conversions: 1, nb_visits_converted: 1, revenue: 7, conversion_rate: '50%' });
    expect(await call('writer', 'Goals.deleteGoal', { idSite: '1', idGoal: '1' })).toEqual({ result: 'success', message: 'ok' });
    expect(await call('ann', 'Goals.getGoals', { idSite: '1' })).toEqual([]);
    expect(await call('writer', 'Goals.deleteGoal', { idSite: '1', idGoal: '1' })).toMatchObject({ result: 'error', message: expect.stringContaining('does not exist') });
  });

  it('configures custom dimensions (admin) and reports them in their scope', async () => {
    expect(await call('writer', 'CustomDimensions.configureNewCustomDimension', { idSite: '1', name: 'Plan', scope: 'visit', active: '1' })).toMatchObject({ result: 'error' });
    expect(await call('admin', 'CustomDimensions.configureNewCustomDimension', { idSite: '1', name: 'Plan', scope: 'visit', active: '1' })).toEqual({ value: 1 });
    expect(await call('admin', 'CustomDimensions.configureNewCustomDimension', { idSite: '1', name: 'Section', scope: 'action', active: '1' })).toEqual({ value: 2 });
    expect(await call('admin', 'CustomDimensions.configureNewCustomDimension', { idSite: '1', name: 'Odd', scope: 'page' })).toMatchObject({ result: 'error', message: expect.stringContaining('scope') });
    expect(await call('ann', 'CustomDimensions.getConfiguredCustomDimensions', { idSite: '1' })).toEqual([
      expect.objectContaining({ idcustomdimension: 1, name: 'Plan', scope: 'visit', active: true }),
      expect.objectContaining({ idcustomdimension: 2, name: 'Section', scope: 'action', active: true }),
    ]);
    for (const [visitor, plan, section] of [['00000000000000d1', 'gold', 'news'], ['00000000000000d2', 'free', 'news'], ['00000000000000d3', 'gold', 'shop']] as const) {
      await h.app.inject({ method: 'GET', url: `/matomo.php?idsite=1&rec=1&send_image=0&_id=${visitor}&url=https%3A%2F%2Fshop.example%2Fd&dimension1=${plan}&dimension2=${section}`, headers: { host: HOST } });
    }
    const plans = (await call('ann', 'CustomDimensions.getCustomDimension', { idSite: '1', period: 'day', date: 'today', idDimension: '1' })) as { label: string; nb_visits: number }[];
    expect(Object.fromEntries(plans.map((row) => [row.label, row.nb_visits]))).toEqual({ gold: 2, free: 1 });
    const sections = (await call('ann', 'CustomDimensions.getCustomDimension', { idSite: '1', period: 'day', date: 'today', idDimension: '2' })) as { label: string; nb_hits: number }[];
    expect(Object.fromEntries(sections.map((row) => [row.label, row.nb_hits]))).toEqual({ news: 2, shop: 1 });
    expect(await call('admin', 'CustomDimensions.configureExistingCustomDimension', { idSite: '1', idDimension: '1', name: 'Plan tier', active: '0' })).toEqual({ result: 'success', message: 'ok' });
    expect(await call('ann', 'CustomDimensions.getConfiguredCustomDimensions', { idSite: '1' })).toEqual(expect.arrayContaining([expect.objectContaining({ idcustomdimension: 1, name: 'Plan tier', active: false })]));
  });
  it('deleting a site removes its raw data, goals, archives, segments, notes and dimensions', async () => {
    const created = (await call('boss', 'SitesManager.addSite', { siteName: 'doomed', urls: 'https://doomed.example' })) as { value: number };
    const siteId = String(created.value);
    await h.app.inject({ method: 'GET', url: `/matomo.php?idsite=${siteId}&rec=1&send_image=0&_id=00000000000000e1&url=https%3A%2F%2Fdoomed.example%2F`, headers: { host: HOST } });
    expect(await call('boss', 'VisitsSummary.get', { idSite: siteId, period: 'month', date: 'today' })).toMatchObject({ nb_visits: 1 });
    await call('boss', 'Goals.addGoal', { idSite: siteId, name: 'g', matchAttribute: 'manually' });
    await call('boss', 'Annotations.add', { idSite: siteId, date: '2026-10-05', note: 'n' });
    await call('boss', 'SegmentEditor.add', { idSite: siteId, name: 's', definition: 'deviceType==desktop' });
    await call('boss', 'CustomDimensions.configureNewCustomDimension', { idSite: siteId, name: 'd', scope: 'visit' });
    expect(await call('boss', 'SitesManager.deleteSite', { idSite: siteId })).toEqual({ result: 'success', message: 'ok' });
    const left = await h.asOperator('mgmt', async (ctx) => {
      if (ctx.scope.kind !== 'tenant') return [];
      const db = ctx.scope.store.db;
      const id = Number(siteId);
      return Promise.all([
        db.selectFrom('visit').select('id').where('site_id', '=', id).execute(),
        db.selectFrom('goal').select('goal_id').where('site_id', '=', id).execute(),
        db.selectFrom('archive').select('id').where('site_id', '=', id).execute(),
        db.selectFrom('annotation').select('id').where('site_id', '=', id).execute(),
        db.selectFrom('saved_segment').select('id').where('site_id', '=', id).execute(),
        db.selectFrom('custom_dimension').select('id').where('site_id', '=', id).execute(),
      ]);
    });
    expect(left.map((rows) => rows.length)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

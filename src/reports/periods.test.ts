import { describe, expect, it } from 'vitest';
import { periodOf, rangePeriod, resolvePeriods, subPeriods } from './periods.js';

// 2024-03-13 is a Wednesday. 23:30 UTC is already the 14th in Berlin and still the 13th in New York.
const NOW = Date.parse('2024-03-13T23:30:00Z');
const resolve = (period: string, date: string, timezone = 'UTC') => resolvePeriods(period, date, timezone, NOW);
const labels = (period: string, date: string, timezone = 'UTC') => resolve(period, date, timezone).periods.map((p) => p.label);

describe('Matomo period and date grammar', () => {
  it('resolves single days, weeks, months and years, relative words in the site time zone', () => {
    expect(resolve('day', 'today')).toEqual({ periods: [{ kind: 'day', start: '2024-03-13', end: '2024-03-13', label: '2024-03-13' }], multiple: false });
    expect(labels('day', 'today', 'Europe/Berlin')).toEqual(['2024-03-14']);
    expect(labels('day', 'now', 'America/New_York')).toEqual(['2024-03-13']);
    expect(labels('day', 'yesterday')).toEqual(['2024-03-12']);
    expect(labels('day', 'yesterdaySameTime')).toEqual(['2024-03-12']);
    expect(labels('week', '2024-03-13')).toEqual(['2024-03-11,2024-03-17']);
    expect(labels('week', '2024-03-17')).toEqual(['2024-03-11,2024-03-17']); // Sunday ends the ISO week
    expect(labels('month', '2024-02-10')).toEqual(['2024-02']);
    expect(resolve('month', '2024-02-10').periods[0]).toMatchObject({ start: '2024-02-01', end: '2024-02-29' });
    expect(labels('year', 'today')).toEqual(['2024']);
    expect(labels('day', 'lastWeek')).toEqual(['2024-03-06']);
    expect(labels('day', 'last-month')).toEqual(['2024-02-13']);
    expect(labels('day', 'last year')).toEqual(['2023-03-13']);
    expect(labels('day', '2024-3-5')).toEqual(['2024-03-05']);
    expect(labels('day', String(Date.parse('2024-01-02T12:00:00Z') / 1000))).toEqual(['2024-01-02']);
  });

  it('lastN includes the current period, previousN ends before it', () => {
    expect(labels('day', 'last3')).toEqual(['2024-03-11', '2024-03-12', '2024-03-13']);
    expect(labels('day', 'previous2')).toEqual(['2024-03-11', '2024-03-12']);
    expect(labels('week', 'last2')).toEqual(['2024-03-04,2024-03-10', '2024-03-11,2024-03-17']);
    expect(labels('month', 'previous3')).toEqual(['2023-12', '2024-01', '2024-02']);
    expect(labels('year', 'last2')).toEqual(['2023', '2024']);
    expect(resolve('day', 'last3').multiple).toBe(true);
  });

  it('A,B lists every period from A to B; with period=range it is one range', () => {
    expect(labels('day', '2024-02-28,2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(labels('month', '2023-11-15,today')).toEqual(['2023-11', '2023-12', '2024-01', '2024-02', '2024-03']);
    expect(resolve('range', '2024-01-05,2024-02-10')).toEqual({ periods: [rangePeriod('2024-01-05', '2024-02-10')], multiple: false });
    expect(resolve('range', '2024-01-05,2024-01-05').periods[0]?.kind).toBe('day');
    expect(resolve('range', 'last7').periods[0]).toMatchObject({ start: '2024-03-07', end: '2024-03-13' });
    expect(resolve('range', 'previous7').periods[0]).toMatchObject({ start: '2024-03-06', end: '2024-03-12' });
    expect(resolve('range', '2024-03-01,yesterday').periods[0]).toMatchObject({ start: '2024-03-01', end: '2024-03-12' });
  });

  it('refuses what Matomo refuses, with its messages', () => {
    expect(() => resolve('decade', 'today')).toThrow(/period 'decade' is not supported/);
    expect(() => resolve('day', 'someday')).toThrow(/not a correct date/);
    expect(() => resolve('day', '2024-02-30')).toThrow(/not a correct date/);
    expect(() => resolve('range', '2024-03-05')).toThrow("The date '2024-03-05' is not a correct date range. It should have the following format: 'lastN', 'previousN', 'YYYY-MM-DD,YYYY-MM-DD'.");
    expect(() => resolve('range', '2024-03-05,2024-03-01')).toThrow(/not a correct date range/);
    expect(() => resolve('year', 'last11')).toThrow(/At most 10 periods/);
    expect(() => resolve('day', '1990-01-01')).toThrow(/before the first website/);
  });
});

describe('ranges built from the largest whole periods', () => {
  const kinds = (start: string, end: string, today = '2024-12-31') => subPeriods(rangePeriod(start, end), today).map((p) => `${p.kind}:${p.label}`);

  it('uses years, months, weeks, then days', () => {
    const parts = subPeriods(rangePeriod('2023-01-01', '2024-02-14'), '2024-12-31');
    expect(parts.map((p) => p.label)).toEqual(['2023', '2024-01', '2024-02-01', '2024-02-02', '2024-02-03', '2024-02-04', '2024-02-05,2024-02-11', '2024-02-12', '2024-02-13', '2024-02-14']);
    // Every day of the range is covered exactly once.
    const days = new Set<string>();
    for (const part of parts) for (let d = part.start; d <= part.end; d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)) days.add(d);
    expect(days.size).toBe(410);
  });

  it('uses the whole current month or year when the range reaches today', () => {
    expect(kinds('2024-03-01', '2024-03-13', '2024-03-13')).toEqual(['month:2024-03']);
    expect(kinds('2024-01-01', '2024-03-13', '2024-03-13')).toEqual(['year:2024']);
    // A range ending before today inside the month stays in weeks and days.
    expect(kinds('2024-03-01', '2024-03-12', '2024-03-13')).toEqual(['day:2024-03-01', 'day:2024-03-02', 'day:2024-03-03', 'week:2024-03-04,2024-03-10', 'day:2024-03-11', 'day:2024-03-12']);
  });

  it('has the periods of a day, a week, a month and a year', () => {
    expect(periodOf('week', '2024-01-01')).toMatchObject({ start: '2024-01-01', end: '2024-01-07' });
    expect(periodOf('month', '2023-02-15')).toMatchObject({ start: '2023-02-01', end: '2023-02-28', label: '2023-02' });
    expect(periodOf('year', '2024-06-01')).toMatchObject({ start: '2024-01-01', end: '2024-12-31', label: '2024' });
  });
});

import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

/**
 * The report view lives in the URL (period, date, segment as search params) so that a
 * view is linkable and the back button walks through what the user looked at.
 */

export const PERIODS = ['day', 'week', 'month', 'year', 'range'] as const;
export type Period = (typeof PERIODS)[number];

export const PERIOD_LABELS: Readonly<Record<Period, string>> = { day: 'Day', week: 'Week', month: 'Month', year: 'Year', range: 'Date range' };

export interface ReportView {
  readonly period: Period;
  /** Passed to the Matomo API as it is: today, yesterday, YYYY-MM-DD, or A,B for a range. */
  readonly date: string;
  readonly segment: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isPeriod(value: string | null): value is Period {
  return value !== null && (PERIODS as readonly string[]).includes(value);
}

/** A YYYY-MM-DD for a local date. */
export function isoDay(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  date.setDate(date.getDate() + days);
  return isoDay(date);
}

/** today / yesterday / YYYY-MM-DD as a YYYY-MM-DD (the browser's calendar; the server uses the site's time zone). */
export function resolveDay(word: string, now = new Date()): string {
  if (word === 'today') return isoDay(now);
  if (word === 'yesterday') return addDays(isoDay(now), -1);
  return DAY.test(word) ? word : isoDay(now);
}

/** The view in the URL, with defaults for what is missing or malformed. */
export function viewOf(search: URLSearchParams): ReportView {
  const rawPeriod = search.get('period');
  const period: Period = isPeriod(rawPeriod) ? rawPeriod : 'day';
  let date = search.get('date') ?? '';
  if (period === 'range') {
    const [a, b] = date.split(',');
    if (!a || !b || !DAY.test(resolveDay(a)) || !DAY.test(resolveDay(b))) date = `${addDays(isoDay(new Date()), -6)},${isoDay(new Date())}`;
  } else if (date !== 'today' && date !== 'yesterday' && !DAY.test(date)) {
    date = 'today';
  }
  return { period, date, segment: search.get('segment') ?? '' };
}

/** The first and last day of a range view. */
export function rangeDays(view: ReportView): [string, string] {
  const [a = 'today', b = 'today'] = view.date.split(',');
  return [resolveDay(a), resolveDay(b)];
}

/** The view and a way to change part of it (each change is a history entry). */
export function useReportView(): [ReportView, (change: Partial<ReportView>) => void] {
  const [search, setSearch] = useSearchParams();
  const view = useMemo(() => viewOf(search), [search]);
  const update = useCallback(
    (change: Partial<ReportView>) => {
      setSearch((current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(change)) {
          if (value === undefined) continue;
          if (value === '') next.delete(key);
          else next.set(key, value);
        }
        return next;
      });
    },
    [setSearch],
  );
  return [view, update];
}

/** The search part of a link that keeps the current view (period, date, segment). */
export function viewSearch(view: ReportView): string {
  const search = new URLSearchParams({ period: view.period, date: view.date });
  if (view.segment) search.set('segment', view.segment);
  return `?${search.toString()}`;
}

/** Parameters every report call of this view carries. */
export function viewParams(view: ReportView): { period: string; date: string; segment?: string } {
  return { period: view.period, date: view.date, ...(view.segment ? { segment: view.segment } : {}) };
}

/**
 * The periods leading up to the viewed one, for evolution charts: 30 days, 16 weeks,
 * 12 months, 5 years; a range is shown day by day.
 */
export function evolutionParams(view: ReportView): { period: string; date: string } {
  if (view.period === 'range') {
    const [start, end] = rangeDays(view);
    return { period: 'day', date: `${start},${end}` };
  }
  const counts: Readonly<Record<Exclude<Period, 'range'>, number>> = { day: 30, week: 16, month: 12, year: 5 };
  const count = counts[view.period];
  if (view.date === 'today') return { period: view.period, date: `last${count}` };
  if (view.date === 'yesterday' && view.period === 'day') return { period: 'day', date: `previous${count}` };
  const end = resolveDay(view.date);
  const [y, m, d] = end.split('-').map(Number);
  const start = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  if (view.period === 'day') start.setDate(start.getDate() - (count - 1));
  if (view.period === 'week') start.setDate(start.getDate() - 7 * (count - 1));
  if (view.period === 'month') start.setMonth(start.getMonth() - (count - 1), 1);
  if (view.period === 'year') start.setFullYear(start.getFullYear() - (count - 1), 0, 1);
  return { period: view.period, date: `${isoDay(start)},${end}` };
}

/** "Tuesday 3 December 2026", "week of 2 December", "December 2026", "2026", "1 – 7 December". */
export function describeView(view: ReportView): string {
  if (view.period === 'range') {
    const [start, end] = rangeDays(view);
    return `${formatDay(start)} – ${formatDay(end)}`;
  }
  const day = resolveDay(view.date);
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  switch (view.period) {
    case 'day':
      return `${view.date === 'today' ? 'Today, ' : view.date === 'yesterday' ? 'Yesterday, ' : ''}${date.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })}`;
    case 'week':
      return `Week of ${date.toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' })}`;
    case 'month':
      return date.toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
    default:
      return String(date.getFullYear());
  }
}

function formatDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

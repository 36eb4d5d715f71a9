import { DURATION_METRICS } from './catalog';

/** A report row as the Matomo API answers it (label, metrics, url, segment, ...). */
export type ReportRow = Readonly<Record<string, unknown>>;

const numberFormat = new Intl.NumberFormat();

export function formatNumber(value: number): string {
  return numberFormat.format(value);
}

/** Seconds as "1h 02m 03s", "4m 10s", "12s". */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A metric's value as a number (rates answer "45%"), or null when absent. */
export function numericValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.replace(/[%,\s]/g, ''));
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A metric for display: durations as durations, rates as given, counts with separators. */
export function formatMetric(metric: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'string' && value.endsWith('%')) return value;
  const n = numericValue(value);
  if (n === null) return String(value);
  if (DURATION_METRICS.has(metric)) return formatDuration(n);
  return formatNumber(Math.round(n * 100) / 100);
}

export function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** A multi-period answer (keyed by period label) in period order; empty periods answer []. */
export function periodsOf<T>(answer: unknown): { label: string; value: T | null }[] {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return [];
  return Object.entries(answer as Record<string, unknown>).map(([label, value]) => ({ label, value: Array.isArray(value) && value.length === 0 ? null : (value as T) }));
}

/** "2026-11-04" → "4 Nov", "2026-11" → "Nov 2026", week "A,B" → "4 Nov"; years as they are. */
export function shortPeriodLabel(label: string): string {
  const first = label.split(',')[0] ?? label;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(first);
  if (day) return new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  const month = /^(\d{4})-(\d{2})$/.exec(first);
  if (month) return new Date(Number(month[1]), Number(month[2]) - 1, 1).toLocaleDateString(undefined, { month: 'short', year: 'numeric' });
  return first;
}

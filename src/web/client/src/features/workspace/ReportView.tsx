/**
 * Draws what the Matomo API answered for one report as its visualization asks: a line
 * chart of an evolution, a bar or pie chart of the top rows, a table, or numbers. The
 * shape of the answer decides what can be drawn; anything else falls back to a table.
 */
import { useMemo } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { Chart, lineChartOption } from '../../ui/Chart';
import { DataTable, type Column } from '../../ui/DataTable';
import { Empty } from '../../ui/components';
import type { Visualization } from './api';

type Row = Readonly<Record<string, unknown>>;

const METRIC_LABELS: Readonly<Record<string, string>> = {
  nb_visits: 'Visits',
  nb_uniq_visitors: 'Unique visitors',
  nb_users: 'Users',
  nb_actions: 'Actions',
  nb_hits: 'Hits',
  nb_pageviews: 'Pageviews',
  nb_uniq_pageviews: 'Unique pageviews',
  nb_events: 'Events',
  nb_conversions: 'Conversions',
  nb_visits_converted: 'Visits converted',
  bounce_rate: 'Bounce rate',
  bounce_count: 'Bounces',
  avg_time_on_site: 'Avg. visit duration (s)',
  sum_visit_length: 'Total time (s)',
  nb_actions_per_visit: 'Actions per visit',
  max_actions: 'Max actions',
  conversion_rate: 'Conversion rate',
  revenue: 'Revenue',
  entry_nb_visits: 'Entrances',
  entry_nb_actions: 'Actions after entry',
  entry_bounce_count: 'Bounces on entry',
  entry_sum_visit_length: 'Time after entry (s)',
  exit_nb_visits: 'Exits',
  avg_time_on_page: 'Avg. time on page',
  sum_time_spent: 'Time spent (s)',
  label: 'Label',
  url: 'URL',
  value: 'Value',
};
const PREFERRED = ['nb_visits', 'nb_uniq_visitors', 'nb_pageviews', 'nb_hits', 'nb_actions', 'nb_events', 'nb_conversions', 'bounce_rate', 'nb_actions_per_visit', 'avg_time_on_site', 'conversion_rate', 'revenue'];
const HIDDEN = new Set(['idsubdatatable', 'segment', 'sum_daily_nb_uniq_visitors', 'sum_daily_nb_users', 'subtable']);

export const metricLabel = (key: string) => METRIC_LABELS[key] ?? key.replace(/_/g, ' ');

const isRecord = (value: unknown): value is Row => typeof value === 'object' && value !== null && !Array.isArray(value);
const isRows = (value: unknown): value is Row[] => Array.isArray(value) && value.every(isRecord);
const isPrimitive = (value: unknown): value is string | number | boolean | null => value === null || ['string', 'number', 'boolean'].includes(typeof value);
const PERIOD_KEY = /^\d{4}(-\d{2}(-\d{2})?)?(,\d{4}-\d{2}-\d{2})?$/;

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.replace(/[%,\s$€£]/g, ''));
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function format(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Numeric columns of rows, the usual metrics first. */
function metricsOf(rows: readonly Row[], wanted: readonly string[]): string[] {
  const seen: string[] = [];
  for (const row of rows.slice(0, 50)) for (const [key, value] of Object.entries(row)) if (!HIDDEN.has(key) && key !== 'label' && numberOf(value) !== null && !seen.includes(key)) seen.push(key);
  const asked = wanted.filter((key) => seen.includes(key));
  if (asked.length > 0) return asked;
  return [...PREFERRED.filter((key) => seen.includes(key)), ...seen.filter((key) => !PREFERRED.includes(key))];
}

/** A multi-period answer (`period=day&date=last30`): keys are period labels. */
function periodsOf(data: unknown): [string, unknown][] | null {
  if (!isRecord(data)) return null;
  const entries = Object.entries(data);
  if (entries.length === 0 || !entries.every(([key, value]) => PERIOD_KEY.test(key) && (isRecord(value) || Array.isArray(value)))) return null;
  return entries;
}

const brand = () => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim() || '#3450a1';
const PALETTE = ['#e07b39', '#2a9d8f', '#8e5ea2', '#c9a227', '#5b8def', '#d1495b', '#6c757d'];

function barOption(labels: readonly string[], values: readonly number[], name: string): EChartsCoreOption {
  return {
    color: [brand()],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: labels.map((l) => (l.length > 32 ? `${l.slice(0, 30)}…` : l)) },
    series: [{ name, type: 'bar', barMaxWidth: 28, data: [...values] }],
  };
}

function pieOption(labels: readonly string[], values: readonly number[], name: string): EChartsCoreOption {
  return {
    color: [brand(), ...PALETTE],
    tooltip: { trigger: 'item' },
    legend: { type: 'scroll', bottom: 0 },
    series: [{ name, type: 'pie', radius: ['35%', '65%'], top: 0, bottom: 32, data: labels.map((label, i) => ({ name: label, value: values[i] ?? 0 })) }],
  };
}

/** Top rows by a metric, the rest summed as "Others". */
function topRows(rows: readonly Row[], metric: string, count: number): { labels: string[]; values: number[] } {
  const sorted = [...rows].sort((a, b) => (numberOf(b[metric]) ?? 0) - (numberOf(a[metric]) ?? 0));
  const labels = sorted.slice(0, count).map((row) => format(row['label'] ?? '—'));
  const values = sorted.slice(0, count).map((row) => numberOf(row[metric]) ?? 0);
  const rest = sorted.slice(count).reduce((sum, row) => sum + (numberOf(row[metric]) ?? 0), 0);
  if (rest > 0) {
    labels.push('Others');
    values.push(rest);
  }
  return { labels, values };
}

function RowsTable({ rows, caption }: { rows: readonly Row[]; caption: string }) {
  const columns = useMemo<Column<Row>[]>(() => {
    const numeric = metricsOf(rows, []);
    // The usual metrics first; raw sums and entry/exit details only when nothing else is there.
    const metrics = (numeric.some((key) => PREFERRED.includes(key)) ? numeric.filter((key) => PREFERRED.includes(key) || key in METRIC_LABELS) : numeric).slice(0, 7);
    const texts: string[] = [];
    for (const row of rows.slice(0, 20)) for (const [key, value] of Object.entries(row)) if (!HIDDEN.has(key) && !numeric.includes(key) && !texts.includes(key) && isPrimitive(value) && value !== null) texts.push(key);
    const first = texts.includes('label') ? ['label', ...texts.filter((t) => t !== 'label')] : texts;
    return [
      ...first.slice(0, metrics.length > 0 ? 2 : 8).map((key) => ({ key, label: metricLabel(key), render: (row: Row) => format(row[key]), value: (row: Row) => format(row[key]) })),
      ...metrics.map((key) => ({ key, label: metricLabel(key), numeric: true, render: (row: Row) => format(row[key]), value: (row: Row) => numberOf(row[key]) })),
    ];
  }, [rows]);
  return <DataTable caption={caption} columns={columns} rows={rows} rowKey={(_, i) => String(i)} searchable={rows.length > 10} pageSize={25} empty="No data for this period." />;
}

function Numbers({ values, wanted }: { values: Row; wanted: readonly string[] }) {
  const numeric = metricsOf([values], wanted);
  const shown = numeric.length > 0 ? numeric.slice(0, 8) : Object.keys(values).filter((key) => isPrimitive(values[key])).slice(0, 8);
  if (shown.length === 0) return <Empty title="No data for this period." />;
  return (
    <dl className="ws-numbers">
      {shown.map((key) => (
        <div key={key}>
          <dt>{metricLabel(key)}</dt>
          <dd>{format(values[key])}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ReportView({ data, visualization, title, params = {}, height = 260 }: { data: unknown; visualization: Visualization; title: string; params?: Readonly<Record<string, string>>; height?: number }) {
  const wanted = (params['columns'] ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const periods = periodsOf(data);

  if (periods) {
    const labels = periods.map(([key]) => key);
    // Matomo answers an empty array for a period without data, whatever the report's shape.
    if (!periods.some(([, value]) => Array.isArray(value) && value.length > 0)) {
      const rows = periods.map(([, value]) => (isRecord(value) ? value : {}));
      const metrics = metricsOf(rows, wanted);
      if (visualization === 'table') return <RowsTable caption={title} rows={periods.map(([key], i) => ({ label: key, ...rows[i] }))} />;
      const shown = metrics.length > 0 ? metrics.slice(0, wanted.length > 0 ? 4 : 2) : wanted.length > 0 ? wanted : ['nb_visits'];
      return <Chart label={`${title}: ${shown.map(metricLabel).join(', ')} over time`} height={height} option={lineChartOption(labels, shown.map((metric) => ({ name: metricLabel(metric), values: rows.map((row) => numberOf(row[metric]) ?? 0) })))} />;
    }
    // A table report over several periods: the top labels, each a line.
    const all = periods.flatMap(([, value]) => (isRows(value) ? value : []));
    const metric = metricsOf(all, wanted)[0];
    if (!metric) return <Empty title="No data for these periods." />;
    const totals = new Map<string, number>();
    for (const row of all) totals.set(format(row['label']), (totals.get(format(row['label'])) ?? 0) + (numberOf(row[metric]) ?? 0));
    const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([label]) => label);
    if (visualization !== 'line') return <RowsTable caption={title} rows={[...totals.entries()].map(([label, total]) => ({ label, [metric]: total }))} />;
    const series = top.map((label) => ({
      name: label,
      values: periods.map(([, value]) => (isRows(value) ? numberOf(value.find((row) => format(row['label']) === label)?.[metric]) ?? 0 : 0)),
    }));
    return <Chart label={`${title}: ${metricLabel(metric)} over time`} height={height} option={lineChartOption(labels, series)} />;
  }

  if (isRows(data)) {
    if (data.length === 0) return <Empty title="No data for this period." />;
    const metric = metricsOf(data, wanted)[0];
    if (metric && (visualization === 'bar' || visualization === 'pie')) {
      const { labels, values } = topRows(data, metric, visualization === 'bar' ? 10 : 7);
      const option = visualization === 'bar' ? barOption(labels, values, metricLabel(metric)) : pieOption(labels, values, metricLabel(metric));
      return <Chart label={`${title}: ${metricLabel(metric)} by ${metricLabel('label').toLowerCase()}`} height={visualization === 'bar' ? Math.max(height, labels.length * 26 + 24) : height} option={option} />;
    }
    if (metric && visualization === 'number') {
      return <Numbers values={{ rows: data.length, [metric]: data.reduce((sum, row) => sum + (numberOf(row[metric]) ?? 0), 0) }} wanted={[]} />;
    }
    return <RowsTable caption={title} rows={data} />;
  }

  if (isRecord(data)) {
    if (visualization === 'table') return <RowsTable caption={title} rows={Object.entries(data).filter(([, v]) => isPrimitive(v)).map(([key, value]) => ({ label: metricLabel(key), value: format(value) }))} />;
    const metrics = metricsOf([data], wanted);
    if ((visualization === 'bar' || visualization === 'pie') && metrics.length > 1) {
      const shown = metrics.slice(0, 8);
      const values = shown.map((key) => numberOf(data[key]) ?? 0);
      const option = visualization === 'bar' ? barOption(shown.map(metricLabel), values, title) : pieOption(shown.map(metricLabel), values, title);
      return <Chart label={title} height={height} option={option} />;
    }
    return (
      <>
        <Numbers values={data} wanted={wanted} />
        {visualization === 'line' && <p className="muted ws-hint">One period only: no evolution to draw.</p>}
      </>
    );
  }

  if (isPrimitive(data)) return <Numbers values={{ value: data }} wanted={[]} />;
  return <Empty title="No data." />;
}

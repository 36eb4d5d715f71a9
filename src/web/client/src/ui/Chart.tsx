import { lazy, Suspense } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { Loading } from './components';

const EChart = lazy(() => import('./EChart'));

/** Charts load their library on first use, so pages without charts stay light. */
export function Chart(props: { option: EChartsCoreOption; height?: number; label: string }) {
  return (
    <Suspense fallback={<Loading label="Loading chart…" />}>
      <EChart {...props} />
    </Suspense>
  );
}

/** A line chart of one or more series over labelled points (visits over time, row evolution). */
export function lineChartOption(labels: readonly string[], series: readonly { name: string; values: readonly (number | null)[] }[]): EChartsCoreOption {
  return {
    color: [getComputedStyle(document.documentElement).getPropertyValue('--brand').trim() || '#3450a1', '#e07b39', '#2a9d8f', '#8e5ea2'],
    tooltip: { trigger: 'axis' },
    legend: series.length > 1 ? { top: 0 } : undefined,
    grid: { left: 48, right: 16, top: series.length > 1 ? 32 : 16, bottom: 32 },
    xAxis: { type: 'category', data: [...labels], boundaryGap: false },
    yAxis: { type: 'value', minInterval: 1 },
    series: series.map((s) => ({ name: s.name, type: 'line', smooth: true, showSymbol: labels.length <= 31, areaStyle: series.length === 1 ? { opacity: 0.12 } : undefined, data: [...s.values] })),
  };
}

import { useId, useMemo, useState } from 'react';
import { Chart, lineChartOption } from '../../ui/Chart';
import { formatMetric, numericValue, shortPeriodLabel } from './format';

export interface EvolutionPoint {
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>> | null;
}

/**
 * A metric over periods, with a labelled metric picker; the numbers are also in a
 * collapsed table (screen readers and exact values).
 */
export function EvolutionChart({ title, points, metrics, initialMetric, height = 260 }: { title: string; points: readonly EvolutionPoint[]; metrics: readonly { value: string; label: string }[]; initialMetric: string; height?: number }) {
  const [metric, setMetric] = useState(initialMetric);
  const pickerId = useId();
  const chosen = metrics.find((m) => m.value === metric) ?? metrics[0];
  const labels = useMemo(() => points.map((p) => shortPeriodLabel(p.label)), [points]);
  const option = useMemo(
    () => ({ ...lineChartOption(labels, [{ name: chosen?.label ?? metric, values: points.map((p) => numericValue(p.values?.[chosen?.value ?? metric]) ?? 0) }]), animationDuration: 300 }),
    [labels, points, chosen, metric],
  );
  if (!chosen) return null;
  const first = points[0]?.label ?? '';
  const last = points[points.length - 1]?.label ?? '';
  return (
    <div className="evolution">
      {metrics.length > 1 && (
        <div className="evolution-tools">
          <label htmlFor={pickerId}>Metric</label>
          <select id={pickerId} value={chosen.value} onChange={(event) => setMetric(event.target.value)}>
            {metrics.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </div>
      )}
      <Chart option={option} height={height} label={`${title}: ${chosen.label} from ${shortPeriodLabel(first)} to ${shortPeriodLabel(last)}`} />
      <details className="evolution-data">
        <summary>Show the numbers</summary>
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">
              {title}: {chosen.label} per period
            </caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col" className="num">
                  {chosen.label}
                </th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr key={p.label}>
                  <td>{p.label}</td>
                  <td className="num">{formatMetric(chosen.value, p.values?.[chosen.value] ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

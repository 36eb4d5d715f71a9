import { useMemo } from 'react';
import { useQueries } from '@tanstack/react-query';
import { matomo } from '../../api/http';
import { DataTable, type Column } from '../../ui/DataTable';
import { Card, Empty, ErrorNotice, Loading } from '../../ui/components';
import { useMatomo, useSiteHasData } from './data';
import { EvolutionChart } from './EvolutionChart';
import { formatMetric, numericValue, periodsOf, type ReportRow } from './format';
import { KpiTiles } from './Overview';
import { describeView, evolutionParams, viewParams, type ReportView } from './params';
import { ExportLinks } from './ReportTable';
import { TrackingHelp } from './TrackingHelp';

interface Goal {
  readonly idgoal: number;
  readonly name: string;
  readonly match_attribute: string;
  readonly pattern: string;
  readonly pattern_type: string;
  readonly revenue: number;
}

const KPIS = [
  { metric: 'nb_conversions', label: 'Conversions' },
  { metric: 'nb_visits_converted', label: 'Visits converted' },
  { metric: 'conversion_rate', label: 'Conversion rate' },
  { metric: 'revenue', label: 'Revenue' },
];

interface GoalRow {
  readonly goal: Goal;
  readonly metrics: ReportRow | null;
}

export function Goals({ idSite, siteName, view }: { idSite: number; siteName: string; view: ReportView }) {
  const hasData = useSiteHasData(idSite);
  const params = useMemo(() => ({ idSite, ...viewParams(view) }), [idSite, view]);
  const summary = useMatomo<ReportRow | []>('Goals.get', params);
  const evolution = useMatomo<Record<string, ReportRow | []>>('Goals.get', { idSite, ...evolutionParams(view), ...(view.segment ? { segment: view.segment } : {}) });
  const goals = useMatomo<Goal[]>('Goals.getGoals', { idSite });
  const perGoal = useQueries({
    queries: (goals.data ?? []).map((goal) => ({
      queryKey: ['reports', 'Goals.get', { ...params, idGoal: goal.idgoal }],
      queryFn: ({ signal }: { signal: AbortSignal }) => matomo<ReportRow | []>('Goals.get', { ...params, idGoal: goal.idgoal }, signal),
    })),
  });
  const rows: GoalRow[] = (goals.data ?? []).map((goal, index) => {
    const data = perGoal[index]?.data;
    return { goal, metrics: data && !Array.isArray(data) ? data : null };
  });
  const columns: Column<GoalRow>[] = [
    { key: 'name', label: 'Goal', value: (row) => row.goal.name },
    { key: 'match', label: 'Triggered when', value: (row) => (row.goal.match_attribute === 'manually' ? 'Tracked manually' : `${row.goal.match_attribute} ${row.goal.pattern_type} “${row.goal.pattern}”`) },
    ...['nb_conversions', 'conversion_rate', 'revenue'].map((metric): Column<GoalRow> => ({ key: metric, label: KPIS.find((k) => k.metric === metric)?.label ?? metric, numeric: true, value: (row) => numericValue(row.metrics?.[metric]) ?? 0, render: (row) => formatMetric(metric, row.metrics?.[metric] ?? 0) })),
  ];

  if (hasData.data === false) return <TrackingHelp idSite={idSite} siteName={siteName} />;
  const values = summary.data && !Array.isArray(summary.data) ? summary.data : null;
  const points = periodsOf<ReportRow>(evolution.data).map((p) => ({ label: p.label, values: p.value }));
  return (
    <>
      <Card title="Goals overview" actions={<ExportLinks method="Goals.get" params={params} name={`Goals ${view.date}`} />}>
        <p className="muted report-period">{describeView(view)}</p>
        {summary.isPending && <Loading label="Loading goals…" />}
        <ErrorNotice error={summary.error} />
        {summary.data !== undefined && <KpiTiles values={values} items={KPIS} label="Goals overview" />}
      </Card>
      <Card title="Conversions over time">
        {evolution.isPending && <Loading label="Loading conversions over time…" />}
        <ErrorNotice error={evolution.error} />
        {points.length > 0 && (
          <EvolutionChart
            title="Conversions over time"
            points={points}
            metrics={[
              { value: 'nb_conversions', label: 'Conversions' },
              { value: 'nb_visits_converted', label: 'Visits converted' },
              { value: 'revenue', label: 'Revenue' },
            ]}
            initialMetric="nb_conversions"
          />
        )}
      </Card>
      <Card title="Goals of this site">
        {goals.isPending && <Loading label="Loading goals…" />}
        <ErrorNotice error={goals.error} />
        {goals.data !== undefined &&
          (goals.data.length === 0 ? (
            <Empty title="No goals are set up for this site.">
              <p>Administrators add goals (a URL visited, a file downloaded, an event, or tracked manually) in the site's settings.</p>
            </Empty>
          ) : (
            <DataTable<GoalRow> caption="Goals of this site" columns={columns} rows={rows} rowKey={(row) => String(row.goal.idgoal)} />
          ))}
      </Card>
    </>
  );
}

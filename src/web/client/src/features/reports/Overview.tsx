import { Link } from 'react-router';
import { Card, Empty, ErrorNotice, Loading } from '../../ui/components';
import { metricLabel, tableReport } from './catalog';
import { useMatomo, useSiteHasData } from './data';
import { EvolutionChart } from './EvolutionChart';
import { formatMetric, periodsOf, textOf, type ReportRow } from './format';
import { describeView, evolutionParams, viewParams, viewSearch, type ReportView } from './params';
import { ExportLinks } from './ReportTable';
import { TrackingHelp } from './TrackingHelp';

const KPIS: readonly { metric: string; label: string }[] = [
  { metric: 'nb_visits', label: 'Visits' },
  { metric: 'nb_uniq_visitors', label: 'Unique visitors' },
  { metric: 'nb_actions', label: 'Actions' },
  { metric: 'bounce_rate', label: 'Bounce rate' },
  { metric: 'avg_time_on_site', label: 'Avg. visit duration' },
  { metric: 'nb_actions_per_visit', label: 'Actions per visit' },
];

const CHART_METRICS = [
  { value: 'nb_visits', label: 'Visits' },
  { value: 'nb_uniq_visitors', label: 'Unique visitors' },
  { value: 'nb_actions', label: 'Actions' },
  { value: 'bounce_count', label: 'Bounces' },
];

/** Key figures as tiles; an empty answer ([]) means no visits in the period. */
export function KpiTiles({ values, items, label }: { values: ReportRow | null; items: readonly { metric: string; label: string }[]; label: string }) {
  return (
    <dl className="kpis" aria-label={label}>
      {items.map((item) => {
        const value = values?.[item.metric];
        // Years and ranges leave unique visitors out, as Matomo does: say so rather than "0".
        const shown = values === null ? (item.metric.endsWith('rate') || item.metric.startsWith('avg') ? '–' : '0') : value === undefined ? '–' : formatMetric(item.metric, value);
        return (
          <div className="kpi" key={item.metric}>
            <dt>{item.label}</dt>
            <dd>{shown}</dd>
          </div>
        );
      })}
    </dl>
  );
}

/** The first rows of a core report, with a link to all of it. */
function TopRows({ idSite, view, slug, metric }: { idSite: number; view: ReportView; slug: string; metric: string }) {
  const report = tableReport(slug);
  const answer = useMatomo<ReportRow[]>(report?.method ?? '', { idSite, ...viewParams(view), ...report?.params, filter_limit: 5, filter_sort_column: metric, filter_sort_order: 'desc' }, { enabled: report !== undefined });
  if (!report) return null;
  const rows = Array.isArray(answer.data) ? answer.data : [];
  return (
    <Card
      title={report.title}
      actions={
        <Link to={`/reports/${idSite}/${report.slug}${viewSearch(view)}`} aria-label={`All ${report.title.toLowerCase()}`}>
          All
        </Link>
      }
    >
      {answer.isPending && <Loading />}
      <ErrorNotice error={answer.error} />
      {answer.data !== undefined && rows.length === 0 && <p className="muted">No data.</p>}
      {rows.length > 0 && (
        <table className="top-rows">
          <caption className="visually-hidden">
            Top {report.title.toLowerCase()} by {metricLabel(metric, report).toLowerCase()}
          </caption>
          <thead>
            <tr>
              <th scope="col">{report.dimension}</th>
              <th scope="col" className="num">
                {metricLabel(metric, report)}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={`${textOf(row['label'])}#${index}`}>
                <td className="row-label">{textOf(row['label'])}</td>
                <td className="num">{formatMetric(metric, row[metric])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function Overview({ idSite, siteName, view }: { idSite: number; siteName: string; view: ReportView }) {
  const hasData = useSiteHasData(idSite);
  const summary = useMatomo<ReportRow | []>('VisitsSummary.get', { idSite, ...viewParams(view) });
  const evolution = useMatomo<Record<string, ReportRow | []>>('VisitsSummary.get', { idSite, ...evolutionParams(view), ...(view.segment ? { segment: view.segment } : {}) });

  if (hasData.data === false) return <TrackingHelp idSite={idSite} siteName={siteName} />;
  const values = summary.data && !Array.isArray(summary.data) ? summary.data : null;
  const points = periodsOf<ReportRow>(evolution.data).map((p) => ({ label: p.label, values: p.value }));
  const chartMetrics = view.period === 'year' || view.period === 'range' ? CHART_METRICS.filter((m) => m.value !== 'nb_uniq_visitors') : CHART_METRICS;

  return (
    <>
      <Card title="Visits summary" actions={<ExportLinks method="VisitsSummary.get" params={{ idSite, ...viewParams(view) }} name={`Visits summary ${view.date}`} />}>
        <p className="muted report-period">{describeView(view)}</p>
        {summary.isPending ? <Loading label="Loading the visits summary…" /> : <ErrorNotice error={summary.error} />}
        {summary.data !== undefined && <KpiTiles values={values} items={KPIS} label="Visits summary" />}
        {summary.data !== undefined && values === null && (
          <p className="muted">
            No visits in this period{view.segment ? ' for this segment' : ''}. Try another date, or look at the <Link to={`/reports/${idSite}/visitor-log${viewSearch({ ...view, period: 'year' })}`}>visitor log of the year</Link>.
          </p>
        )}
      </Card>
      <Card title="Visits over time">
        {evolution.isPending && <Loading label="Loading visits over time…" />}
        <ErrorNotice error={evolution.error} />
        {evolution.data !== undefined && points.length > 0 && <EvolutionChart title="Visits over time" points={points} metrics={chartMetrics} initialMetric="nb_visits" />}
        {evolution.data !== undefined && points.length === 0 && <Empty title="No data for these periods." />}
      </Card>
      {values !== null && (
        <div className="grid-2 overview-tops">
          <TopRows idSite={idSite} view={view} slug="pages" metric="nb_hits" />
          <TopRows idSite={idSite} view={view} slug="channels" metric="nb_visits" />
          <TopRows idSite={idSite} view={view} slug="devices" metric="nb_visits" />
          <TopRows idSite={idSite} view={view} slug="countries" metric="nb_visits" />
        </div>
      )}
    </>
  );
}

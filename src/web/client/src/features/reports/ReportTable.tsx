import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { matomoUrl } from '../../api/http';
import { DataTable, type Column } from '../../ui/DataTable';
import { Button, Card, Dialog, Empty, ErrorNotice, Loading } from '../../ui/components';
import { metricLabel, type TableReportDef } from './catalog';
import { useMatomo, useSiteHasData } from './data';
import { EvolutionChart } from './EvolutionChart';
import { formatMetric, numericValue, periodsOf, textOf, type ReportRow } from './format';
import { describeView, evolutionParams, viewParams, viewSearch, type ReportView } from './params';
import { TrackingHelp } from './TrackingHelp';

/** The report's columns that the answer has, in the catalogue's order. */
function columnsOf(report: TableReportDef, rows: readonly ReportRow[]): string[] {
  return report.columns.filter((metric) => rows.some((row) => row[metric] !== undefined));
}

/** CSV and JSON of exactly what the Matomo API answers for this view (every row). */
export function ExportLinks({ method, params, name }: { method: string; params: Readonly<Record<string, string | number>>; name: string }) {
  const all = { ...params, filter_limit: -1 };
  const file = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <div className="export-links" role="group" aria-label={`Export ${name}`}>
      <span className="muted">Export</span>
      <a className="btn btn-secondary" href={matomoUrl(method, all, 'csv')} download={`${file}.csv`}>
        CSV
      </a>
      <a className="btn btn-secondary" href={matomoUrl(method, all, 'json')} download={`${file}.json`}>
        JSON
      </a>
    </div>
  );
}

function RowEvolution({ report, idSite, view, row, onClose }: { report: TableReportDef; idSite: number; view: ReportView; row: ReportRow; onClose: () => void }) {
  const label = textOf(row['label']);
  const evolution = useMatomo<Record<string, ReportRow[]>>(report.method, {
    idSite,
    ...evolutionParams(view),
    ...(view.segment ? { segment: view.segment } : {}),
    ...report.params,
    label,
  });
  const points = periodsOf<ReportRow[]>(evolution.data).map((p) => ({ label: p.label, values: Array.isArray(p.value) ? (p.value[0] ?? null) : null }));
  const metrics = report.columns.filter((m) => points.some((p) => p.values?.[m] !== undefined)).map((m) => ({ value: m, label: metricLabel(m, report) }));
  return (
    <Dialog open title={`Row evolution: ${label}`} onClose={onClose}>
      <p className="muted">
        {report.title}, {evolutionParams(view).period === 'day' ? 'day by day' : `${evolutionParams(view).period} by ${evolutionParams(view).period}`}
        {view.segment ? ', in the current segment' : ''}.
      </p>
      {evolution.isPending && <Loading label="Loading the row evolution…" />}
      <ErrorNotice error={evolution.error} />
      {evolution.data !== undefined && metrics.length > 0 && <EvolutionChart title={`Evolution of ${label}`} points={points} metrics={metrics} initialMetric={metrics.some((m) => m.value === report.evolutionMetric) ? report.evolutionMetric : (metrics[0]?.value ?? 'nb_visits')} height={240} />}
      {evolution.data !== undefined && metrics.length === 0 && <Empty title="No data for this row in these periods." />}
    </Dialog>
  );
}

export function ReportTable({ report, idSite, siteName, view }: { report: TableReportDef; idSite: number; siteName: string; view: ReportView }) {
  const navigate = useNavigate();
  const params = useMemo(() => ({ idSite, ...viewParams(view), ...report.params }), [idSite, view, report]);
  const answer = useMatomo<ReportRow[]>(report.method, { ...params, filter_limit: -1 });
  const hasData = useSiteHasData(idSite);
  const [evolving, setEvolving] = useState<ReportRow | null>(null);

  const rows = useMemo(() => (Array.isArray(answer.data) ? answer.data : []), [answer.data]);
  const columns = useMemo((): Column<ReportRow>[] => {
    const url = (row: ReportRow) => (typeof row['url'] === 'string' && /^https?:\/\//.test(row['url']) ? row['url'] : null);
    return [
      {
        key: 'label',
        label: report.dimension,
        value: (row) => textOf(row['label']),
        render: (row) => {
          const link = url(row);
          return (
            <span className="row-label">
              <span className="row-label-text">{textOf(row['label'])}</span>
              {link && (
                <a href={link} target="_blank" rel="noreferrer noopener" className="row-link" aria-label={`Open ${link} in a new tab`}>
                  ↗
                </a>
              )}
            </span>
          );
        },
      },
      ...columnsOf(report, rows).map(
        (metric): Column<ReportRow> => ({ key: metric, label: metricLabel(metric, report), numeric: true, value: (row) => numericValue(row[metric]), render: (row) => formatMetric(metric, row[metric]) }),
      ),
    ];
  }, [report, rows]);

  if (hasData.data === false) return <TrackingHelp idSite={idSite} siteName={siteName} />;
  const firstMetric = columns[1]?.key;

  return (
    <Card title={report.title} actions={<ExportLinks method={report.method} params={params} name={`${report.title} ${view.date}`} />}>
      <p className="muted report-period">
        {describeView(view)}
        {view.segment ? ' · segmented' : ''}
      </p>
      {answer.isPending && <Loading label={`Loading ${report.title.toLowerCase()}…`} />}
      <ErrorNotice error={answer.error} />
      {answer.data !== undefined && (
        <DataTable<ReportRow>
          caption={`${report.title}, ${describeView(view)}`}
          columns={columns}
          rows={rows}
          rowKey={(row, index) => `${textOf(row['label'])}#${index}`}
          initialSort={firstMetric ? { key: firstMetric, descending: true } : null}
          empty={`No data in this period${view.segment ? ' for this segment' : ''}.`}
          rowActions={(row) => (
            <>
              {report.evolution && (
                <Button variant="link" onClick={() => setEvolving(row)} aria-label={`Row evolution of ${textOf(row['label'])}`} title="Row evolution">
                  Trend
                </Button>
              )}
              {typeof row['segment'] === 'string' && (
                <Button
                  variant="link"
                  aria-label={`Visits of ${textOf(row['label'])} in the visitor log`}
                  title="Segmented visitor log"
                  onClick={() => void navigate(`/reports/${idSite}/visitor-log${viewSearch({ ...view, segment: view.segment ? `${view.segment};${String(row['segment'])}` : String(row['segment']) })}`)}
                >
                  Visits
                </Button>
              )}
            </>
          )}
        />
      )}
      {evolving && <RowEvolution report={report} idSite={idSite} view={view} row={evolving} onClose={() => setEvolving(null)} />}
    </Card>
  );
}

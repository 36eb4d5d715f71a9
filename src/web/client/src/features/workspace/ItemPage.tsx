import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useAbilities } from '../../api/session';
import { ErrorNotice, Loading, PageHeader, SuccessNotice } from '../../ui/components';
import { Breadcrumbs, CopyItemButton, ItemActions } from './actions';
import { ReportView } from './ReportView';
import { RunPicker, evolutionDate, useRunChoice } from './RunPicker';
import {
  VISUALIZATION_LABEL,
  asDashboard,
  asReport,
  collectionPath,
  fetchItemData,
  itemKindLabel,
  itemPath,
  keys,
  useCollection,
  useItem,
  type DashboardData,
  type ItemView,
  type RunChoice,
  type SavedReportData,
  type WidgetData,
} from './api';

const heightOf = (h: number) => Math.min(640, Math.max(200, h * 65));

function Dashboard({ item, run }: { item: ItemView; run: RunChoice | null }) {
  const definition = asDashboard(item.definition);
  const point = useQuery({ queryKey: keys.data(item.id, run ?? { idSite: '', period: '', date: '' }), queryFn: () => fetchItemData<DashboardData>(item.id, run as RunChoice), enabled: run !== null && definition.widgets.length > 0 });
  // Widgets drawn as lines get the chosen period and the ones before it.
  const lineIds = new Set((point.data?.widgets ?? []).filter((w) => w.visualization === 'line').map((w) => w.id));
  const evolutionRun = run ? { ...run, date: evolutionDate(run.period, run.date) } : null;
  const evolution = useQuery({
    queryKey: keys.data(item.id, evolutionRun ?? { idSite: '', period: '', date: '' }),
    queryFn: () => fetchItemData<DashboardData>(item.id, evolutionRun as RunChoice),
    enabled: evolutionRun !== null && lineIds.size > 0,
  });

  if (definition.widgets.length === 0) return <div className="empty">This dashboard has no widget yet.</div>;
  return (
    <>
      <ErrorNotice error={point.error} title="The data could not be loaded" />
      <div className="ws-grid">
        {definition.widgets.map((widget) => {
          const source = lineIds.has(widget.id) ? evolution : point;
          const data: WidgetData | undefined = source.data?.widgets.find((w) => w.id === widget.id);
          const visualization = data?.visualization ?? widget.report?.visualization ?? 'table';
          const title = widget.title || widget.report?.method || 'Widget';
          return (
            <section key={widget.id} className={`card ws-widget${widget.w < 6 ? ' ws-narrow' : ''}`} style={{ ['--span' as string]: String(widget.w) }} aria-label={title}>
              <h2>{title}</h2>
              {run === null ? (
                <p className="muted">No data without a site.</p>
              ) : source.isLoading ? (
                <Loading label="Loading data…" />
              ) : data?.error ? (
                <div className="notice notice-error" role="alert">
                  {data.error.message}
                </div>
              ) : data ? (
                <ReportView data={data.data} visualization={visualization} title={title} params={widget.report?.params ?? {}} height={heightOf(widget.h)} />
              ) : source.error ? (
                <p className="muted">No data.</p>
              ) : null}
            </section>
          );
        })}
      </div>
    </>
  );
}

function SavedReport({ item, run }: { item: ItemView; run: RunChoice | null }) {
  const report = asReport(item.definition);
  const effective = run && report?.visualization === 'line' ? { ...run, date: evolutionDate(run.period, run.date) } : run;
  const data = useQuery({ queryKey: keys.data(item.id, effective ?? { idSite: '', period: '', date: '' }), queryFn: () => fetchItemData<SavedReportData>(item.id, effective as RunChoice), enabled: effective !== null });
  if (!report) return <ErrorNotice error={new Error('This saved report has a definition the interface cannot read.')} />;
  return (
    <section className="card" aria-label={item.name}>
      <p className="muted ws-report-meta">
        <code>{report.method}</code> · {VISUALIZATION_LABEL[report.visualization]}
        {report.segment && (
          <>
            {' '}
            · segment <code>{report.segment}</code>
          </>
        )}
      </p>
      {data.isLoading && <Loading label="Loading data…" />}
      <ErrorNotice error={data.error} title="The report could not be run" />
      {data.data && <ReportView data={data.data.data} visualization={report.visualization} title={item.name} params={report.params} height={360} />}
    </section>
  );
}

/** `/dashboards/:id`: a dashboard (every widget) or a saved report, for a site, period and date. */
export function ItemPage() {
  const { id = '' } = useParams();
  return <ItemScreen key={id} id={id} />;
}

function ItemScreen({ id }: { id: string }) {
  const navigate = useNavigate();
  const abilities = useAbilities();
  const item = useItem(id);
  const collection = useCollection(item.data?.collectionId);
  const choice = useRunChoice();
  const [notice, setNotice] = useState('');

  if (item.isLoading) return <Loading label="Loading…" />;
  if (item.error || !item.data) return <ErrorNotice error={item.error ?? new Error('Not found.')} title="This cannot be shown" />;
  const it = item.data;
  const curate = collection.data?.access === 'curate';
  const run = abilities.inTenant ? choice.run : null;

  return (
    <>
      <Breadcrumbs collectionId={it.collectionId} current={it.name} />
      <PageHeader
        title={it.name}
        actions={
          curate ? (
            <>
              <Link className="btn btn-primary" to={`${itemPath(it)}/edit`}>
                Edit {it.kind === 'dashboard' ? 'dashboard' : 'report'}
              </Link>
              <ItemActions item={it} onNotice={setNotice} afterDelete={() => void navigate(collectionPath(it.collectionId))} />
            </>
          ) : (
            collection.data && <CopyItemButton item={it} />
          )
        }
      >
        <p className="muted">
          <span className="badge">{itemKindLabel(it.kind)}</span> {it.archived && <span className="badge">archived</span>} {it.description}
        </p>
      </PageHeader>
      <SuccessNotice>{notice}</SuccessNotice>
      <RunPicker choice={choice} />
      {it.kind === 'dashboard' ? <Dashboard item={it} run={run} /> : <SavedReport item={it} run={run} />}
    </>
  );
}

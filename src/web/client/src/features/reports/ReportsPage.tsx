import { useId, type ReactNode } from 'react';
import { Link, Navigate, NavLink, useLocation, useNavigate, useParams } from 'react-router';
import { Button, Empty, ErrorNotice, Loading, PageHeader, SelectField } from '../../ui/components';
import { menu, SPECIAL_PAGES, tableReport } from './catalog';
import { useSites } from './data';
import { Goals } from './Goals';
import { Overview } from './Overview';
import { addDays, describeView, isoDay, isPeriod, PERIOD_LABELS, PERIODS, rangeDays, resolveDay, useReportView, viewSearch, type ReportView } from './params';
import { ReportTable } from './ReportTable';
import { SegmentBar } from './SegmentEditor';
import { VisitorLog } from './VisitorLog';

/** `/reports`: the first site the user may view, keeping period, date and segment. */
export function ReportsHome() {
  const sites = useSites();
  const location = useLocation();
  if (sites.isPending) return <Loading label="Loading your sites…" />;
  if (sites.error) return <ErrorNotice error={sites.error} title="Cannot load your sites" />;
  const first = sites.data[0];
  if (!first) {
    return (
      <>
        <PageHeader title="Reports" />
        <Empty title="There is no site you can view yet.">
          <p>An administrator gives you view access to a site, or adds one under Administration → Sites. Reports then appear here.</p>
        </Empty>
      </>
    );
  }
  return <Navigate to={`/reports/${first.idsite}${location.search}`} replace />;
}

function PeriodControls({ view, update }: { view: ReportView; update: (change: Partial<ReportView>) => void }) {
  const today = isoDay(new Date());
  const fromId = useId();
  const toId = useId();
  const dateId = useId();
  const changePeriod = (value: string) => {
    if (!isPeriod(value) || value === view.period) return;
    if (value === 'range') {
      const end = resolveDay(view.date);
      update({ period: 'range', date: `${addDays(end, -6)},${end}` });
    } else if (view.period === 'range') {
      update({ period: value, date: rangeDays(view)[1] });
    } else update({ period: value });
  };
  const [from, to] = view.period === 'range' ? rangeDays(view) : [today, today];
  return (
    <>
      <SelectField label="Period" value={view.period} onChange={(e) => changePeriod(e.target.value)} options={PERIODS.map((p) => ({ value: p, label: PERIOD_LABELS[p] }))} />
      {view.period === 'range' ? (
        <>
          <div className="field">
            <label htmlFor={fromId}>From</label>
            <input id={fromId} type="date" value={from} max={to} required onChange={(e) => e.target.value && update({ date: `${e.target.value},${to < e.target.value ? e.target.value : to}` })} />
          </div>
          <div className="field">
            <label htmlFor={toId}>To</label>
            <input id={toId} type="date" value={to} min={from} required onChange={(e) => e.target.value && update({ date: `${from > e.target.value ? e.target.value : from},${e.target.value}` })} />
          </div>
        </>
      ) : (
        <div className="field">
          <label htmlFor={dateId}>Date</label>
          <input id={dateId} type="date" value={resolveDay(view.date)} required onChange={(e) => e.target.value && update({ date: e.target.value === today ? 'today' : e.target.value })} />
        </div>
      )}
      <div className="quick-picks" role="group" aria-label="Quick picks">
        <Button aria-pressed={view.period === 'day' && view.date === 'today'} onClick={() => update({ period: 'day', date: 'today' })}>
          Today
        </Button>
        <Button aria-pressed={view.period === 'day' && view.date === 'yesterday'} onClick={() => update({ period: 'day', date: 'yesterday' })}>
          Yesterday
        </Button>
        <Button aria-pressed={view.period === 'range' && view.date === `${addDays(today, -29)},${today}`} onClick={() => update({ period: 'range', date: `${addDays(today, -29)},${today}` })}>
          Last 30 days
        </Button>
      </div>
    </>
  );
}

function ReportsNav({ idSite, view, slug }: { idSite: number; view: ReportView; slug: string }) {
  const navigate = useNavigate();
  const groups = menu();
  const search = viewSearch(view);
  const pathOf = (entry: string) => `/reports/${idSite}${entry ? `/${entry}` : ''}`;
  return (
    <>
      <div className="reports-nav-phone">
        <SelectField
          label="Report"
          value={slug}
          onChange={(e) => void navigate(`${pathOf(e.target.value)}${search}`)}
          options={groups.flatMap((g) => g.entries.map((entry) => ({ value: entry.slug, label: `${g.category} · ${entry.title}` })))}
        />
      </div>
      <nav aria-label="Reports" className="reports-nav">
        {groups.map((group) => (
          <div key={group.category} className="reports-nav-group">
            <h2 className="reports-nav-title">{group.category}</h2>
            <ul>
              {group.entries.map((entry) => (
                <li key={entry.slug || 'overview'}>
                  <NavLink to={`${pathOf(entry.slug)}${search}`} end>
                    {entry.title}
                  </NavLink>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </nav>
    </>
  );
}

/** `/reports/:idSite/:report?`: the controls, the report menu and the report. */
export function ReportsPage() {
  const params = useParams();
  const idSite = Number(params['idSite']);
  const slug = params['report'] ?? '';
  const sites = useSites();
  const [view, update] = useReportView();
  const navigate = useNavigate();
  const location = useLocation();

  if (sites.isPending) return <Loading label="Loading your sites…" />;
  if (sites.error) return <ErrorNotice error={sites.error} title="Cannot load your sites" />;
  const site = sites.data.find((s) => Number(s.idsite) === idSite);
  if (!site) {
    return (
      <>
        <PageHeader title="Reports" />
        <Empty title={`Site ${params['idSite'] ?? ''} does not exist or you may not view it.`}>
          <Link to="/reports">Go to the reports of your first site</Link>
        </Empty>
      </>
    );
  }

  const report = tableReport(slug);
  let title: string;
  let content: ReactNode;
  if (slug === SPECIAL_PAGES.overview.slug) {
    title = SPECIAL_PAGES.overview.title;
    content = <Overview idSite={idSite} siteName={site.name} view={view} />;
  } else if (slug === SPECIAL_PAGES.live.slug) {
    title = SPECIAL_PAGES.live.title;
    content = <VisitorLog idSite={idSite} siteName={site.name} view={view} />;
  } else if (slug === SPECIAL_PAGES.goals.slug) {
    title = SPECIAL_PAGES.goals.title;
    content = <Goals idSite={idSite} siteName={site.name} view={view} />;
  } else if (report) {
    title = report.title;
    content = <ReportTable key={report.slug} report={report} idSite={idSite} siteName={site.name} view={view} />;
  } else {
    title = 'Unknown report';
    content = <Empty title={`There is no report called “${slug}”.`}>Pick one from the menu.</Empty>;
  }

  return (
    <div className="reports">
      <PageHeader title={title}>
        <p className="muted page-subtitle">
          {site.name} · {describeView(view)}
        </p>
      </PageHeader>
      <div className="toolbar reports-toolbar" role="group" aria-label="Site and period">
        <SelectField
          label="Site"
          value={String(site.idsite)}
          onChange={(e) => void navigate(`/reports/${e.target.value}${slug ? `/${slug}` : ''}${location.search}`)}
          options={sites.data.map((s) => ({ value: String(s.idsite), label: s.name }))}
        />
        <PeriodControls view={view} update={update} />
      </div>
      <SegmentBar key={idSite} idSite={idSite} view={view} apply={(segment) => update({ segment })} />
      <div className="reports-layout">
        <ReportsNav idSite={idSite} view={view} slug={slug} />
        <div className="reports-content">{content}</div>
      </div>
    </div>
  );
}

import { useState } from 'react';
import { Button, Card, Empty, ErrorNotice, Loading } from '../../ui/components';
import { useMatomo, useSiteHasData } from './data';
import { formatDuration, formatNumber } from './format';
import { describeView, viewParams, type ReportView } from './params';
import { ExportLinks } from './ReportTable';
import { TrackingHelp } from './TrackingHelp';

interface ActionDetail {
  readonly type: string;
  readonly url?: string | null;
  readonly pageTitle?: string | null;
  readonly timestamp: number;
  readonly eventCategory?: string | null;
  readonly eventAction?: string | null;
  readonly eventName?: string | null;
  readonly siteSearchKeyword?: string | null;
}

interface Visit {
  readonly idVisit: number;
  readonly visitorType: string;
  readonly visitCount: number;
  readonly firstActionTimestamp: number;
  readonly lastActionTimestamp: number;
  readonly visitDuration: number;
  readonly actions: number;
  readonly referrerType: string | null;
  readonly referrerName: string | null;
  readonly referrerUrl: string | null;
  readonly deviceType: string | null;
  readonly operatingSystemName: string | null;
  readonly browserName: string | null;
  readonly browserVersion: string | null;
  readonly countryCode: string | null;
  readonly city: string | null;
  readonly languageCode: string | null;
  readonly resolution: string | null;
  readonly visitConverted: number;
  readonly actionDetails: readonly ActionDetail[];
}

interface Counters {
  readonly visits: number;
  readonly actions: number;
  readonly visitors: number;
  readonly visitsConverted: number;
}

const POLL_MS = 10_000;

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'region' });
  } catch {
    return null;
  }
})();

function countryName(code: string | null): string {
  if (!code || code === 'xx') return 'Unknown country';
  try {
    return regionNames?.of(code.toUpperCase()) ?? code.toUpperCase();
  } catch {
    return code.toUpperCase();
  }
}

function timeOf(timestamp: number): string {
  return new Date(timestamp * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

function referrerOf(visit: Visit): string {
  switch (visit.referrerType) {
    case 'direct':
    case null:
      return 'Direct entry';
    case 'search':
      return `Search: ${visit.referrerName ?? 'unknown engine'}`;
    case 'campaign':
      return `Campaign: ${visit.referrerName ?? ''}`;
    case 'social':
      return `Social: ${visit.referrerName ?? ''}`;
    default:
      return `Website: ${visit.referrerName ?? visit.referrerUrl ?? ''}`;
  }
}

function actionText(action: ActionDetail): string {
  switch (action.type) {
    case 'event':
      return `Event ${[action.eventCategory, action.eventAction, action.eventName].filter(Boolean).join(' / ')}`;
    case 'search':
      return `Site search “${action.siteSearchKeyword ?? ''}”`;
    case 'download':
      return `Download ${action.url ?? ''}`;
    case 'outlink':
      return `Outlink ${action.url ?? ''}`;
    default:
      return action.pageTitle ? `${action.pageTitle} — ${action.url ?? ''}` : (action.url ?? action.type);
  }
}

function VisitCard({ visit }: { visit: Visit }) {
  const deviceType = visit.deviceType ? visit.deviceType.charAt(0).toUpperCase() + visit.deviceType.slice(1) : null;
  const device = [deviceType, visit.operatingSystemName, [visit.browserName, visit.browserVersion].filter(Boolean).join(' ')].filter(Boolean).join(' · ');
  return (
    <li className="visit">
      <article aria-label={`Visit at ${timeOf(visit.lastActionTimestamp)}`}>
        <header className="visit-head">
          <time dateTime={new Date(visit.firstActionTimestamp * 1000).toISOString()}>{timeOf(visit.firstActionTimestamp)}</time>
          <span className="badge">{visit.visitorType === 'returning' ? `Returning (visit ${visit.visitCount})` : 'New visitor'}</span>
          {visit.visitConverted > 0 && <span className="badge badge-ok">Converted</span>}
        </header>
        <dl className="visit-facts">
          <div>
            <dt>Location</dt>
            <dd>
              {countryName(visit.countryCode)}
              {visit.city ? `, ${visit.city}` : ''}
              {visit.languageCode ? ` (${visit.languageCode})` : ''}
            </dd>
          </div>
          <div>
            <dt>Device</dt>
            <dd>{device || 'Unknown'}{visit.resolution ? ` · ${visit.resolution}` : ''}</dd>
          </div>
          <div>
            <dt>Referrer</dt>
            <dd>{referrerOf(visit)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(visit.visitDuration)}</dd>
          </div>
        </dl>
        <details className="visit-actions">
          <summary>
            {visit.actions} {visit.actions === 1 ? 'action' : 'actions'}
          </summary>
          <ol>
            {visit.actionDetails.map((action, index) => (
              <li key={`${action.timestamp}-${index}`}>
                <span className="muted">{new Date(action.timestamp * 1000).toLocaleTimeString()}</span> {actionText(action)}
              </li>
            ))}
          </ol>
        </details>
      </article>
    </li>
  );
}

/** The real-time visitor log: the latest visits of the view, refreshed every ten seconds while the tab is visible. */
export function VisitorLog({ idSite, siteName, view }: { idSite: number; siteName: string; view: ReportView }) {
  const [limit, setLimit] = useState(25);
  const hasData = useSiteHasData(idSite);
  const counters = useMatomo<Counters[]>('Live.getCounters', { idSite, lastMinutes: 30, ...(view.segment ? { segment: view.segment } : {}) }, { refetchInterval: POLL_MS });
  const visits = useMatomo<Visit[]>('Live.getLastVisitsDetails', { idSite, ...viewParams(view), filter_limit: limit }, { refetchInterval: POLL_MS });

  if (hasData.data === false) return <TrackingHelp idSite={idSite} siteName={siteName} />;
  const now = counters.data?.[0];
  const list = visits.data ?? [];
  return (
    <>
      <Card title="Last 30 minutes">
        {counters.isPending && <Loading label="Loading live counters…" />}
        <ErrorNotice error={counters.error} />
        {now && (
          <dl className="kpis" aria-label="Last 30 minutes" aria-live="polite">
            <div className="kpi">
              <dt>Visits</dt>
              <dd>{formatNumber(now.visits)}</dd>
            </div>
            <div className="kpi">
              <dt>Visitors</dt>
              <dd>{formatNumber(now.visitors)}</dd>
            </div>
            <div className="kpi">
              <dt>Actions</dt>
              <dd>{formatNumber(now.actions)}</dd>
            </div>
            <div className="kpi">
              <dt>Converted visits</dt>
              <dd>{formatNumber(now.visitsConverted)}</dd>
            </div>
          </dl>
        )}
      </Card>
      <Card
        title="Visitor log"
        actions={
          <>
            <span className="muted live-note" aria-live="off">
              {visits.isFetching ? 'Refreshing…' : 'Refreshes every 10 seconds'}
            </span>
            <ExportLinks method="Live.getLastVisitsDetails" params={{ idSite, ...viewParams(view) }} name={`Visitor log ${view.date}`} />
          </>
        }
      >
        <p className="muted report-period">
          {describeView(view)}
          {view.segment ? ' · segmented' : ''}
        </p>
        {visits.isPending && <Loading label="Loading visits…" />}
        <ErrorNotice error={visits.error} />
        {visits.data !== undefined && list.length === 0 && <Empty title={`No visits in this period${view.segment ? ' for this segment' : ''}.`} />}
        {list.length > 0 && (
          <ol className="visit-list" aria-label="Visits, latest first">
            {list.map((visit) => (
              <VisitCard key={visit.idVisit} visit={visit} />
            ))}
          </ol>
        )}
        {list.length >= limit && limit < 200 && (
          <Button onClick={() => setLimit((n) => n + 25)} busy={visits.isFetching}>
            Show more visits
          </Button>
        )}
      </Card>
    </>
  );
}


import { useEffect } from 'react';
import { useSearchParams } from 'react-router';
import { useAbilities } from '../../api/session';
import { ErrorNotice, Loading, SelectField, TextField } from '../../ui/components';
import { useSites, type RunChoice } from './api';

const PERIODS = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
  { value: 'year', label: 'Year' },
] as const;

const pad = (n: number) => String(n).padStart(2, '0');
const isoDay = (date: Date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

/** Today in the browser's calendar (the server reads plain dates in the site's time zone). */
export function today(): string {
  return isoDay(new Date());
}

/**
 * The date to ask for when a widget draws an evolution: the chosen period and the ones
 * before it (30 days, 12 weeks, 12 months, 5 years), as a Matomo `from,to` range.
 */
export function evolutionDate(period: string, date: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return 'last30';
  const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  const start = new Date(end);
  if (period === 'week') start.setDate(start.getDate() - 7 * 11);
  else if (period === 'month') start.setMonth(start.getMonth() - 11, 1);
  else if (period === 'year') start.setFullYear(start.getFullYear() - 4, 0, 1);
  else start.setDate(start.getDate() - 29);
  return `${isoDay(start)},${isoDay(end)}`;
}

/** The site, period and date in the page's address (shareable; back and forward work). */
export function useRunChoice(): { run: RunChoice | null; setRun: (patch: Partial<RunChoice>) => void; sitesError: unknown; loading: boolean; sites: readonly { value: string; label: string }[] } {
  const abilities = useAbilities();
  const [params, setParams] = useSearchParams();
  const sites = useSites(abilities.inTenant);
  const options = (sites.data ?? []).map((s) => ({ value: String(s.idsite), label: s.name }));
  const idSite = params.get('idSite') ?? options[0]?.value ?? '';
  const period = params.get('period') ?? 'day';
  const date = params.get('date') ?? today();
  const setRun = (patch: Partial<RunChoice>) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(patch)) if (value !== undefined) next.set(key, value);
        return next;
      },
      { replace: true },
    );
  return { run: idSite ? { idSite, period, date } : null, setRun, sitesError: sites.error, loading: sites.isLoading, sites: options };
}

/** Site, period and date for a dashboard or saved report: labelled controls, like the reports area. */
export function RunPicker({ choice }: { choice: ReturnType<typeof useRunChoice> }) {
  const abilities = useAbilities();
  const { run, setRun, sites, sitesError, loading } = choice;
  // Keep the first site in the address once known, so a reload shows the same thing.
  useEffect(() => {
    if (run && !new URLSearchParams(window.location.search).has('idSite')) setRun({ idSite: run.idSite });
  }, [run?.idSite]);

  if (!abilities.inTenant) {
    return (
      <div className="notice notice-info" role="status">
        Dashboards run on a tenant’s data. Choose a tenant in “Acting in” to see this one with that tenant’s sites.
      </div>
    );
  }
  if (loading) return <Loading label="Loading sites…" />;
  if (sitesError) return <ErrorNotice error={sitesError} title="Sites" />;
  if (sites.length === 0) return <div className="notice notice-info">You have no site to show data for yet.</div>;
  return (
    <form className="toolbar ws-run" aria-label="Site, period and date" onSubmit={(event) => event.preventDefault()}>
      <SelectField label="Site" value={run?.idSite ?? ''} options={sites} onChange={(event) => setRun({ idSite: event.target.value })} />
      <SelectField label="Period" value={run?.period ?? 'day'} options={PERIODS} onChange={(event) => setRun({ period: event.target.value })} />
      <TextField
        label="Date"
        type="date"
        value={/^\d{4}-\d{2}-\d{2}$/.test(run?.date ?? '') ? run?.date : today()}
        max={today()}
        required
        onChange={(event) => {
          if (event.target.value) setRun({ date: event.target.value });
        }}
      />
    </form>
  );
}

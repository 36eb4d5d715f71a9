/**
 * Creating and editing dashboards and saved reports. A saved report is a Reporting API
 * call (method, parameters, segment, visualization); a dashboard is an ordered list of
 * widgets, each an inline report or a saved report of the same collection, laid out on
 * a 12-column grid in reading order.
 */
import { useId, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Button, ErrorNotice, Loading, PageHeader, SelectField, TextArea, TextField } from '../../ui/components';
import { Breadcrumbs } from './actions';
import {
  VISUALIZATIONS,
  VISUALIZATION_LABEL,
  asDashboard,
  asReport,
  collectionPath,
  itemPath,
  ops,
  useCollection,
  useCollectionItems,
  useItem,
  useReportCatalog,
  useWorkspaceRefresh,
  type DashboardDefinition,
  type ItemKind,
  type ItemView,
  type ReportDefinition,
  type Visualization,
  type WidgetDefinition,
} from './api';

interface ReportDraft {
  readonly method: string;
  readonly params: string;
  readonly segment: string;
  readonly visualization: Visualization;
}

interface WidgetDraft {
  readonly id: string;
  readonly title: string;
  readonly source: 'report' | 'item';
  readonly item: string;
  readonly report: ReportDraft;
  readonly w: number;
  readonly h: number;
}

const WIDTHS = [
  { value: '12', label: 'Full width' },
  { value: '8', label: 'Two thirds' },
  { value: '6', label: 'Half' },
  { value: '4', label: 'One third' },
  { value: '3', label: 'One quarter' },
];
const HEIGHTS = [
  { value: '3', label: 'Small' },
  { value: '4', label: 'Medium' },
  { value: '6', label: 'Large' },
  { value: '8', label: 'Extra large' },
];
const METHOD_PATTERN = /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/;
const PARAM_PATTERN = /^[A-Za-z0-9_[\]]{1,64}$/;
const RESERVED = new Set(['idSite', 'period', 'date', 'module', 'method', 'format', 'segment', 'token_auth']);

const newId = () => `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const emptyReport = (method = 'VisitsSummary.get', visualization: Visualization = 'line'): ReportDraft => ({ method, params: '', segment: '', visualization });

function draftOfReport(report: ReportDefinition | null): ReportDraft {
  if (!report) return emptyReport();
  return {
    method: report.method,
    params: Object.entries(report.params).map(([k, v]) => `${k}=${v}`).join('\n'),
    segment: report.segment ?? '',
    visualization: report.visualization,
  };
}

function draftOfWidget(widget: WidgetDefinition): WidgetDraft {
  return { id: widget.id, title: widget.title ?? '', source: widget.item ? 'item' : 'report', item: widget.item ?? '', report: draftOfReport(widget.report ?? null), w: widget.w, h: widget.h };
}

/** The definition a draft stands for, or the first thing wrong with it. */
function reportOf(draft: ReportDraft, where: string): ReportDefinition {
  const method = draft.method.trim();
  if (!METHOD_PATTERN.test(method)) throw new Error(`${where}: the method must look like Module.action (for example VisitsSummary.get).`);
  const params: Record<string, string> = {};
  for (const [index, rawLine] of draft.params.split('\n').entries()) {
    const line = rawLine.trim();
    if (line === '') continue;
    const at = line.indexOf('=');
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    if (!PARAM_PATTERN.test(key)) throw new Error(`${where}: parameter line ${index + 1} needs a name of letters, digits, _ or [] before “=”.`);
    if (RESERVED.has(key)) throw new Error(`${where}: “${key}” is chosen when the report is shown (or set as the segment); leave it out of the parameters.`);
    params[key] = at < 0 ? '' : line.slice(at + 1).trim();
  }
  const segment = draft.segment.trim();
  return { method, params, visualization: draft.visualization, ...(segment ? { segment } : {}) };
}

/** Widgets in reading order, placed left to right on 12 columns, a new row when one is full. */
function dashboardOf(widgets: readonly WidgetDraft[]): DashboardDefinition {
  let x = 0;
  let y = 0;
  return {
    widgets: widgets.map((draft, index) => {
      const where = `Widget ${index + 1}${draft.title ? ` (${draft.title})` : ''}`;
      if (x + draft.w > 12) {
        x = 0;
        y += 1;
      }
      const placed = { x, y, w: draft.w, h: draft.h };
      x += draft.w;
      if (draft.source === 'item') {
        if (!draft.item) throw new Error(`${where}: choose a saved report.`);
        return { id: draft.id, ...(draft.title.trim() ? { title: draft.title.trim() } : {}), item: draft.item, ...placed };
      }
      return { id: draft.id, ...(draft.title.trim() ? { title: draft.title.trim() } : {}), report: reportOf(draft.report, where), ...placed };
    }),
  };
}

/** Method, parameters, segment and visualization of one report. */
function ReportFields({ value, onChange }: { value: ReportDraft; onChange: (next: ReportDraft) => void }) {
  const catalog = useReportCatalog();
  const selectId = useId();
  const known = (catalog.data ?? []).map((r) => ({ method: `${r.module}.${r.action}`, name: r.name, category: r.category }));
  const isKnown = known.some((k) => k.method === value.method);
  const [custom, setCustom] = useState(false);
  const showCustom = custom || (!isKnown && catalog.data !== undefined);
  const categories = [...new Set(known.map((k) => k.category))];
  return (
    <div className="ws-report-fields">
      <div className="field">
        <label htmlFor={selectId}>Report</label>
        <select
          id={selectId}
          value={showCustom ? '' : value.method}
          onChange={(event) => {
            if (event.target.value === '') setCustom(true);
            else {
              setCustom(false);
              onChange({ ...value, method: event.target.value });
            }
          }}
        >
          {categories.map((category) => (
            <optgroup key={category} label={category}>
              {known
                .filter((k) => k.category === category)
                .map((k) => (
                  <option key={k.method} value={k.method}>
                    {k.name} ({k.method})
                  </option>
                ))}
            </optgroup>
          ))}
          <option value="">Another API method…</option>
        </select>
      </div>
      {showCustom && <TextField label="API method" value={value.method} placeholder="Module.action" onChange={(event) => onChange({ ...value, method: event.target.value })} hint="Any Reporting API method, for example Live.getCounters." />}
      <SelectField label="Visualization" value={value.visualization} options={VISUALIZATIONS.map((v) => ({ value: v, label: VISUALIZATION_LABEL[v] }))} onChange={(event) => onChange({ ...value, visualization: event.target.value as Visualization })} />
      <TextArea label="Parameters" value={value.params} rows={2} placeholder="(none)" hint="One name=value per line, for example filter_limit=10 or columns=nb_visits. Site, period and date are chosen by whoever views it." onChange={(event) => onChange({ ...value, params: event.target.value })} />
      <TextField label="Segment (optional)" value={value.segment} placeholder="(all visits)" hint="For example browserCode==FF;countryCode==de." onChange={(event) => onChange({ ...value, segment: event.target.value })} />
    </div>
  );
}

function WidgetFields({
  widget,
  index,
  count,
  savedReports,
  onChange,
  onMove,
  onRemove,
}: {
  widget: WidgetDraft;
  index: number;
  count: number;
  savedReports: readonly ItemView[];
  onChange: (next: WidgetDraft) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const name = `Widget ${index + 1}`;
  return (
    <fieldset className="ws-widget-form" aria-label={name}>
      <legend>
        {name}
        {widget.title ? `: ${widget.title}` : ''}
      </legend>
      <div className="ws-widget-form-grid">
        <TextField label="Title" value={widget.title} maxLength={200} onChange={(event) => onChange({ ...widget, title: event.target.value })} />
        <SelectField
          label="Shows"
          value={widget.source}
          options={[
            { value: 'report', label: 'A report' },
            ...(savedReports.length > 0 || widget.source === 'item' ? [{ value: 'item', label: 'A saved report of this collection' }] : []),
          ]}
          onChange={(event) => onChange({ ...widget, source: event.target.value === 'item' ? 'item' : 'report', item: widget.item || savedReports[0]?.id || '' })}
        />
        <SelectField label="Width" value={String(widget.w)} options={WIDTHS} onChange={(event) => onChange({ ...widget, w: Number(event.target.value) })} />
        <SelectField label="Height" value={String(widget.h)} options={HEIGHTS.some((h) => h.value === String(widget.h)) ? HEIGHTS : [...HEIGHTS, { value: String(widget.h), label: `${widget.h} rows` }]} onChange={(event) => onChange({ ...widget, h: Number(event.target.value) })} />
      </div>
      {widget.source === 'item' ? (
        <SelectField label="Saved report" value={widget.item} options={[...(widget.item && !savedReports.some((r) => r.id === widget.item) ? [{ value: widget.item, label: widget.item }] : []), ...savedReports.map((r) => ({ value: r.id, label: r.name }))]} onChange={(event) => onChange({ ...widget, item: event.target.value })} />
      ) : (
        <ReportFields value={widget.report} onChange={(report) => onChange({ ...widget, report })} />
      )}
      <div className="ws-widget-tools">
        <Button onClick={() => onMove(-1)} disabled={index === 0} aria-label={`Move ${name} up`}>
          ↑ Up
        </Button>
        <Button onClick={() => onMove(1)} disabled={index === count - 1} aria-label={`Move ${name} down`}>
          ↓ Down
        </Button>
        <Button variant="danger" onClick={onRemove} aria-label={`Remove ${name}`}>
          Remove
        </Button>
      </div>
    </fieldset>
  );
}

function Editor({ kind, collectionId, item }: { kind: ItemKind; collectionId: string; item: ItemView | null }) {
  const navigate = useNavigate();
  const refresh = useWorkspaceRefresh();
  const collection = useCollection(collectionId);
  const siblings = useCollectionItems(collectionId, false);
  const savedReports = (siblings.data ?? []).filter((i) => i.kind === 'saved_report' && i.id !== item?.id);
  const [name, setName] = useState(item?.name ?? '');
  const [description, setDescription] = useState(item?.description ?? '');
  const [report, setReport] = useState<ReportDraft>(() => (item ? draftOfReport(asReport(item.definition)) : emptyReport('Actions.getPageUrls', 'table')));
  const [widgets, setWidgets] = useState<WidgetDraft[]>(() =>
    item ? asDashboard(item.definition).widgets.map(draftOfWidget) : [{ id: newId(), title: 'Visits over time', source: 'report', item: '', report: emptyReport(), w: 12, h: 4 }],
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const what = kind === 'dashboard' ? 'dashboard' : 'saved report';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const definition = kind === 'dashboard' ? dashboardOf(widgets) : reportOf(report, 'The report');
      const saved = item
        ? await ops.updateItem(item.id, { name: name.trim(), description: description.trim(), definition })
        : await ops.createItem({ collectionId, kind, name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), definition });
      await refresh();
      void navigate(itemPath(saved));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const update = (index: number, next: WidgetDraft) => setWidgets((list) => list.map((w, i) => (i === index ? next : w)));
  const move = (index: number, delta: -1 | 1) =>
    setWidgets((list) => {
      const next = [...list];
      const [moved] = next.splice(index, 1);
      if (moved) next.splice(index + delta, 0, moved);
      return next;
    });

  if (collection.data && collection.data.access !== 'curate') {
    return <ErrorNotice error={new Error(`You may ${collection.data.access} “${collection.data.name}” but not change it (${collection.data.reason}).`)} />;
  }
  return (
    <>
      <Breadcrumbs collectionId={collectionId} current={item ? `Edit ${item.name}` : `New ${what}`} />
      <PageHeader title={item ? `Edit “${item.name}”` : `New ${what}`}>
        {collection.data && <p className="muted">In the collection “{collection.data.name}”.</p>}
      </PageHeader>
      <form className="ws-editor" onSubmit={(event) => void submit(event)} aria-label={item ? `Edit ${what}` : `New ${what}`}>
        <section className="card">
          <TextField label="Name" value={name} required maxLength={200} onChange={(event) => setName(event.target.value)} />
          <TextArea label="Description" value={description} maxLength={2000} rows={2} className="ws-plain" onChange={(event) => setDescription(event.target.value)} />
        </section>
        {kind === 'saved_report' ? (
          <section className="card" aria-labelledby="ws-report-title">
            <h2 id="ws-report-title">What it shows</h2>
            <ReportFields value={report} onChange={setReport} />
          </section>
        ) : (
          <section className="card" aria-labelledby="ws-widgets-title">
            <div className="card-head">
              <h2 id="ws-widgets-title">Widgets ({widgets.length} of 50)</h2>
              <Button onClick={() => setWidgets((list) => [...list, { id: newId(), title: '', source: 'report', item: '', report: emptyReport('Actions.getPageUrls', 'table'), w: 6, h: 4 }])} disabled={widgets.length >= 50}>
                Add widget
              </Button>
            </div>
            <p className="muted">Widgets are laid out in this order, left to right, starting a new row when one is full.</p>
            {widgets.length === 0 && <p className="empty">No widget yet: add one.</p>}
            {widgets.map((widget, index) => (
              <WidgetFields
                key={widget.id}
                widget={widget}
                index={index}
                count={widgets.length}
                savedReports={savedReports}
                onChange={(next) => update(index, next)}
                onMove={(delta) => move(index, delta)}
                onRemove={() => setWidgets((list) => list.filter((_, i) => i !== index))}
              />
            ))}
          </section>
        )}
        <ErrorNotice error={error} title="Not saved" />
        <div className="ws-dialog-actions ws-editor-actions">
          <Link className="btn" to={item ? itemPath(item) : collectionPath(collectionId)}>
            Cancel
          </Link>
          <Button type="submit" variant="primary" busy={busy}>
            {item ? 'Save changes' : `Create ${what}`}
          </Button>
        </div>
      </form>
    </>
  );
}

/** `/dashboards/new?collection=&kind=dashboard|saved_report`. */
export function NewItemPage() {
  const [params] = useSearchParams();
  const collectionId = params.get('collection') ?? '';
  const kind: ItemKind = params.get('kind') === 'saved_report' ? 'saved_report' : 'dashboard';
  if (!collectionId) return <ErrorNotice error={new Error('Open a collection first, then create the dashboard or saved report there.')} />;
  return <Editor key={`${collectionId}-${kind}`} kind={kind} collectionId={collectionId} item={null} />;
}

/** `/dashboards/:id/edit`. */
export function EditItemPage() {
  const { id = '' } = useParams();
  const item = useItem(id);
  if (item.isLoading) return <Loading />;
  if (item.error || !item.data) return <ErrorNotice error={item.error ?? new Error('Not found.')} title="This cannot be edited" />;
  return <Editor key={item.data.id} kind={item.data.kind} collectionId={item.data.collectionId} item={item.data} />;
}

import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useAbilities, useSession } from '../../api/session';
import { Button, CheckboxField, Dialog, ErrorNotice, TextField } from '../../ui/components';
import { useMatomo } from './data';
import { matomoPost } from './matomo-post';
import type { ReportView } from './params';
import { buildSegment, describeSegment, DIMENSIONS, dimensionOf, OPERATORS, parseSegment, type Condition, type Operator } from './segment';

interface SavedSegment {
  readonly idsegment: number;
  readonly name: string;
  readonly definition: string;
  readonly login: string;
  readonly enable_only_idsite: number;
}

const GROUPS = [...new Set(DIMENSIONS.map((d) => d.group))];
const blank = (): Condition => ({ dimension: 'pageUrl', operator: '=@', value: '', join: 'and' });

function useSavedSegments(idSite: number) {
  return useMatomo<SavedSegment[]>('SegmentEditor.getAll', { idSite });
}

function ConditionRow({ index, condition, onChange, onRemove }: { index: number; condition: Condition; onChange: (next: Condition) => void; onRemove: () => void }) {
  const id = useId();
  const dimension = dimensionOf(condition.dimension);
  const n = index + 1;
  return (
    <fieldset className="segment-condition">
      <legend className="visually-hidden">Condition {n}</legend>
      {index > 0 && (
        <div className="field segment-join">
          <label htmlFor={`${id}-join`}>Join {n}</label>
          <select id={`${id}-join`} value={condition.join} onChange={(e) => onChange({ ...condition, join: e.target.value === 'or' ? 'or' : 'and' })}>
            <option value="and">and</option>
            <option value="or">or</option>
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-dimension`}>Dimension {n}</label>
        <select id={`${id}-dimension`} value={condition.dimension} onChange={(e) => onChange({ ...condition, dimension: e.target.value })}>
          {!dimension && <option value={condition.dimension}>{condition.dimension}</option>}
          {GROUPS.map((group) => (
            <optgroup key={group} label={group}>
              {DIMENSIONS.filter((d) => d.group === group).map((d) => (
                <option key={d.name} value={d.name}>
                  {d.label}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-operator`}>Operator {n}</label>
        <select id={`${id}-operator`} value={condition.operator} onChange={(e) => onChange({ ...condition, operator: e.target.value as Operator })}>
          {OPERATORS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label} ({o.value})
            </option>
          ))}
        </select>
      </div>
      <div className="field segment-value">
        <label htmlFor={`${id}-value`}>Value {n}</label>
        <input
          id={`${id}-value`}
          value={condition.value}
          inputMode={dimension?.numeric ? 'numeric' : undefined}
          list={dimension?.suggestions ? `${id}-suggestions` : undefined}
          placeholder={dimension?.hint ?? ''}
          onChange={(e) => onChange({ ...condition, value: e.target.value })}
        />
        {dimension?.suggestions && (
          <datalist id={`${id}-suggestions`}>
            {dimension.suggestions.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        )}
      </div>
      <Button variant="link" className="segment-remove" onClick={onRemove} aria-label={`Remove condition ${n}`}>
        Remove
      </Button>
    </fieldset>
  );
}

function SegmentDialog({ idSite, view, apply, onClose }: { idSite: number; view: ReportView; apply: (segment: string) => void; onClose: () => void }) {
  const session = useSession();
  const abilities = useAbilities();
  const queryClient = useQueryClient();
  const saved = useSavedSegments(idSite);
  const [conditions, setConditions] = useState<Condition[]>(() => {
    const parsed = parseSegment(view.segment);
    return parsed && parsed.length > 0 ? parsed : [blank()];
  });
  const [text, setText] = useState(view.segment);
  const [name, setName] = useState('');
  const [siteOnly, setSiteOnly] = useState(true);
  const definitionId = useId();

  const change = (next: Condition[]) => {
    setConditions(next);
    setText(buildSegment(next));
  };
  const editText = (value: string) => {
    setText(value);
    const parsed = parseSegment(value);
    if (parsed) setConditions(parsed.length > 0 ? parsed : [blank()]);
  };
  const csrf = session.me?.csrfToken ?? null;
  const save = useMutation({
    mutationFn: () => matomoPost<number>('SegmentEditor.add', { name: name.trim(), definition: text, idSite: siteOnly ? idSite : 0 }, csrf),
    onSuccess: async () => {
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['reports', 'SegmentEditor.getAll'] });
    },
  });
  const remove = useMutation({
    mutationFn: (idSegment: number) => matomoPost<null>('SegmentEditor.delete', { idSegment }, csrf),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['reports', 'SegmentEditor.getAll'] }),
  });

  return (
    <Dialog open title="Segment editor" onClose={onClose}>
      <form
        className="segment-editor"
        aria-label="Segment"
        onSubmit={(event) => {
          event.preventDefault();
          apply(text.trim());
          onClose();
        }}
      >
        <p className="muted">
          Visits match when they meet the conditions (a visit matches an action condition when any one of its actions does). <strong>or</strong> binds tighter than{' '}
          <strong>and</strong>: “A or B and C” is (A or B) and C.
        </p>
        <div className="segment-conditions">
          {conditions.map((condition, index) => (
            <ConditionRow
              key={index}
              index={index}
              condition={condition}
              onChange={(next) => change(conditions.map((c, i) => (i === index ? next : c)))}
              onRemove={() => change(conditions.length > 1 ? conditions.filter((_, i) => i !== index) : [blank()])}
            />
          ))}
        </div>
        <Button onClick={() => change([...conditions, blank()])}>Add condition</Button>
        <div className="field segment-definition">
          <label htmlFor={definitionId}>Segment definition</label>
          <input id={definitionId} value={text} onChange={(e) => editText(e.target.value)} spellCheck={false} aria-describedby={`${definitionId}-hint`} />
          <small id={`${definitionId}-hint`} className="field-hint">
            Matomo's segment syntax, values URL-encoded{text ? `: ${describeSegment(text)}` : ''}.
          </small>
        </div>
        <div className="dialog-actions">
          <Button type="submit" variant="primary">
            Apply segment
          </Button>
          <Button
            onClick={() => {
              apply('');
              onClose();
            }}
          >
            All visits (no segment)
          </Button>
        </div>
      </form>

      <section className="segment-saved" aria-labelledby={`${definitionId}-saved`}>
        <h3 id={`${definitionId}-saved`}>Saved segments</h3>
        <form
          className="inline-form"
          aria-label="Save segment"
          onSubmit={(event) => {
            event.preventDefault();
            if (name.trim() && text.trim()) save.mutate();
          }}
        >
          <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={255} />
          <CheckboxField label="This site only" checked={siteOnly} onChange={(e) => setSiteOnly(e.target.checked)} />
          <Button type="submit" busy={save.isPending} disabled={!text.trim()}>
            Save segment
          </Button>
        </form>
        <ErrorNotice error={save.error ?? remove.error ?? saved.error} />
        {saved.data && saved.data.length === 0 && <p className="muted">No saved segments yet.</p>}
        {saved.data && saved.data.length > 0 && (
          <ul className="saved-list">
            {saved.data.map((segment) => (
              <li key={segment.idsegment}>
                <span>
                  <strong>{segment.name}</strong> <code className="muted">{segment.definition}</code>
                </span>
                <span className="saved-actions">
                  <Button
                    variant="link"
                    aria-label={`Apply ${segment.name}`}
                    onClick={() => {
                      apply(segment.definition);
                      onClose();
                    }}
                  >
                    Apply
                  </Button>
                  {(segment.login === abilities.login || abilities.superuser) && (
                    <Button variant="link" className="danger-link" aria-label={`Delete ${segment.name}`} busy={remove.isPending} onClick={() => remove.mutate(segment.idsegment)}>
                      Delete
                    </Button>
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Dialog>
  );
}

/** The current segment, a way to edit it, and the saved segments to pick from. */
export function SegmentBar({ idSite, view, apply }: { idSite: number; view: ReportView; apply: (segment: string) => void }) {
  const [open, setOpen] = useState(false);
  const saved = useSavedSegments(idSite);
  const pickerId = useId();
  const current = saved.data?.find((s) => s.definition === view.segment);
  return (
    <div className="segment-bar" role="group" aria-label="Segment">
      <span className="segment-current">
        <span className="muted">Segment: </span>
        {view.segment ? <strong title={view.segment}>{current?.name ?? describeSegment(view.segment)}</strong> : <span>All visits</span>}
      </span>
      <Button onClick={() => setOpen(true)}>{view.segment ? 'Edit segment' : 'Add segment'}</Button>
      {view.segment && <Button onClick={() => apply('')}>Clear segment</Button>}
      {saved.data && saved.data.length > 0 && (
        <span className="segment-saved-picker">
          <label htmlFor={pickerId}>Saved</label>
          <select id={pickerId} value={view.segment} onChange={(e) => apply(e.target.value)}>
            <option value="">All visits</option>
            {view.segment && !current && <option value={view.segment}>Current (not saved)</option>}
            {saved.data.map((s) => (
              <option key={s.idsegment} value={s.definition}>
                {s.name}
              </option>
            ))}
          </select>
        </span>
      )}
      {open && <SegmentDialog idSite={idSite} view={view} apply={apply} onClose={() => setOpen(false)} />}
    </div>
  );
}

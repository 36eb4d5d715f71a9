/** Editing tenant settings: one field per setting, with the layer its value comes from and a way back to the inherited value. */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import { Button, Card, ErrorNotice, SuccessNotice } from '../../ui/components';
import type { SettingValue, TenantSetting } from './common';

export function useTenantSettings() {
  return useQuery({ queryKey: ['admin', 'tenant-settings'], queryFn: () => api.get<{ settings: TenantSetting[] }>('/api/v1/tenant/settings') });
}

const layerLabels: Readonly<Record<TenantSetting['layer'], string>> = {
  default: 'built-in default',
  common: 'platform setting',
  environment: 'platform environment',
  tenant: 'set for this tenant',
};

export function LayerBadge({ layer }: { layer: TenantSetting['layer'] }) {
  return <span className={`badge admin-layer admin-layer-${layer}`}>{layerLabels[layer]}</span>;
}

/** How a setting is edited: its type, or a duration in seconds shown in larger units. */
export type FieldKind = 'auto' | 'duration';

export interface FieldSpec {
  readonly name: string;
  readonly label?: string;
  readonly kind?: FieldKind;
  readonly hint?: string;
}

/** "Security.password_min_length" → "Password min length". */
export function humanize(name: string): string {
  const key = name.slice(name.indexOf('.') + 1).replace(/\[\]$/, '');
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const units = [
  { value: 86400, label: 'days' },
  { value: 3600, label: 'hours' },
  { value: 60, label: 'minutes' },
  { value: 1, label: 'seconds' },
] as const;

function unitFor(seconds: number): number {
  return units.find((unit) => seconds !== 0 && seconds % unit.value === 0)?.value ?? 60;
}

function display(value: SettingValue | null): string {
  if (value === null) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

function durationText(seconds: number): string {
  const unit = units.find((u) => u.value === unitFor(seconds)) ?? units[2];
  return `${seconds / unit.value} ${unit.label}`;
}

/** One setting's control. `value` is the draft (text for numbers and lists while editing). */
function SettingControl({
  setting,
  spec,
  value,
  onChange,
  onReset,
  resetting,
}: {
  setting: TenantSetting;
  spec: FieldSpec;
  value: Draft;
  onChange: (value: Draft) => void;
  onReset: () => void;
  resetting: boolean;
}) {
  const id = useId();
  const label = spec.label ?? humanize(setting.name);
  const [unit, setUnit] = useState(() => unitFor(typeof setting.value === 'number' ? setting.value : 60));
  const defaultText = spec.kind === 'duration' && typeof setting.default === 'number' ? durationText(setting.default) : display(setting.default);
  const describedBy = `${id}-hint`;
  const meta = (
    <small id={describedBy} className="field-hint admin-setting-meta">
      {spec.hint ?? setting.description} <LayerBadge layer={setting.layer} /> {!setting.secret && <span>default: {defaultText}</span>} <code className="admin-setting-name">{setting.name}</code>
    </small>
  );
  const reset =
    setting.layer === 'tenant' ? (
      <Button variant="link" className="admin-reset" busy={resetting} onClick={onReset} aria-label={`Reset ${label} to the inherited value`}>
        Reset to inherited
      </Button>
    ) : null;

  let control;
  if (setting.type === 'bool') {
    control = (
      <div className="field field-check admin-setting">
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
        <label htmlFor={id}>{label}</label>
        {reset}
        {meta}
      </div>
    );
    return control;
  }
  if (spec.kind === 'duration') {
    const seconds = Number(value);
    return (
      <div className="field admin-setting">
        <label htmlFor={id}>{label}</label>
        <div className="admin-duration">
          <input
            id={id}
            type="number"
            min={0}
            step="any"
            value={value === '' ? '' : Number.isFinite(seconds) ? String(Math.round((seconds / unit) * 1000) / 1000) : ''}
            onChange={(e) => onChange(e.target.value === '' ? '' : String(Math.round(Number(e.target.value) * unit)))}
            aria-describedby={describedBy}
          />
          <select aria-label={`${label} unit`} value={unit} onChange={(e) => setUnit(Number(e.target.value))}>
            {units.map((u) => (
              <option key={u.value} value={u.value}>
                {u.label}
              </option>
            ))}
          </select>
          {reset}
        </div>
        {meta}
      </div>
    );
  }
  if (setting.type === 'list') {
    return (
      <div className="field admin-setting">
        <label htmlFor={id}>{label}</label>
        <textarea id={id} rows={4} value={String(value)} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy} />
        {reset}
        {meta}
      </div>
    );
  }
  return (
    <div className="field admin-setting">
      <label htmlFor={id}>{label}</label>
      <div className="admin-duration">
        <input
          id={id}
          type={setting.secret ? 'password' : setting.type === 'int' ? 'number' : 'text'}
          autoComplete={setting.secret ? 'new-password' : 'off'}
          placeholder={setting.secret ? (setting.set ? '(set — type to replace)' : '(not set)') : undefined}
          value={String(value)}
          onChange={(e) => onChange(e.target.value)}
          aria-describedby={describedBy}
        />
        {reset}
      </div>
      {meta}
    </div>
  );
}

/** Numbers and lists are edited as text. */
type Draft = string | boolean;

function draftOf(setting: TenantSetting): Draft {
  if (setting.secret) return '';
  const value = setting.value;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.join('\n');
  return value === null ? '' : String(value);
}

function valueOf(setting: TenantSetting, draft: Draft): SettingValue {
  if (setting.type === 'bool') return draft === true;
  const text = String(draft);
  if (setting.type === 'int') return text.trim() === '' ? Number.NaN : Number(text);
  if (setting.type === 'list')
    return text
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return text;
}

function same(a: SettingValue | null, b: SettingValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A card of settings saved together: only changed values are sent (PUT
 * /api/v1/tenant/settings, all or nothing); "Reset to inherited" sends null for one.
 */
export function SettingsGroup({ title, fields, settings, description }: { title: string; fields: readonly FieldSpec[]; settings: readonly TenantSetting[]; description?: string }) {
  const queryClient = useQueryClient();
  const byName = useMemo(() => new Map(settings.map((s) => [s.name, s])), [settings]);
  const present = fields.filter((f) => byName.has(f.name));
  const [drafts, setDrafts] = useState<Readonly<Record<string, Draft>>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);

  const draft = (setting: TenantSetting): Draft => drafts[setting.name] ?? draftOf(setting);
  const changes = (): Record<string, SettingValue> => {
    const out: Record<string, SettingValue> = {};
    for (const field of present) {
      const setting = byName.get(field.name);
      if (!setting || drafts[field.name] === undefined) continue;
      if (setting.secret && drafts[field.name] === '') continue;
      const value = valueOf(setting, draft(setting));
      if (!same(setting.value, value)) out[setting.name] = value;
    }
    return out;
  };

  const save = useMutation({
    mutationFn: (body: Record<string, SettingValue | null>) => api.put<{ settings: TenantSetting[] }>('/api/v1/tenant/settings', { settings: body }),
    onMutate: () => setMessage(null),
    onSuccess: (answer, body) => {
      queryClient.setQueryData(['admin', 'tenant-settings'], answer);
      setDrafts((current) => Object.fromEntries(Object.entries(current).filter(([name]) => !(name in body))));
      const count = Object.keys(body).length;
      const reset = Object.values(body).every((v) => v === null);
      setMessage(count === 0 ? 'Nothing to save.' : reset ? 'Reset: the inherited value applies again.' : `Saved ${count} setting${count === 1 ? '' : 's'}.`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // An emptied number is a mistake, not a wish to inherit: "Reset to inherited" says that.
    const empty = present.map((f) => byName.get(f.name)).find((s) => s?.type === 'int' && drafts[s.name] !== undefined && String(drafts[s.name]).trim() === '');
    if (empty) {
      setMessage(null);
      setInvalid(`${present.find((f) => f.name === empty.name)?.label ?? humanize(empty.name)}: enter a number.`);
      return;
    }
    setInvalid(null);
    const body = changes();
    if (Object.keys(body).length === 0) {
      setMessage('Nothing changed.');
      return;
    }
    save.mutate(body);
  };

  if (present.length === 0) return null;
  return (
    <Card title={title}>
      {description && <p className="muted">{description}</p>}
      <form onSubmit={submit} aria-label={title} className="admin-settings-form">
        {present.map((field) => {
          const setting = byName.get(field.name);
          if (!setting) return null;
          return (
            <SettingControl
              key={`${setting.name}|${setting.layer}|${JSON.stringify(setting.value)}`}
              setting={setting}
              spec={field}
              value={draft(setting)}
              onChange={(value) => setDrafts((d) => ({ ...d, [setting.name]: value }))}
              onReset={() => save.mutate({ [setting.name]: null })}
              resetting={save.isPending && save.variables[setting.name] === null}
            />
          );
        })}
        <ErrorNotice error={invalid ? new Error(invalid) : save.error} />
        <SuccessNotice>{message}</SuccessNotice>
        <div className="admin-dialog-actions admin-left">
          <Button type="submit" variant="primary" busy={save.isPending} aria-label={`Save ${title.toLowerCase()}`}>
            Save
          </Button>
          {Object.keys(drafts).length > 0 && <Button onClick={() => setDrafts({})}>Undo changes</Button>}
        </div>
      </form>
    </Card>
  );
}

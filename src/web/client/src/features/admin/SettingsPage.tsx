import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/http';
import { useSession } from '../../api/session';
import { Button, Card, ErrorNotice, Loading, PageHeader, SelectField, SuccessNotice, TextField } from '../../ui/components';
import { RequireSuperuser } from './AdminLayout';
import { ConfirmDialog, timeZones, withActingTenant } from './common';
import { securityGroups } from './SecurityPage';
import { SettingsGroup, humanize, useTenantSettings } from './SettingsFields';

/** The own tenant as its super users edit it: raw values, null where the platform's default applies. */
interface OwnTenant {
  readonly slug: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly branding: { readonly productName: string | null; readonly primaryColor: string | null; readonly logoUrl: string | null };
  readonly language: string | null;
  readonly timezone: string | null;
}

const HEX = /^#[0-9a-fA-F]{6}$/;
const LOGO_TYPES = 'image/png,image/jpeg,image/gif,image/webp';

/** After a branding change the header shows it at once (a new logo comes with a new versioned address from the server). */
async function refreshFace(queryClient: ReturnType<typeof useQueryClient>): Promise<void> {
  await queryClient.invalidateQueries({ queryKey: ['tenant-face'] });
}

function BrandingCard({ tenant }: { tenant: OwnTenant }) {
  const queryClient = useQueryClient();
  const colorId = useId();
  const [productName, setProductName] = useState(tenant.branding.productName ?? '');
  const [color, setColor] = useState(tenant.branding.primaryColor ?? '');
  const [language, setLanguage] = useState(tenant.language ?? '');
  const [timezone, setTimezone] = useState(tenant.timezone ?? '');
  const colorValid = color === '' || HEX.test(color);
  const save = useMutation({
    mutationFn: () =>
      api.patch<OwnTenant>('/api/v1/tenant', {
        productName: productName.trim() === '' ? null : productName.trim(),
        primaryColor: color === '' ? null : color.toLowerCase(),
        language: language.trim() === '' ? null : language.trim(),
        timezone: timezone === '' ? null : timezone,
      }),
    onSuccess: async (updated) => {
      queryClient.setQueryData(['admin', 'own-tenant'], updated);
      await refreshFace(queryClient);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (colorValid) save.mutate();
  };
  const zones = timeZones();
  return (
    <Card title="Branding and defaults">
      <form className="stack" onSubmit={submit} aria-label="Branding and defaults">
        <TextField label="Product name" maxLength={100} value={productName} placeholder="Plura" onChange={(e) => setProductName(e.target.value)} hint="Shown in the header, page titles and emails. Empty: Plura." />
        <div className="field">
          <label htmlFor={colorId}>Primary colour</label>
          <div className="admin-color">
            <input id={colorId} type="color" value={HEX.test(color) ? color : '#3450a1'} onChange={(e) => setColor(e.target.value)} />
            <input
              type="text"
              aria-label="Primary colour (hex)"
              aria-invalid={colorValid ? undefined : true}
              placeholder="#3450a1"
              maxLength={7}
              value={color}
              onChange={(e) => setColor(e.target.value.trim())}
            />
            <span className="admin-swatch" style={{ background: HEX.test(color) ? color : 'var(--brand)' }} aria-hidden="true" />
            {color !== '' && (
              <Button variant="link" onClick={() => setColor('')}>
                Use the default colour
              </Button>
            )}
          </div>
          {!colorValid && <small className="field-error">Write the colour as # and six hex digits, such as #1a7f45.</small>}
        </div>
        <TextField label="Language" maxLength={16} value={language} placeholder="en" onChange={(e) => setLanguage(e.target.value)} hint="A language code such as en, de, fr or pt-BR. Empty: the platform’s default." />
        <SelectField
          label="Default time zone of new sites"
          value={timezone}
          onChange={(e) => setTimezone(e.target.value)}
          options={[{ value: '', label: 'The platform’s default' }, ...zones.map((z) => ({ value: z, label: z }))]}
        />
        <Button type="submit" variant="primary" busy={save.isPending}>
          Save branding
        </Button>
        <ErrorNotice error={save.error} />
        <SuccessNotice>{save.isSuccess && 'Saved: the header shows the new branding.'}</SuccessNotice>
      </form>
    </Card>
  );
}

function LogoCard({ tenant }: { tenant: OwnTenant }) {
  const queryClient = useQueryClient();
  const { face } = useSession();
  const fileId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  // A new key empties the file input once its file is uploaded.
  const [inputKey, setInputKey] = useState(0);
  useEffect(() => {
    if (!file) return setPreview(null);
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const upload = useMutation({
    mutationFn: (logo: File) => api.put<{ logoUrl: string; contentType: string; bytes: number }>('/api/v1/tenant/logo', undefined, { raw: logo }),
    onSuccess: async () => {
      setFile(null);
      setInputKey((k) => k + 1);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'own-tenant'] });
      await refreshFace(queryClient);
    },
  });
  const remove = useMutation({
    mutationFn: () => api.del('/api/v1/tenant/logo'),
    onSuccess: async () => {
      setConfirming(false);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'own-tenant'] });
      await refreshFace(queryClient);
    },
  });
  const current = tenant.branding.logoUrl ?? face.branding.logoUrl;
  const tooBig = file !== null && file.size > 512 * 1024;

  return (
    <Card title="Logo">
      <div className="admin-logo">
        <div className="admin-logo-box" aria-live="polite">
          {preview ? (
            <img src={preview} alt="Preview of the chosen logo" />
          ) : current ? (
            <img src={withActingTenant(current)} alt="Current logo" />
          ) : (
            <span className="muted">No logo: the product name shows alone.</span>
          )}
        </div>
        <form
          className="stack"
          aria-label="Upload a logo"
          onSubmit={(event) => {
            event.preventDefault();
            if (file && !tooBig) upload.mutate(file);
          }}
        >
          <div className="field">
            <label htmlFor={fileId}>Logo file</label>
            <input key={inputKey} id={fileId} type="file" accept={LOGO_TYPES} onChange={(e) => setFile(e.target.files?.[0] ?? null)} aria-describedby={`${fileId}-hint`} />
            <small id={`${fileId}-hint`} className={tooBig ? 'field-error' : 'field-hint'}>
              {tooBig ? 'The file is larger than 512 kB.' : 'PNG, JPEG, GIF or WebP up to 512 kB; about 28 pixels high in the header. SVG is refused (it can carry scripts).'}
            </small>
          </div>
          <div className="admin-dialog-actions admin-left">
            <Button type="submit" variant="primary" disabled={!file || tooBig} busy={upload.isPending}>
              Upload logo
            </Button>
            {current && !file && (
              <Button variant="danger" onClick={() => setConfirming(true)}>
                Remove logo
              </Button>
            )}
          </div>
          <ErrorNotice error={upload.error} />
          <SuccessNotice>{upload.isSuccess && 'The new logo is in place.'}</SuccessNotice>
          <SuccessNotice>{remove.isSuccess && 'The logo was removed.'}</SuccessNotice>
        </form>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Remove the logo"
        confirmLabel="Remove logo"
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setConfirming(false);
          remove.reset();
        }}
        busy={remove.isPending}
        error={remove.error}
      >
        <p>The header shows the product name without a logo.</p>
      </ConfirmDialog>
    </Card>
  );
}

const shownElsewhere = new Set(securityGroups.flatMap((group) => group.fields.map((field) => field.name)));

/** Every other setting the tenant may override, by section. */
function OtherSettings() {
  const settings = useTenantSettings();
  const sections = useMemo(() => {
    const by = new Map<string, string[]>();
    for (const setting of settings.data?.settings ?? []) {
      if (shownElsewhere.has(setting.name)) continue;
      by.set(setting.section, [...(by.get(setting.section) ?? []), setting.name]);
    }
    return [...by.entries()];
  }, [settings.data]);
  return (
    <section aria-labelledby="other-settings" className="admin-other">
      <h2 id="other-settings">Other settings</h2>
      <p className="muted">Everything else this tenant may set for itself; the platform’s value applies where it sets none.</p>
      {settings.isLoading && <Loading />}
      <ErrorNotice error={settings.error} />
      {settings.data &&
        sections.map(([section, names]) => (
          <details key={section} className="admin-section">
            <summary>
              {section} <span className="muted">({names.length})</span>
            </summary>
            <SettingsGroup title={`${section} settings`} fields={names.map((name) => ({ name, label: humanize(name) }))} settings={settings.data.settings} />
          </details>
        ))}
    </section>
  );
}

/** /admin/settings: branding (name, colour, logo), language and time zone, and the tenant's other settings. */
function SettingsPageScreen() {
  // The own tenant's stored values (unset fields are null, unlike the public face's defaults).
  const tenant = useQuery({ queryKey: ['admin', 'own-tenant'], queryFn: () => api.get<OwnTenant>('/api/v1/tenant/profile') });
  return (
    <div className="page">
      <PageHeader title="Settings and branding">{tenant.data && <p className="muted">{tenant.data.name} · {tenant.data.hosts.join(', ')}</p>}</PageHeader>
      {tenant.isLoading && <Loading />}
      <ErrorNotice error={tenant.error} />
      {tenant.data && (
        <div className="grid-2">
          <BrandingCard key={JSON.stringify(tenant.data)} tenant={tenant.data} />
          <LogoCard tenant={tenant.data} />
        </div>
      )}
      <OtherSettings />
    </div>
  );
}

/** Only super users reach the screen (and its requests); anyone else is told so. */
export function SettingsPage() {
  return (
    <RequireSuperuser>
      <SettingsPageScreen />
    </RequireSuperuser>
  );
}

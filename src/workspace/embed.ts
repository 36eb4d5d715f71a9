import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { Value } from '@sinclair/typebox/value';
import { PluraError } from '../core/errors.js';
import type { Scope } from '../access/context.js';
import type { CollectionKind } from '../access/policy.js';
import type { Platform } from '../platform/platform.js';
import type { MatomoValue } from '../matomo-api/render.js';
import { renderMatomoResult } from '../matomo-api/render.js';
import { validateAttributeOverrides } from './attributes.js';
import { DashboardDefinition, SavedReportDefinition, isCollectionKind, type CollectionRow, type CollectionStore, type ItemRow } from './workspace.service.js';

/**
 * Signed embedding: an application that embeds Plura signs a short-lived JWT (HS256,
 * `[Embedding] secret`) naming the tenant (`@tenant`), optionally a user of it
 * (`user`, whose groups and attributes then apply) and attributes for this view
 * (`attributes`); `/embed/dashboard/<id>?token=...` renders the dashboard read-only,
 * as plain HTML without scripts, with the tenant's own data and its row-level filters.
 */

export const MAX_EMBED_TOKEN_LENGTH = 16 * 1024;
export const MIN_EMBED_SECRET_LENGTH = 32;

export interface EmbedClaims {
  readonly tenant: string;
  /** Login of a user of the tenant, or null. */
  readonly user: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  /** The site for widgets that name none. */
  readonly idSite: number | null;
  readonly expiresAt: Date;
}

const refuse = (message: string): PluraError => new PluraError('invalid_token', message);

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The embed token has expired.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The embed token signature is not valid.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The embed token's "${error.claim}" claim is not acceptable: ${error.reason === 'missing' ? 'it is missing' : error.message}.`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The embed token algorithm is not accepted; use HS256.';
  if (error instanceof joseErrors.JOSEError) return `The embed token is not valid: ${error.message}.`;
  return 'The embed token is not valid.';
}

/** Verifies an embed token: HS256 with the platform's secret only (`alg: none` and every other algorithm refused), `exp` required. */
export async function verifyEmbedToken(token: string, secret: string, now = new Date()): Promise<EmbedClaims> {
  if (token === '') throw refuse('An embed needs a signed token: /embed/dashboard/<id>?token=<JWT>.');
  if (token.length > MAX_EMBED_TOKEN_LENGTH) throw new PluraError('payload_too_large', `The embed token is longer than ${MAX_EMBED_TOKEN_LENGTH} characters.`);
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw refuse('The embed token is not a JWT (three base64url parts with a JSON header).');
  }
  if (alg !== 'HS256') throw refuse(`The embed token's algorithm "${alg ?? 'none'}" is not accepted; sign it with HS256 and the [Embedding] secret.`);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'], requiredClaims: ['exp'], currentDate: now, clockTolerance: 30 }));
  } catch (error) {
    throw refuse(describeJoseError(error));
  }
  const tenant = payload['@tenant'];
  if (typeof tenant !== 'string' || tenant === '') throw refuse('The embed token needs a "@tenant" claim: the slug of the tenant it shows.');
  const user = payload['user'];
  if (user !== undefined && user !== null && (typeof user !== 'string' || user === '' || user.length > 200)) throw refuse('The "user" claim must be the login of a user of the tenant.');
  const attributes = payload['attributes'];
  if (attributes !== undefined && attributes !== null && (typeof attributes !== 'object' || Array.isArray(attributes))) throw refuse('The "attributes" claim must be an object of strings.');
  let checked: Record<string, string> = {};
  try {
    checked = validateAttributeOverrides((attributes ?? {}) as Record<string, unknown>, 'The "attributes" claim');
  } catch (error) {
    throw refuse(error instanceof Error ? error.message : String(error));
  }
  const rawSite = payload['idSite'];
  let idSite: number | null = null;
  if (rawSite !== undefined && rawSite !== null) {
    const number = typeof rawSite === 'string' && /^\d+$/.test(rawSite) ? Number(rawSite) : rawSite;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) throw refuse('The "idSite" claim must be a site id.');
    idSite = number;
  }
  return { tenant, user: typeof user === 'string' ? user : null, attributes: checked, idSite, expiresAt: new Date((payload.exp ?? 0) * 1000) };
}

// ---------------------------------------------------------------------------
// Finding what to embed.

export interface EmbeddableItem {
  readonly row: ItemRow;
  readonly collection: CollectionRow;
  readonly collectionKind: CollectionKind;
  /** The tenant of a tenant collection; null for registry collections. */
  readonly collectionTenant: string | null;
  readonly db: CollectionStore;
}

/** An item by id, in the tenant's store or the registry, with its collection; archived ones count as absent. */
export async function findItemForEmbed(platform: Platform, scope: Extract<Scope, { kind: 'tenant' }>, id: string): Promise<EmbeddableItem | null> {
  const stores: { db: CollectionStore; tenant: string | null }[] = [
    { db: scope.store.db as unknown as CollectionStore, tenant: scope.tenant.slug },
    { db: platform.registry.db as unknown as CollectionStore, tenant: null },
  ];
  for (const { db, tenant } of stores) {
    const row = await db.selectFrom('workspace_item').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) continue;
    if (row.archived_at !== null) return null;
    const collection = await db.selectFrom('collection').selectAll().where('id', '=', row.collection_id).executeTakeFirst();
    if (!collection || collection.archived_at !== null || !isCollectionKind(collection.kind)) return null;
    return { row, collection, collectionKind: collection.kind, collectionTenant: collection.kind === 'tenant' ? tenant : null, db };
  }
  return null;
}

export function dashboardDefinitionOf(row: ItemRow): DashboardDefinition | null {
  try {
    const value: unknown = JSON.parse(row.definition);
    return row.kind === 'dashboard' && Value.Check(DashboardDefinition, value) ? value : null;
  } catch {
    return null;
  }
}

export function savedReportDefinitionOf(row: ItemRow): SavedReportDefinition | null {
  try {
    const value: unknown = JSON.parse(row.definition);
    return row.kind === 'saved_report' && Value.Check(SavedReportDefinition, value) ? value : null;
  } catch {
    return null;
  }
}

/** Site ids a report names (`idSite=3`, `1,2`); 'all' when it asks for every site; empty when it names none. */
export function sitesNamedBy(report: SavedReportDefinition): number[] | 'all' {
  const raw = (report.params['idSite'] ?? report.params['idsite'] ?? '').trim();
  if (raw.toLowerCase() === 'all') return 'all';
  return raw.split(',').map((part) => part.trim()).filter((part) => /^\d+$/.test(part)).map(Number).filter((id) => id > 0);
}

// ---------------------------------------------------------------------------
// The page: self-contained HTML, no scripts.

export interface WidgetOutcome {
  readonly id: string;
  readonly title: string;
  readonly visualization: string;
  readonly w: number;
  readonly value?: MatomoValue;
  readonly error?: string;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px;color:#1f2933;background:#f5f7fa}
h1{font-size:1.25rem;margin:0 0 4px}p.meta{margin:0 0 16px;color:#52606d;font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(12,1fr);gap:12px}
.widget{background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:12px;overflow:auto;min-width:0}
.widget h2{font-size:.95rem;margin:0 0 8px}
.numbers{display:flex;flex-wrap:wrap;gap:16px}.number b{display:block;font-size:1.6rem}.number span{color:#52606d;font-size:.8rem}
table{border-collapse:collapse;width:100%;font-size:.8rem}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e4e7eb}
.error{color:#b44d12}.empty{color:#52606d}
main.refused{max-width:40rem;margin:10vh auto;background:#fff;border:1px solid #e4e7eb;border-radius:6px;padding:24px}
`;

function page(title: string, body: string, mainClass = ''): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="robots" content="noindex">\n<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main${mainClass ? ` class="${mainClass}"` : ''}>\n${body}\n</main>\n</body>\n</html>\n`;
}

const isRecord = (value: MatomoValue): value is { readonly [key: string]: MatomoValue } => typeof value === 'object' && value !== null && !Array.isArray(value);

function numbersOf(value: MatomoValue): string {
  const entries: [string, MatomoValue][] = isRecord(value) ? Object.entries(value) : [['value', value]];
  const shown = entries.filter(([, v]) => typeof v === 'number' || typeof v === 'string').slice(0, 12);
  if (shown.length === 0) return '<p class="empty">No data.</p>';
  return `<div class="numbers">${shown.map(([name, v]) => `<div class="number"><b>${escapeHtml(String(v))}</b><span>${escapeHtml(name)}</span></div>`).join('')}</div>`;
}

function widgetBody(widget: WidgetOutcome): string {
  if (widget.error !== undefined) return `<p class="error">${escapeHtml(widget.error)}</p>`;
  const value = widget.value;
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return '<p class="empty">No data.</p>';
  if (widget.visualization === 'number' || !(typeof value === 'object')) return numbersOf(value);
  // Charts need scripts; a self-contained page shows their data as a table (Matomo's html export, escaped).
  return String(renderMatomoResult(value, 'html').body);
}

export function renderDashboardPage(input: { name: string; description: string; tenant: string; period: string; date: string; widgets: readonly WidgetOutcome[] }): string {
  const widgets = input.widgets
    .map((widget) => `<section class="widget" style="grid-column:span ${Math.min(12, Math.max(1, widget.w))}">\n<h2>${escapeHtml(widget.title)}</h2>\n${widgetBody(widget)}\n</section>`)
    .join('\n');
  const meta = [input.tenant, `${input.period} ${input.date}`.trim(), input.description].filter((part) => part !== '').map(escapeHtml).join(' · ');
  return page(input.name, `<h1>${escapeHtml(input.name)}</h1>\n<p class="meta">${meta}</p>\n<div class="grid">\n${widgets}\n</div>`);
}

export function renderEmbedError(status: number, message: string): string {
  return page('Cannot show this dashboard', `<h1>Cannot show this dashboard (${status})</h1>\n<p>${escapeHtml(message)}</p>`, 'refused');
}

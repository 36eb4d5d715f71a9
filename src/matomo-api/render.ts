/**
 * Matomo's output formats for `/index.php?module=API`: the same values rendered as
 * json, xml, csv, tsv or html, with Matomo's shapes for success, scalars and errors.
 */
export type MatomoValue = null | undefined | string | number | boolean | readonly MatomoValue[] | { readonly [key: string]: MatomoValue };
export type MatomoFormat = 'json' | 'xml' | 'csv' | 'tsv' | 'html' | 'original';

export interface RenderedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface RenderOptions {
  readonly callback?: string | undefined;
  /** Matomo: csv/tsv are UTF-16LE with a BOM unless convertToUnicode=0. */
  readonly convertToUnicode?: boolean | undefined;
  readonly filename?: string | undefined;
}

const formats: readonly MatomoFormat[] = ['json', 'xml', 'csv', 'tsv', 'html', 'original'];

/** Matomo: xml when absent; unknown formats are an error (undefined here). */
export function parseMatomoFormat(raw: string | undefined): MatomoFormat | undefined {
  if (raw === undefined || raw === '') return 'xml';
  const lower = raw.toLowerCase();
  return (formats as readonly string[]).includes(lower) ? (lower as MatomoFormat) : undefined;
}

type Obj = { readonly [key: string]: MatomoValue };
const isObject = (value: MatomoValue): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const isList = (value: MatomoValue): value is readonly MatomoValue[] => Array.isArray(value);

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function scalarText(value: MatomoValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const XML_HEADER = '<?xml version="1.0" encoding="utf-8" ?>';
const validXmlName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function xmlValue(value: MatomoValue, depth: number): string {
  const indent = '\t'.repeat(depth);
  if (isList(value)) {
    return value.map((item) => (isObject(item) || isList(item) ? `${indent}<row>\n${xmlValue(item, depth + 1)}${indent}</row>\n` : `${indent}<row>${xmlEscape(scalarText(item))}</row>\n`)).join('');
  }
  if (isObject(value)) {
    return Object.entries(value)
      .map(([key, item]) => {
        // Matomo: keys that are not XML names (site ids, dates) become <row key="...">.
        const open = validXmlName.test(key) ? `<${key}>` : `<row key="${xmlEscape(key)}">`;
        const close = validXmlName.test(key) ? `</${key}>` : '</row>';
        if (isObject(item) || isList(item)) return `${indent}${open}\n${xmlValue(item, depth + 1)}${indent}${close}\n`;
        return `${indent}${open}${xmlEscape(scalarText(item))}${close}\n`;
      })
      .join('');
  }
  return `${indent}${xmlEscape(scalarText(value))}\n`;
}

/** Flattens one row for csv/tsv: nested objects become `key_subkey`, lists of scalars are joined with commas. */
function flattenRow(row: Obj, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(row)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (isObject(value)) Object.assign(out, flattenRow(value, name));
    else if (isList(value)) out[name] = value.every((item) => !isObject(item) && !isList(item)) ? value.map(scalarText).join(',') : JSON.stringify(value);
    else out[name] = scalarText(value);
  }
  return out;
}

function delimited(value: MatomoValue, separator: string): string {
  const rows: Record<string, string>[] = isList(value)
    ? value.map((item) => (isObject(item) ? flattenRow(item) : { value: scalarText(item) }))
    : isObject(value)
      ? [flattenRow(value)]
      : [{ value: scalarText(value) }];
  const header: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!header.includes(key)) header.push(key);
  const cell = (text: string): string =>
    separator === ',' && /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : separator === '\t' ? text.replace(/[\t\n\r]/g, ' ') : text;
  return [header.map(cell).join(separator), ...rows.map((row) => header.map((key) => cell(row[key] ?? '')).join(separator))].join('\n');
}

function utf16(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

function jsonBody(payload: unknown, options: RenderOptions): { body: string; contentType: string } {
  const json = JSON.stringify(payload);
  if (options.callback && /^[A-Za-z_$][\w$.]*$/.test(options.callback)) {
    return { body: `${options.callback}(${json})`, contentType: 'application/javascript; charset=utf-8' };
  }
  return { body: json, contentType: 'application/json; charset=utf-8' };
}

function attachment(format: 'csv' | 'tsv', options: RenderOptions): Record<string, string> {
  return { 'Content-Disposition': `attachment; filename=${options.filename ?? `export.${format}`}` };
}

export function renderMatomoResult(value: MatomoValue, format: MatomoFormat, options: RenderOptions = {}): RenderedResponse {
  const isVoid = value === null || value === undefined;
  const isScalar = !isVoid && typeof value !== 'object';
  switch (format) {
    case 'json':
    case 'original': {
      // `original` is PHP-serialized in Matomo; JSON is the nearest thing that is not PHP-specific.
      const payload = isVoid ? { result: 'success', message: 'ok' } : isScalar ? { value } : value;
      const { body, contentType } = jsonBody(payload, options);
      return { status: 200, contentType, body, headers: {} };
    }
    case 'xml': {
      let body: string;
      if (isVoid) body = `${XML_HEADER}\n<result>\n\t<success message="ok" />\n</result>`;
      else if (isScalar) body = `${XML_HEADER}\n<result>${xmlEscape(scalarText(value))}</result>`;
      else body = `${XML_HEADER}\n<result>\n${xmlValue(value, 1)}</result>`;
      return { status: 200, contentType: 'text/xml; charset=utf-8', body, headers: {} };
    }
    case 'csv':
    case 'tsv': {
      const text = isVoid ? 'message\nok' : delimited(value, format === 'csv' ? ',' : '\t');
      const body = options.convertToUnicode === false ? text : utf16(text);
      return { status: 200, contentType: 'application/vnd.ms-excel', body, headers: attachment(format, options) };
    }
    case 'html': {
      const body = isVoid ? '<!-- Success: ok -->' : `<pre>${xmlEscape(JSON.stringify(value, null, 2))}</pre>`;
      return { status: 200, contentType: 'text/html; charset=utf-8', body, headers: {} };
    }
  }
}

export function renderMatomoError(message: string, format: MatomoFormat, status: number, options: RenderOptions = {}): RenderedResponse {
  const text = message.replace(/[\r\n]+/g, ' ');
  switch (format) {
    case 'json':
    case 'original': {
      const { body, contentType } = jsonBody({ result: 'error', message: text }, options);
      return { status, contentType, body, headers: {} };
    }
    case 'xml':
      return { status, contentType: 'text/xml; charset=utf-8', body: `${XML_HEADER}\n<result>\n\t<error message="${xmlEscape(text)}" />\n</result>`, headers: {} };
    case 'csv':
    case 'tsv':
    case 'html':
      return { status, contentType: 'text/html; charset=utf-8', body: `Error: ${format === 'html' ? xmlEscape(text) : text}`, headers: {} };
  }
}

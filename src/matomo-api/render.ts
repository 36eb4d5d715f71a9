/**
 * Matomo's output formats for `/index.php?module=API`: the same values rendered as
 * json, xml, csv, tsv or html, with Matomo's shapes for success, scalars and errors.
 * Pure: no I/O, the caller sends the RenderedResponse.
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
  /** JSONP function name (Matomo's `callback` / `jsoncallback`); ignored unless it is a plain JS name. */
  readonly callback?: string | undefined;
  /** Matomo: csv/tsv are UTF-16LE with a BOM unless convertToUnicode=0. Default true. */
  readonly convertToUnicode?: boolean | undefined;
  /** csv/tsv download name; default `export.csv` / `export.tsv`. */
  readonly filename?: string | undefined;
}

const formats: readonly MatomoFormat[] = ['json', 'xml', 'csv', 'tsv', 'html', 'original'];

/** Default xml when missing (Matomo). Case-insensitive. Unknown → returns undefined (caller renders an error). */
export function parseMatomoFormat(raw: string | undefined): MatomoFormat | undefined {
  // Matomo: `format` defaults to xml, and an empty value counts as absent.
  if (raw === undefined || raw.trim() === '') return 'xml';
  const lower = raw.trim().toLowerCase();
  return (formats as readonly string[]).includes(lower) ? (lower as MatomoFormat) : undefined;
}

type Obj = { readonly [key: string]: MatomoValue };
const isObject = (value: MatomoValue): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const isList = (value: MatomoValue): value is readonly MatomoValue[] => Array.isArray(value);
const isNested = (value: MatomoValue): boolean => typeof value === 'object' && value !== null;
const isVoid = (value: MatomoValue): value is null | undefined => value === null || value === undefined;

/** Text of a scalar as Matomo prints it: booleans as 1/0 (PHP casts false to 0 in exports), void as empty. */
function scalarText(value: MatomoValue): string {
  if (isVoid(value)) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** XML 1.0 forbids most C0 control characters even when escaped; drop them so the document stays well-formed. */
function xmlText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeMarkup(text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, ''));
}

function oneLine(message: string): string {
  return message.replace(/\r\n|[\r\n]/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// JSON (and JSONP)

const jsonpName = /^[A-Za-z_$][\w$.]*$/;

function json(payload: MatomoValue, status: number, options: RenderOptions): RenderedResponse {
  const text = JSON.stringify(payload) ?? 'null';
  // Only a plain dotted JS name may wrap the body: anything else would let the caller inject script.
  if (options.callback !== undefined && jsonpName.test(options.callback)) {
    return { status, contentType: 'application/javascript; charset=utf-8', body: `${options.callback}(${text})`, headers: {} };
  }
  return { status, contentType: 'application/json; charset=utf-8', body: text, headers: {} };
}

// ---------------------------------------------------------------------------------------------
// XML

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>';
// Matomo: Xml::isValidXmlTagName; names starting with "xml" are reserved by XML itself.
const xmlName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const isXmlName = (key: string): boolean => xmlName.test(key) && !/^xml/i.test(key);

/**
 * Matomo: a root object of scalars (one record, e.g. SitesManager.getSiteFromId) is
 * wrapped in one `<row>`, unless it holds a single value; objects with nested values are not.
 */
function wrapRootInRow(value: Obj): boolean {
  const items = Object.values(value);
  if (items.length === 0) return false;
  if (items.length === 1 && !isNested(items[0])) return false;
  return items.every((item) => !isNested(item));
}

/** Mirrors Matomo's Xml::renderArray: list items are `<row>`, object keys are elements or `<row key="…">`. */
function xmlArray(value: Obj | readonly MatomoValue[], indent: string): string {
  const entries: [string | undefined, MatomoValue][] = isList(value) ? value.map((item) => [undefined, item]) : Object.entries(value);
  let out = '';
  for (const [key, item] of entries) {
    if (item === undefined) continue;
    let open: string;
    let close: string;
    let empty: string;
    if (key === undefined) {
      [open, close, empty] = ['<row>', '</row>', '<row />'];
    } else if (isXmlName(key)) {
      [open, close, empty] = [`<${key}>`, `</${key}>`, `<${key} />`];
    } else {
      // Matomo: keys that are not XML names (site ids, dates, "a b") become <row key="…">.
      const attr = xmlText(key);
      [open, close, empty] = [`<row key="${attr}">`, '</row>', `<row key="${attr}" />`];
    }
    if (isObject(item) || isList(item)) {
      const inner = xmlArray(item, `${indent}\t`);
      out += inner === '' ? `${indent}${empty}\n` : `${indent}${open}\n${inner}${indent}${close}\n`;
    } else {
      const text = xmlText(scalarText(item));
      out += text === '' ? `${indent}${empty}\n` : `${indent}${open}${text}${close}\n`;
    }
  }
  return out;
}

function xmlBody(value: MatomoValue): string {
  if (isVoid(value)) return `${XML_DECLARATION}\n<result>\n\t<success message="ok" />\n</result>`;
  if (!isObject(value) && !isList(value)) {
    const text = xmlText(scalarText(value));
    return text === '' ? `${XML_DECLARATION}\n<result />` : `${XML_DECLARATION}\n<result>${text}</result>`;
  }
  if (isObject(value) && wrapRootInRow(value)) return `${XML_DECLARATION}\n<result>\n\t<row>\n${xmlArray(value, '\t\t')}\t</row>\n</result>`;
  const inner = xmlArray(value, '\t');
  return inner === '' ? `${XML_DECLARATION}\n<result />` : `${XML_DECLARATION}\n<result>\n${inner}</result>`;
}

// ---------------------------------------------------------------------------------------------
// Tables (csv, tsv, html)

interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, MatomoValue>>[];
}

/**
 * One row's cells. Matomo: Csv::flattenColumnArray turns nested values into
 * `name_key` columns, recursively; list items use their position (`name_0`).
 */
function flatten(value: Obj | readonly MatomoValue[], prefix: string, into: Map<string, MatomoValue>): void {
  const entries: [string, MatomoValue][] = isList(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
  for (const [key, item] of entries) {
    const name = prefix === '' ? key : `${prefix}_${key}`;
    if (isObject(item) || isList(item)) flatten(item, name, into);
    else into.set(name, item);
  }
}

function rowOf(value: MatomoValue, lead?: readonly [string, string]): Map<string, MatomoValue> {
  const row = new Map<string, MatomoValue>();
  if (lead) row.set(lead[0], lead[1]);
  if (isObject(value) || isList(value)) flatten(value, '', row);
  else row.set('value', value);
  return row;
}

/**
 * The rows a value prints as:
 * - a list: one row per item (a scalar item is a `value` cell);
 * - an object whose values are all objects or lists (multi-site / multi-period, `{"1":{…},"2":[…]}`):
 *   one row per inner row, led by a `key` column, as Matomo leads with `date` or `idSite`;
 * - any other object (one record, e.g. VisitsSummary.get): one row;
 * - a scalar: Matomo's `value` column.
 */
function toTable(value: MatomoValue): Table {
  let rows: Map<string, MatomoValue>[];
  if (isList(value)) {
    rows = value.map((item) => rowOf(item));
  } else if (isObject(value) && Object.keys(value).length > 0 && Object.values(value).every((item) => isObject(item) || isList(item))) {
    rows = [];
    for (const [key, inner] of Object.entries(value)) {
      const innerRows: MatomoValue[] = isList(inner) ? [...inner] : [inner];
      for (const item of innerRows) rows.push(rowOf(item, ['key', key]));
    }
  } else {
    rows = [rowOf(value)];
  }
  // Header: union of every row's columns, in first-seen order.
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const name of row.keys()) {
      if (!seen.has(name)) {
        seen.add(name);
        columns.push(name);
      }
    }
  }
  return { columns, rows: rows.map((row) => Object.fromEntries(row)) };
}

// Matomo: Csv::formatFormulas prefixes a quote to text a spreadsheet would run as a formula.
const formulaStart = /^[=+\-@]/;
const numeric = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?%?$/i;

function delimitedCell(value: MatomoValue, separator: string): string {
  if (typeof value !== 'string') return scalarText(value);
  // Matomo: tabs become spaces in csv and tsv alike.
  let text = value.replace(/\t/g, ' ');
  if (formulaStart.test(text) && !numeric.test(text)) text = `'${text}`;
  // Matomo quotes on `"` or the separator; line breaks too, so a value never splits a record.
  if (text.includes('"') || text.includes(separator) || /[\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

function delimited(value: MatomoValue, separator: string): string {
  // Matomo: void prints a one-column "message" table; tsv uses the same text.
  if (isVoid(value)) return 'message\nok';
  const table = toTable(value);
  if (table.columns.length === 0) return '';
  const lines = [table.columns.map((name) => delimitedCell(name, separator)).join(separator)];
  for (const row of table.rows) lines.push(table.columns.map((name) => delimitedCell(row[name], separator)).join(separator));
  return lines.join('\n');
}

function htmlTable(value: MatomoValue): string {
  if (isVoid(value)) return '<!-- Success: ok -->';
  const table = toTable(value);
  if (table.columns.length === 0) return '<table></table>';
  const head = table.columns.map((name) => `<th>${escapeMarkup(name)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${table.columns.map((name) => `<td>${escapeMarkup(scalarText(row[name]))}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead>\n<tr>${head}</tr>\n</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Matomo: csv/tsv are UTF-16LE with a byte-order mark so Excel reads non-ASCII text right. */
function excelBody(text: string, options: RenderOptions): string | Buffer {
  if (options.convertToUnicode === false) return text;
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

function attachmentName(format: 'csv' | 'tsv', filename: string | undefined): string {
  // The name goes into a header unquoted: keep it to safe characters so it cannot break or inject headers.
  const safe = (filename ?? '').replace(/[^\w.-]/g, '_');
  return safe === '' || /^\.+$/.test(safe) ? `export.${format}` : safe;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Renders a method's return value in `format`, as Matomo would; always status 200. */
export function renderMatomoResult(value: MatomoValue, format: MatomoFormat, options: RenderOptions = {}): RenderedResponse {
  switch (format) {
    // Matomo's `original` is PHP-serialized for PHP callers; JSON is the nearest non-PHP equivalent.
    case 'json':
    case 'original': {
      if (isVoid(value)) return json({ result: 'success', message: 'ok' }, 200, options);
      // Matomo: a scalar return is wrapped as {"value": X}.
      if (!isNested(value)) return json({ value }, 200, options);
      return json(value, 200, options);
    }
    case 'xml':
      return { status: 200, contentType: 'text/xml; charset=utf-8', body: xmlBody(value), headers: {} };
    case 'csv':
    case 'tsv':
      return {
        status: 200,
        contentType: 'application/vnd.ms-excel',
        body: excelBody(delimited(value, format === 'csv' ? ',' : '\t'), options),
        headers: { 'Content-Disposition': `attachment; filename=${attachmentName(format, options.filename)}` },
      };
    case 'html':
      return { status: 200, contentType: 'text/html; charset=utf-8', body: htmlTable(value), headers: {} };
  }
}

/** Renders an error message in `format` with Matomo's error shapes; `status` is used as given. */
export function renderMatomoError(message: string, format: MatomoFormat, status: number, options: RenderOptions = {}): RenderedResponse {
  switch (format) {
    case 'json':
    case 'original':
      // Matomo: line breaks are dropped from JSON error messages; we use spaces so words stay apart.
      return json({ result: 'error', message: oneLine(message) }, status, options);
    case 'xml':
      return {
        status,
        contentType: 'text/xml; charset=utf-8',
        body: `${XML_DECLARATION}\n<result>\n\t<error message="${xmlText(oneLine(message))}" />\n</result>`,
        headers: {},
      };
    case 'csv':
    case 'tsv':
      // Matomo: csv/tsv errors are plain `Error: …` sent as text/html, so the message is escaped.
      return { status, contentType: 'text/html; charset=utf-8', body: `Error: ${escapeMarkup(oneLine(message))}`, headers: {} };
    case 'html':
      // Matomo: nl2br of the escaped message.
      return { status, contentType: 'text/html; charset=utf-8', body: escapeMarkup(message).replace(/\r\n|[\r\n]/g, '<br />\n'), headers: {} };
  }
}

/**
 * Matomo's segment grammar as the segment editor writes it: conditions `name op value`,
 * values URL-encoded; `;` is AND and `,` is OR, OR binding tighter (`A,B;C` is
 * (A or B) and C).
 */

export const OPERATORS = [
  { value: '==', label: 'is' },
  { value: '!=', label: 'is not' },
  { value: '=@', label: 'contains' },
  { value: '!@', label: 'does not contain' },
  { value: '=^', label: 'starts with' },
  { value: '=$', label: 'ends with' },
  { value: '<', label: 'less than' },
  { value: '>', label: 'greater than' },
  { value: '<=', label: 'at most' },
  { value: '>=', label: 'at least' },
] as const;

export type Operator = (typeof OPERATORS)[number]['value'];

export interface Dimension {
  readonly name: string;
  readonly label: string;
  readonly group: string;
  readonly numeric?: boolean;
  /** Values the dimension takes (offered as suggestions). */
  readonly suggestions?: readonly string[];
  readonly hint?: string;
}

export const DIMENSIONS: readonly Dimension[] = [
  { name: 'visitorType', label: 'Visitor type', group: 'Visitors', suggestions: ['new', 'returning'] },
  { name: 'visitCount', label: 'Number of visits', group: 'Visitors', numeric: true },
  { name: 'actions', label: 'Actions in the visit', group: 'Visits', numeric: true },
  { name: 'visitDuration', label: 'Visit duration (seconds)', group: 'Visits', numeric: true },
  { name: 'visitConverted', label: 'Visit converted (1 or 0)', group: 'Visits', numeric: true, suggestions: ['1', '0'] },
  { name: 'visitLocalHour', label: 'Local hour', group: 'Visits', numeric: true },
  { name: 'referrerType', label: 'Channel type', group: 'Referrers', suggestions: ['direct', 'search', 'website', 'campaign', 'social'] },
  { name: 'referrerName', label: 'Referrer name', group: 'Referrers', hint: 'A site, search engine or campaign name' },
  { name: 'referrerKeyword', label: 'Referrer keyword', group: 'Referrers' },
  { name: 'referrerUrl', label: 'Referrer URL', group: 'Referrers' },
  { name: 'deviceType', label: 'Device type', group: 'Devices', suggestions: ['desktop', 'smartphone', 'tablet', 'phablet', 'tv', 'console', 'car browser', 'wearable'] },
  { name: 'deviceBrand', label: 'Device brand', group: 'Devices' },
  { name: 'browserName', label: 'Browser', group: 'Devices', suggestions: ['Chrome', 'Firefox', 'Safari', 'Microsoft Edge', 'Opera', 'Chrome Mobile', 'Mobile Safari'] },
  { name: 'operatingSystemName', label: 'Operating system', group: 'Devices', suggestions: ['Windows', 'Mac', 'GNU/Linux', 'Android', 'iOS', 'Chrome OS'] },
  { name: 'resolution', label: 'Screen resolution', group: 'Devices', hint: 'e.g. 1920x1080' },
  { name: 'countryCode', label: 'Country code', group: 'Location', hint: 'Two letters, e.g. de' },
  { name: 'city', label: 'City', group: 'Location' },
  { name: 'languageCode', label: 'Language code', group: 'Location', hint: 'e.g. fr or fr-fr' },
  { name: 'pageUrl', label: 'Page URL', group: 'Actions' },
  { name: 'pageTitle', label: 'Page title', group: 'Actions' },
  { name: 'downloadUrl', label: 'Download URL', group: 'Actions' },
  { name: 'outlinkUrl', label: 'Outlink URL', group: 'Actions' },
  { name: 'siteSearchKeyword', label: 'Site search keyword', group: 'Actions' },
  { name: 'eventCategory', label: 'Event category', group: 'Events' },
  { name: 'eventAction', label: 'Event action', group: 'Events' },
  { name: 'eventName', label: 'Event name', group: 'Events' },
  { name: 'visitConvertedGoalId', label: 'Converted goal id', group: 'Goals', numeric: true },
];

export function dimensionOf(name: string): Dimension | undefined {
  return DIMENSIONS.find((d) => d.name === name);
}

export interface Condition {
  readonly dimension: string;
  readonly operator: Operator;
  readonly value: string;
  /** How this condition joins the one before it (ignored on the first). */
  readonly join: 'and' | 'or';
}

/** Matomo encodes values inside the definition; the delimiters must never appear raw. */
export function encodeValue(value: string): string {
  return encodeURIComponent(value);
}

function decodeValue(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function buildSegment(conditions: readonly Condition[]): string {
  let out = '';
  conditions.forEach((condition, index) => {
    if (condition.dimension === '' || condition.value === '') return;
    const text = `${condition.dimension}${condition.operator}${encodeValue(condition.value)}`;
    out += out === '' || index === 0 ? text : `${condition.join === 'or' ? ',' : ';'}${text}`;
  });
  return out;
}

/** Splits on a delimiter not escaped by a backslash. */
function splitUnescaped(text: string, delimiter: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] ?? '';
    if (char === '\\' && i + 1 < text.length) {
      current += char + (text[i + 1] ?? '');
      i += 1;
    } else if (char === delimiter) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

// Two-character operators first, so "<=" is not read as "<".
const PARSE_ORDER: readonly Operator[] = ['==', '!=', '<=', '>=', '=@', '!@', '=^', '=$', '<', '>'];

/** The conditions of a definition, or null when it is not one the editor can show row by row. */
export function parseSegment(definition: string): Condition[] | null {
  if (definition.trim() === '') return [];
  const conditions: Condition[] = [];
  for (const group of splitUnescaped(definition, ';')) {
    for (const [orIndex, part] of splitUnescaped(group, ',').entries()) {
      const match = /^([A-Za-z][A-Za-z0-9_]*)(.*)$/.exec(part);
      if (!match) return null;
      const rest = match[2] ?? '';
      const operator = PARSE_ORDER.find((op) => rest.startsWith(op));
      if (!operator) return null;
      conditions.push({ dimension: match[1] ?? '', operator, value: decodeValue(rest.slice(operator.length)), join: orIndex > 0 ? 'or' : 'and' });
    }
  }
  return conditions;
}

/** "Page URL contains /pricing and Browser is Firefox" */
export function describeSegment(definition: string): string {
  const conditions = parseSegment(definition);
  if (!conditions) return definition;
  return conditions
    .map((c, index) => `${index === 0 ? '' : `${c.join} `}${dimensionOf(c.dimension)?.label ?? c.dimension} ${OPERATORS.find((o) => o.value === c.operator)?.label ?? c.operator} “${c.value}”`)
    .join(' ');
}

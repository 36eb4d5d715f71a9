import { PluraError } from '../core/errors.js';

/**
 * Matomo's segment grammar: conditions `name op value` joined by `;` (AND) and `,`
 * (OR, binding tighter: `A;B,C` is A AND (B OR C)); `\;` and `\,` escape the
 * delimiters. Values are URL-encoded inside the definition and decoded here (PHP's
 * urldecode: `+` is a space). Strings compare without regard to case, as Matomo's
 * MySQL collation does.
 */

export const segmentOperators = ['==', '!=', '<=', '>=', '=@', '!@', '=^', '=$', '<', '>'] as const;
export type SegmentOperator = (typeof segmentOperators)[number];

export interface SegmentCondition {
  readonly name: string;
  readonly operator: SegmentOperator;
  readonly value: string;
}

/** AND of ORs of conditions. */
export interface Segment {
  readonly definition: string;
  readonly and: readonly (readonly SegmentCondition[])[];
}

/** Where a segment dimension's value lives: on the visit, on one action, or on the visit's conversions. */
export type DimensionScope = 'visit' | 'action' | 'conversion';

export interface SegmentDimension {
  readonly name: string;
  readonly scope: DimensionScope;
  readonly numeric: boolean;
  /** Matomo's category in SegmentEditor / API.getSegmentsMetadata. */
  readonly category: string;
}

/** The segment dimensions Plura knows: Matomo's names for the core dimensions. */
export const segmentDimensions: readonly SegmentDimension[] = [
  ...(['visitorId', 'userId', 'visitorType', 'referrerType', 'referrerName', 'referrerKeyword', 'referrerUrl'] as const).map((name) => ({ name, scope: 'visit' as const, numeric: false, category: name.startsWith('referrer') ? 'Referrers' : 'Visitors' })),
  ...(['visitCount', 'visitConverted', 'actions', 'visitDuration', 'visitServerHour', 'visitLocalHour'] as const).map((name) => ({ name, scope: 'visit' as const, numeric: true, category: 'Visits' })),
  ...(['deviceType', 'deviceBrand', 'deviceModel', 'operatingSystemName', 'operatingSystemVersion', 'browserName', 'browserVersion'] as const).map((name) => ({ name, scope: 'visit' as const, numeric: false, category: 'Devices' })),
  ...(['languageCode', 'countryCode', 'regionCode', 'city', 'resolution'] as const).map((name) => ({ name, scope: 'visit' as const, numeric: false, category: 'Visit location' })),
  ...(['pageUrl', 'pageTitle', 'downloadUrl', 'outlinkUrl', 'siteSearchKeyword', 'siteSearchCategory', 'actionType'] as const).map((name) => ({ name, scope: 'action' as const, numeric: false, category: 'Actions' })),
  ...(['eventCategory', 'eventAction', 'eventName'] as const).map((name) => ({ name, scope: 'action' as const, numeric: false, category: 'Events' })),
  { name: 'eventValue', scope: 'action', numeric: true, category: 'Events' },
  ...(['contentName', 'contentPiece', 'contentTarget', 'contentInteraction'] as const).map((name) => ({ name, scope: 'action' as const, numeric: false, category: 'Contents' })),
  { name: 'visitConvertedGoalId', scope: 'conversion', numeric: true, category: 'Goals' },
];

const dimensionsByName = new Map(segmentDimensions.map((d) => [d.name.toLowerCase(), d]));
const CUSTOM_DIMENSION = /^dimension(\d+)$/i;

/** The dimension a segment name refers to; custom dimensions (`dimensionN`) belong to the visit or the action that has them. */
export function segmentDimension(name: string): SegmentDimension | undefined {
  const known = dimensionsByName.get(name.toLowerCase());
  if (known) return known;
  const custom = CUSTOM_DIMENSION.exec(name);
  return custom ? { name: `dimension${custom[1] ?? ''}`, scope: 'action', numeric: false, category: 'Custom dimensions' } : undefined;
}

/** PHP's urldecode: `+` is a space and a malformed escape stays as it is. */
function urldecode(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
}

/** Splits on an unescaped delimiter; a trailing delimiter adds nothing. */
function splitUnescaped(text: string, delimiter: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\\' && text[i + 1] === delimiter) {
      current += delimiter;
      i += 1;
    } else if (char === delimiter) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current !== '') parts.push(current);
  return parts;
}

const CONDITION = /^([A-Za-z0-9_.]+)(==|!=|<=|>=|=@|!@|=\^|=\$|<|>)(.*)$/s;

/** Parses a segment definition; throws Matomo's errors for what it cannot read. */
export function parseSegment(definition: string): Segment {
  const text = definition.trim();
  if (text === '') throw new PluraError('invalid_input', 'The segment is empty.');
  if (text.length > 8192) throw new PluraError('invalid_input', 'The segment definition is longer than 8192 characters.');
  const and = splitUnescaped(text, ';').map((block) =>
    splitUnescaped(block, ',').map((operand): SegmentCondition => {
      const match = CONDITION.exec(operand.trim());
      if (!match) throw new PluraError('invalid_input', `The segment condition '${operand}' is not valid.`);
      const [, name = '', operator = '==', rawValue = ''] = match;
      const dimension = segmentDimension(name);
      if (!dimension) throw new PluraError('invalid_input', `Segment '${name}' is not a supported segment.`);
      const value = urldecode(rawValue);
      if (value === '' && operator !== '==' && operator !== '!=') {
        throw new PluraError('invalid_input', `The segment '${operand}' has no value specified. You can leave this value empty only when you use the operators: == (is null or empty) and != (is not null and not empty).`);
      }
      if (dimension.numeric && value !== '' && !Number.isFinite(Number(value)) && ['<', '>', '<=', '>='].includes(operator)) {
        throw new PluraError('invalid_input', `The segment '${operand}' compares ${dimension.name} with "${value}", which is not a number.`);
      }
      return { name: dimension.name, operator: operator as SegmentOperator, value };
    }),
  );
  if (and.length === 0 || and.some((or) => or.length === 0)) throw new PluraError('invalid_input', `The segment '${definition}' is not valid.`);
  return { definition: text, and };
}

export type SegmentValue = string | number | null | undefined;

/** Values of the dimensions of one (visit, action) pair; conversion dimensions give every converted goal. */
export interface SegmentSubject {
  value(name: string): SegmentValue;
  values?(name: string): readonly SegmentValue[];
}

function conditionHolds(condition: SegmentCondition, actual: SegmentValue): boolean {
  const { operator, value } = condition;
  const empty = actual === null || actual === undefined || actual === '';
  if (value === '') return operator === '==' ? empty : !empty;
  if (operator === '!=' || operator === '!@') {
    if (empty) return true;
  } else if (empty) return false;
  const text = String(actual).toLowerCase();
  const wanted = value.toLowerCase();
  switch (operator) {
    case '==':
      return typeof actual === 'number' && Number.isFinite(Number(value)) ? actual === Number(value) : text === wanted;
    case '!=':
      return typeof actual === 'number' && Number.isFinite(Number(value)) ? actual !== Number(value) : text !== wanted;
    case '=@':
      return text.includes(wanted);
    case '!@':
      return !text.includes(wanted);
    case '=^':
      return text.startsWith(wanted);
    case '=$':
      return text.endsWith(wanted);
    case '<':
      return Number(actual) < Number(value);
    case '>':
      return Number(actual) > Number(value);
    case '<=':
      return Number(actual) <= Number(value);
    case '>=':
      return Number(actual) >= Number(value);
  }
}

function conditionMatches(condition: SegmentCondition, subject: SegmentSubject): boolean {
  if (subject.values && segmentDimension(condition.name)?.scope === 'conversion') {
    const all = subject.values(condition.name);
    // A negative condition holds when no converted goal contradicts it.
    if (condition.operator === '!=' || condition.operator === '!@') return all.every((v) => conditionHolds(condition, v));
    return all.some((v) => conditionHolds(condition, v));
  }
  return conditionHolds(condition, subject.value(condition.name));
}

/** Whether one (visit, action) pair satisfies the segment. */
export function segmentMatches(segment: Segment, subject: SegmentSubject): boolean {
  return segment.and.every((or) => or.some((condition) => conditionMatches(condition, subject)));
}

/** Whether any condition looks at actions (then a visit matches through any one of its actions). */
export function segmentUsesActions(segment: Segment): boolean {
  return segment.and.some((or) => or.some((condition) => segmentDimension(condition.name)?.scope === 'action'));
}

/** Matomo's way to write a row's segment: `name==value`, the value URL-encoded. */
export function segmentFor(name: string, value: string | number): string {
  return `${name}==${encodeURIComponent(String(value))}`;
}

// ---------------------------------------------------------------------------
// Combinators (row-level data policies): segments are joined as parsed conditions,
// never as text, so a value can never turn into a delimiter of the other segment.

/** A definition for conditions, values URL-encoded: it parses back to exactly these conditions. */
export function formatSegment(and: readonly (readonly SegmentCondition[])[]): string {
  return and.map((or) => or.map((c) => `${c.name}${c.operator}${encodeURIComponent(c.value)}`).join(',')).join(';');
}

const conditionKey = (c: SegmentCondition): string => `${c.name}\u0000${c.operator}\u0000${c.value}`;

function normalised(and: readonly (readonly SegmentCondition[])[]): Segment {
  const clauses = new Map<string, SegmentCondition[]>();
  for (const or of and) {
    const unique = [...new Map(or.map((c) => [conditionKey(c), c])).values()];
    unique.sort((a, b) => (conditionKey(a) < conditionKey(b) ? -1 : 1));
    clauses.set(unique.map(conditionKey).join('\u0001'), unique);
  }
  const list = [...clauses.values()];
  return { definition: formatSegment(list), and: list };
}

/** Both segments at once (AND). */
export function andSegments(a: Segment, b: Segment): Segment {
  return normalised([...a.and, ...b.and]);
}

/**
 * Any of the segments (OR), in Matomo's grammar where `,` (OR) binds tighter than `;`
 * (AND): by distribution, (A1;A2) OR (B1;B2) = (A1,B1);(A1,B2);(A2,B1);(A2,B2).
 * Refuses a result of more than `maxClauses` AND-blocks rather than building it.
 */
export function orSegments(segments: readonly Segment[], maxClauses = 256): Segment {
  const [first, ...rest] = segments;
  if (!first) throw new TypeError('orSegments needs at least one segment.');
  let clauses: (readonly SegmentCondition[])[] = [...first.and];
  for (const segment of rest) {
    if (clauses.length * segment.and.length > maxClauses) {
      throw new PluraError('invalid_input', `The combined segment would need more than ${maxClauses} AND-blocks; simplify the segments.`);
    }
    clauses = clauses.flatMap((left) => segment.and.map((right) => [...left, ...right]));
  }
  return normalised(clauses);
}

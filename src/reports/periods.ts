import { PluraError } from '../core/errors.js';

/**
 * Matomo's `period` and `date` grammar, resolved to calendar periods in a site's
 * time zone. Dates are calendar days written `YYYY-MM-DD`; the arithmetic runs on
 * UTC midnights, so no time zone or daylight-saving shift can move a day.
 */

export type PeriodKind = 'day' | 'week' | 'month' | 'year' | 'range';

export interface Period {
  readonly kind: PeriodKind;
  /** First day, inclusive. */
  readonly start: string;
  /** Last day, inclusive. */
  readonly end: string;
  /** Matomo's key for the period in multi-period answers: `2024-01-31`, `2024-01-01,2024-01-07`, `2024-01`, `2024`. */
  readonly label: string;
}

export interface ResolvedPeriods {
  readonly periods: readonly Period[];
  /** Several periods were asked for (lastN, previousN, A,B): the answer is keyed by label. */
  readonly multiple: boolean;
}

const PERIODS: readonly PeriodKind[] = ['day', 'week', 'month', 'year', 'range'];
/** Matomo: the most periods one lastN/previousN may ask for. */
const MAX_PERIODS: Readonly<Record<Exclude<PeriodKind, 'range'>, number>> = { day: 5 * 365, week: 10 * 52, month: 120, year: 10 };
/** Matomo: nothing was tracked before the first website existed (Date::FIRST_WEBSITE_TIMESTAMP). */
const FIRST_DAY = '1991-08-06';
const DAY_MS = 86_400_000;

function toMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function fromMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return fromMs(toMs(day) + days * DAY_MS);
}

function addMonths(day: string, months: number): string {
  const date = new Date(toMs(day));
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  // Clamp the day to the target month's length (Matomo's subMonth does the same).
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return fromMs(target.getTime());
}

/** The calendar day of an instant in a time zone. */
export function dayInZone(timezone: string, atMs: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(atMs);
}

function isDay(text: string): boolean {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (!match) return false;
  const [, y, m, d] = match.map(Number);
  const ms = Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 0);
  const date = new Date(ms);
  return date.getUTCFullYear() === y && date.getUTCMonth() === (m ?? 1) - 1 && date.getUTCDate() === d;
}

function normalizeDay(text: string): string {
  const [y = '', m = '', d = ''] = text.split('-');
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

/** The period of a kind that contains a day. */
export function periodOf(kind: Exclude<PeriodKind, 'range'>, day: string): Period {
  switch (kind) {
    case 'day':
      return { kind, start: day, end: day, label: day };
    case 'week': {
      const weekday = (new Date(toMs(day)).getUTCDay() + 6) % 7; // Monday = 0 (ISO weeks)
      const start = addDays(day, -weekday);
      const end = addDays(start, 6);
      return { kind, start, end, label: `${start},${end}` };
    }
    case 'month': {
      const start = `${day.slice(0, 7)}-01`;
      const end = addDays(addMonths(start, 1), -1);
      return { kind, start, end, label: day.slice(0, 7) };
    }
    case 'year':
      return { kind, start: `${day.slice(0, 4)}-01-01`, end: `${day.slice(0, 4)}-12-31`, label: day.slice(0, 4) };
  }
}

export function rangePeriod(start: string, end: string): Period {
  return { kind: 'range', start, end, label: `${start},${end}` };
}

/** The period of the same kind just before (steps < 0) or after (steps > 0) this one. */
function shift(period: Period, steps: number): Period {
  const kind = period.kind === 'range' ? 'day' : period.kind;
  switch (kind) {
    case 'day':
      return periodOf('day', addDays(period.start, steps));
    case 'week':
      return periodOf('week', addDays(period.start, 7 * steps));
    case 'month':
      return periodOf('month', addMonths(period.start, steps));
    case 'year':
      return periodOf('year', addMonths(period.start, 12 * steps));
  }
}

/** One day word or date: today, now, yesterday, yesterdaySameTime, lastWeek/Month/Year, a unix timestamp, YYYY-MM-DD. */
function resolveDay(word: string, timezone: string, nowMs: number): string {
  const today = dayInZone(timezone, nowMs);
  const compact = word.trim().toLowerCase().replace(/[\s-]+/g, '');
  switch (compact) {
    case 'today':
    case 'now':
      return today;
    case 'yesterday':
    case 'yesterdaysametime':
      return addDays(today, -1);
    case 'lastweek':
      return addDays(today, -7);
    case 'lastmonth':
      return addMonths(today, -1);
    case 'lastyear':
      return addMonths(today, -12);
  }
  if (/^\d{9,11}$/.test(compact)) return dayInZone(timezone, Number(compact) * 1000);
  if (isDay(word.trim())) return normalizeDay(word.trim());
  throw new PluraError('invalid_input', `The date '${word}' is not a correct date. Use YYYY-MM-DD, today, yesterday, lastN, previousN or YYYY-MM-DD,YYYY-MM-DD.`);
}

function checkFirstDay(day: string, raw: string): void {
  if (day < FIRST_DAY) throw new PluraError('invalid_input', `The date '${raw}' is before the first website was online (${FIRST_DAY}).`);
}

function rangeError(date: string): PluraError {
  return new PluraError('invalid_input', `The date '${date}' is not a correct date range. It should have the following format: 'lastN', 'previousN', 'YYYY-MM-DD,YYYY-MM-DD'.`);
}

/**
 * Resolves `period` and `date` as Matomo does: relative words in the site's time
 * zone, `lastN` (N periods up to the current one), `previousN` (N periods before
 * it) and `A,B` (every period from A's to B's, or one range with period=range).
 */
export function resolvePeriods(periodParam: string, dateParam: string, timezone: string, nowMs = Date.now()): ResolvedPeriods {
  const period = periodParam.trim().toLowerCase();
  if (!PERIODS.includes(period as PeriodKind)) {
    throw new PluraError('invalid_input', `The period '${periodParam}' is not supported. Try any of the following instead: ${PERIODS.join(', ')}.`);
  }
  const kind = period as PeriodKind;
  const date = dateParam.trim();
  const today = dayInZone(timezone, nowMs);
  const relative = /^(last|previous)(\d*)$/i.exec(date);

  if (kind === 'range') {
    if (relative) {
      const count = Number(relative[2] || '1');
      if (count < 1) throw rangeError(date);
      const end = relative[1]?.toLowerCase() === 'last' ? today : addDays(today, -1);
      const start = addDays(end, -(count - 1));
      checkFirstDay(start, date);
      return { periods: [rangePeriod(start, end)], multiple: false };
    }
    const parts = date.split(',');
    if (parts.length !== 2) throw rangeError(date);
    const start = resolveDay(parts[0] ?? '', timezone, nowMs);
    const end = resolveDay(parts[1] ?? '', timezone, nowMs);
    if (end < start) throw rangeError(date);
    checkFirstDay(start, date);
    // Matomo: a range of one day is that day.
    return { periods: [start === end ? periodOf('day', start) : rangePeriod(start, end)], multiple: false };
  }

  if (relative) {
    const count = Number(relative[2] || '1');
    if (count < 1) throw rangeError(date);
    if (count > MAX_PERIODS[kind]) throw new PluraError('invalid_input', `At most ${MAX_PERIODS[kind]} periods of type ${kind} can be requested at once.`);
    let last = periodOf(kind, today);
    if (relative[1]?.toLowerCase() === 'previous') last = shift(last, -1);
    const periods: Period[] = [];
    for (let i = count - 1; i >= 0; i -= 1) periods.push(shift(last, -i));
    checkFirstDay(periods[0]?.end ?? today, date);
    return { periods: periods.filter((p) => p.end >= FIRST_DAY), multiple: true };
  }

  if (date.includes(',')) {
    const parts = date.split(',');
    if (parts.length !== 2) throw rangeError(date);
    const first = periodOf(kind, resolveDay(parts[0] ?? '', timezone, nowMs));
    const last = periodOf(kind, resolveDay(parts[1] ?? '', timezone, nowMs));
    if (last.start < first.start) throw rangeError(date);
    checkFirstDay(first.end, date);
    const periods: Period[] = [];
    for (let current = first; current.start <= last.start; current = shift(current, 1)) {
      periods.push(current);
      if (periods.length > MAX_PERIODS[kind]) throw new PluraError('invalid_input', `At most ${MAX_PERIODS[kind]} periods of type ${kind} can be requested at once.`);
    }
    return { periods, multiple: true };
  }

  const day = resolveDay(date, timezone, nowMs);
  checkFirstDay(day, date);
  return { periods: [periodOf(kind, day)], multiple: false };
}

/**
 * The archives a range is built from: the largest whole periods inside it (years,
 * then months, then weeks), and days for the rest (Matomo's
 * Range::processOptimalSubperiods, without its finer tail rule). A whole period that
 * reaches past today counts as inside when the range reaches today: its archive
 * holds nothing after today anyway.
 */
export function subPeriods(range: Period, today: string): Period[] {
  const result: Period[] = [];
  let day = range.start;
  const fits = (candidate: Period): boolean =>
    candidate.start === day && (candidate.end <= range.end || (range.end >= today && candidate.start <= today && candidate.end > today));
  while (day <= range.end) {
    const year = periodOf('year', day);
    const month = periodOf('month', day);
    const week = periodOf('week', day);
    const chosen = fits(year) ? year : fits(month) ? month : fits(week) ? week : periodOf('day', day);
    result.push(chosen);
    day = addDays(chosen.end, 1);
  }
  return result;
}

/** Offset of a time zone from UTC at a given instant, in seconds. */
export function offsetSeconds(timezone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(atMs);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(atMs / 1000) * 1000) / 1000;
}

/** Unix seconds of local midnight starting `day` in the time zone (the offset is read at that midnight, not at UTC's). */
function localMidnight(timezone: string, day: string): number {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(midnightUtc)) throw new PluraError('invalid_input', `The date '${day}' is not a correct date.`);
  const guess = midnightUtc - offsetSeconds(timezone, midnightUtc) * 1000;
  return midnightUtc / 1000 - offsetSeconds(timezone, guess);
}

/** [start, end) in unix seconds of a calendar day in the site's time zone. */
export function dayRange(timezone: string, day: string): [number, number] {
  return [localMidnight(timezone, day), localMidnight(timezone, addDays(day, 1))];
}

/**
 * Reading and editing INI files the way Plura's settings need: strict about the
 * shape of each line (the `ini` package accepts almost anything and would turn a
 * typo into a silently ignored key), line numbers kept for messages, and edits that
 * leave every other line and comment of the file untouched.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { unsafe as iniUnquote } from 'ini';
import { PluraError, describeError } from '../core/errors.js';

export type IniLine =
  | { readonly kind: 'blank'; readonly lineNumber: number }
  | { readonly kind: 'section'; readonly lineNumber: number; readonly name: string }
  | {
      readonly kind: 'entry';
      readonly lineNumber: number;
      readonly section: string;
      readonly key: string;
      /** Written `key[] = value` (one item of a list). */
      readonly isArray: boolean;
      readonly value: string;
    };

export interface IniDocument {
  readonly file: string;
  readonly text: string;
  readonly lines: readonly IniLine[];
}

const sectionPattern = /^\[([^[\]]+)\]\s*(?:[;#].*)?$/;

/**
 * Splits INI text into lines and checks each one. Throws config_invalid naming the
 * file and line for anything that is not blank, a `;`/`#` comment, a `[section]`
 * header or `key = value` inside a section. Matomo's `; <?php exit; ?>` first line is
 * a comment like any other.
 */
export function parseIni(text: string, file: string): IniDocument {
  const rawLines = splitLines(text).lines;
  const lines: IniLine[] = [];
  let section: string | undefined;
  rawLines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) {
      lines.push({ kind: 'blank', lineNumber });
      return;
    }
    const header = sectionPattern.exec(line);
    if (header) {
      section = (header[1] ?? '').trim();
      if (section === '') throw corrupt(file, lineNumber, raw, 'has an empty [section] name');
      lines.push({ kind: 'section', lineNumber, name: section });
      return;
    }
    const equals = line.indexOf('=');
    const rawKey = equals > 0 ? line.slice(0, equals).trim() : '';
    if (rawKey === '' || rawKey.startsWith('[')) {
      throw corrupt(file, lineNumber, raw, 'is not `key = value` or `[section]`');
    }
    if (section === undefined) {
      throw corrupt(file, lineNumber, raw, 'is a `key = value` line before any [section]');
    }
    const isArray = rawKey.length > 2 && rawKey.endsWith('[]');
    const value = unquote(line.slice(equals + 1));
    if (typeof value !== 'string') throw corrupt(file, lineNumber, raw, value.problem);
    lines.push({
      kind: 'entry',
      lineNumber,
      section,
      key: isArray ? rawKey.slice(0, -2).trim() : rawKey,
      isArray,
      value,
    });
  });
  return { file, text, lines };
}

/**
 * Reads and checks one INI file. Undefined when the file does not exist; config_invalid
 * when it cannot be read or is malformed.
 */
export function readIniFile(file: string): IniDocument | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new PluraError('config_invalid', `Cannot read ${file}: ${describeError(error)}.`, { cause: error });
  }
  return parseIni(text, file);
}

/**
 * A cheap fingerprint of files (inode, size, modification time) to notice edits
 * without reading them. Throws config_invalid if a file cannot be examined.
 */
export function fileSignature(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const stat = statSync(file, { throwIfNoEntry: false, bigint: true });
        return stat ? `${stat.ino}:${stat.size}:${stat.mtimeNs}` : '-';
      } catch (error) {
        if (errorCode(error) === 'ENOTDIR') return '-';
        throw new PluraError('config_invalid', `Cannot read ${file}: ${describeError(error)}.`, { cause: error });
      }
    })
    .join('|');
}

/**
 * Returns `doc`'s text with the key's lines in `section` replaced by `replacement`
 * (or removed when `replacement` is empty). The first existing line is replaced in
 * place; without one, the lines go after the section's last entry, or into a new
 * section at the end of the file. Every other line is kept byte for byte.
 */
export function replaceIniEntry(
  doc: IniDocument,
  section: string,
  key: string,
  replacement: readonly string[],
): string {
  const { lines: textLines, eol } = splitLines(doc.text);
  const matches = doc.lines.filter(
    (line) => line.kind === 'entry' && line.section === section && line.key === key,
  );
  const out = [...textLines];
  if (matches.length > 0) {
    // Walk backwards so earlier indexes stay valid while lines are removed.
    for (const match of [...matches].reverse()) {
      const index = match.lineNumber - 1;
      out.splice(index, 1, ...(match === matches[0] ? replacement : []));
    }
  } else if (replacement.length > 0) {
    const headers = doc.lines.filter((line) => line.kind === 'section' && line.name === section);
    const header = headers[headers.length - 1];
    if (header) {
      let insertAfter = header.lineNumber;
      for (const line of doc.lines) {
        if (line.lineNumber <= header.lineNumber) continue;
        if (line.kind === 'section') break;
        if (line.kind === 'entry') insertAfter = line.lineNumber;
      }
      out.splice(insertAfter, 0, ...replacement);
    } else {
      while (out.length > 0 && out[out.length - 1]?.trim() === '') out.pop();
      if (out.length > 0) out.push('');
      out.push(`[${section}]`, ...replacement);
    }
  }
  return out.length === 0 ? '' : out.join(eol) + eol;
}

/** A value as it should appear after `=`: always double-quoted, so `;`, `#` and spaces survive. */
export function quoteIniValue(value: string): string {
  return JSON.stringify(value);
}

/**
 * Replaces `file` with `text` in one step (temp file in the same folder, then
 * rename), keeping the old file's permissions. Creates missing folders.
 */
export function writeFileAtomically(file: string, text: string): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    const existing = statSync(file, { throwIfNoEntry: false });
    writeFileSync(temp, text, { encoding: 'utf8', mode: 0o644, flag: 'wx' });
    if (existing) chmodSync(temp, existing.mode & 0o7777);
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // The temp file was never created; nothing to clean.
    }
    throw new PluraError('data_dir_unwritable', `Cannot write ${file}: ${describeError(error)}.`, { cause: error });
  }
}

function splitLines(text: string): { lines: string[]; eol: string } {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const lines = body.split(/\r\n|\n|\r/);
  // A final line break ends the last line; it does not start an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  return { lines, eol };
}

/**
 * The value after `=`: `"double"` or `'single'` quoted (anything after the closing
 * quote must be a comment), or bare, where `;`/`#` start a comment (the `ini`
 * package's rules).
 */
function unquote(rawValue: string): string | { problem: string } {
  const value = rawValue.trim();
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return String(iniUnquote(value));
  let end = 1;
  while (end < value.length && value[end] !== quote) end += value[end] === '\\' && quote === '"' ? 2 : 1;
  if (end >= value.length) return { problem: 'has a quoted value with no closing quote' };
  const rest = value.slice(end + 1).trim();
  if (rest !== '' && !rest.startsWith(';') && !rest.startsWith('#')) {
    return { problem: 'has text after the closing quote of its value' };
  }
  const inner = value.slice(1, end);
  if (quote === "'") return inner;
  try {
    const parsed: unknown = JSON.parse(value.slice(0, end + 1));
    if (typeof parsed === 'string') return parsed;
  } catch {
    // Not JSON-escaped (e.g. "C:\temp" written for PHP): take the text between the quotes as is.
  }
  return inner;
}

function corrupt(file: string, lineNumber: number, raw: string, problem: string): PluraError {
  return new PluraError('config_invalid', `Cannot read ${file}: line ${lineNumber} ${problem}: '${raw.trim()}'`);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

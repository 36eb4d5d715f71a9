import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PluraError, describeError } from '../core/errors.js';
import type { HitMeta, HitSource } from './hit.js';

/** One journal line as read back after a restart: its hit, in JSON (see JournalLine), and where it belongs. */
export interface JournalRecord {
  /** Increasing across the life of the journal, also across restarts. */
  readonly seq: number;
  readonly tenant: string;
  /** The tenant's creation time: a tenant deleted and made again under the same slug is another tenant. */
  readonly tenantCreatedAt: string;
  readonly line: string;
}

/** The journal's JSON line of one hit: enough to process it again after a crash. */
export interface JournalLine {
  readonly s: number;
  readonly t: string;
  readonly c: string;
  /**
   * The hit's parameters, decoded (flatParams): the applier reads them without
   * parsing a query string again.
   */
  readonly p?: readonly string[];
  /** The hit as it arrived (journals written before `p` existed). */
  readonly h?: HitSource;
  readonly m: HitMeta;
}

interface Segment {
  readonly file: string;
  readonly firstSeq: number;
  /** Records written to it that are not yet applied to their stores. */
  unapplied: number;
  bytes: number;
  sealed: boolean;
}

interface Waiting {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const SEGMENT_BYTES = 64 * 1024 * 1024;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The tracking journal: every hit is appended here before it is acknowledged, and
 * applied to its tenant's store afterwards, in large per-tenant transactions. A
 * write() that returned survives the process being killed (it is in the kernel's
 * page cache), the same guarantee SQLite's WAL with synchronous=NORMAL gives;
 * with `fsync` on, each group of appends is also flushed to the disk before it is
 * acknowledged, for power loss.
 *
 * Appends made in the same turn of the event loop share one write() (and one
 * fsync). Files ("segments") are deleted once every record in them is applied.
 * One process owns a journal directory at a time (a lock file holds its pid).
 */
export class TrackingJournal {
  private readonly segments: Segment[] = [];
  private fd: number | null = null;
  private nextSeq: number;
  private buffered: string[] = [];
  private waiting: Waiting[] = [];
  private flushScheduled = false;
  private syncing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    readonly id: string,
    private readonly fsync: boolean,
    lastSeq: number,
  ) {
    this.nextSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  }

  /**
   * Opens (or creates) the journal in `dir` and takes its lock. Returns the records
   * a previous process left (applied or not: the stores' marks tell) and a
   * function that deletes their files once the caller has applied them.
   */
  static open(dir: string, options: { fsync: boolean }): { journal: TrackingJournal; leftover: JournalRecord[]; discardLeftover(): void } {
    mkdirSync(dir, { recursive: true });
    TrackingJournal.lock(dir);
    const idFile = join(dir, 'journal.id');
    let id: string;
    if (existsSync(idFile)) id = readFileSync(idFile, 'utf8').trim();
    else {
      id = randomBytes(8).toString('hex');
      writeFileSync(idFile, `${id}\n`);
    }
    const files = readdirSync(dir)
      .filter((name) => /^\d+\.log$/.test(name))
      .sort((a, b) => Number(a.slice(0, -4)) - Number(b.slice(0, -4)));
    const leftover: JournalRecord[] = [];
    let lastSeq = 0;
    for (const name of files) {
      const text = readFileSync(join(dir, name), 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          const record = JSON.parse(line) as JournalLine;
          leftover.push({ seq: record.s, tenant: record.t, tenantCreatedAt: record.c, line });
          lastSeq = Math.max(lastSeq, record.s);
        } catch {
          // A torn last line: its write never returned, so its hits were never acknowledged.
        }
      }
      lastSeq = Math.max(lastSeq, Number(name.slice(0, -4)));
    }
    const journal = new TrackingJournal(dir, id, options.fsync, lastSeq);
    return {
      journal,
      leftover,
      discardLeftover: () => {
        for (const name of files) rmSync(join(dir, name), { force: true });
      },
    };
  }

  private static lock(dir: string): void {
    const file = join(dir, 'journal.lock');
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new PluraError(
          'storage_unavailable',
          `The tracking journal ${dir} is in use by process ${pid}. Each server needs its own journal directory ([Tracker] journal_dir).`,
        );
      }
    }
    writeFileSync(file, `${process.pid}\n`);
  }

  /** Reserves `count` consecutive sequence numbers and returns the first. */
  reserve(count: number): number {
    const first = this.nextSeq;
    this.nextSeq += count;
    return first;
  }

  /** Appends lines (JSON of JournalLine, reserved sequence numbers, in order); settles when they are durable. */
  write(lines: readonly string[], firstSeq: number): Promise<void> {
    if (this.closed) return Promise.reject(new PluraError('overloaded', 'The server is shutting down; send the hits again.', { headers: { 'Retry-After': '1' } }));
    for (const line of lines) this.buffered.push(`${line}\n`);
    this.bufferedFirstSeq ??= firstSeq;
    const durable = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Everything appended in this turn of the event loop goes out in one write.
      setImmediate(() => this.flush());
    }
    return durable;
  }

  private bufferedFirstSeq: number | null = null;

  private flush(): void {
    this.flushScheduled = false;
    const firstSeq = this.bufferedFirstSeq ?? this.nextSeq;
    this.bufferedFirstSeq = null;
    const lines = this.buffered;
    const waiting = this.waiting;
    this.buffered = [];
    this.waiting = [];
    if (lines.length === 0) {
      for (const w of waiting) w.resolve();
      return;
    }
    try {
      const segment = this.writableSegment(firstSeq);
      const data = Buffer.from(lines.join(''));
      let offset = 0;
      while (offset < data.length) offset += writeSync(this.fd ?? -1, data, offset);
      segment.bytes += data.length;
      segment.unapplied += lines.length;
    } catch (error) {
      const failure = new PluraError('storage_failed', `The tracking journal could not be written: ${describeError(error)}`, { cause: error });
      for (const w of waiting) w.reject(failure);
      return;
    }
    if (!this.fsync) {
      for (const w of waiting) w.resolve();
      return;
    }
    const fd = this.fd ?? -1;
    // fsyncs run one after another; a later one covers every write before it.
    this.syncing = this.syncing.then(
      () =>
        new Promise<void>((resolve) =>
          fdatasync(fd, (error) => {
            if (error) {
              const failure = new PluraError('storage_failed', `The tracking journal could not be flushed to disk: ${describeError(error)}`, { cause: error });
              for (const w of waiting) w.reject(failure);
            } else for (const w of waiting) w.resolve();
            resolve();
          }),
        ),
    );
  }

  private writableSegment(firstSeq: number): Segment {
    const current = this.segments.at(-1);
    if (current && !current.sealed && current.bytes < SEGMENT_BYTES && this.fd !== null) return current;
    if (current) this.seal(current);
    const file = join(this.dir, `${firstSeq}.log`);
    this.fd = openSync(file, 'a');
    const segment: Segment = { file, firstSeq, unapplied: 0, bytes: 0, sealed: false };
    this.segments.push(segment);
    return segment;
  }

  private seal(segment: Segment): void {
    segment.sealed = true;
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      // A pending fsync still holds the descriptor: close after it.
      void this.syncing.then(() => closeSync(fd));
    }
    this.retire();
  }

  /** Called once the records with these sequence numbers are committed to their stores. */
  markApplied(seqs: readonly number[]): void {
    for (const seq of seqs) {
      // Segments are few and ordered by their first sequence number.
      for (let i = this.segments.length - 1; i >= 0; i -= 1) {
        const segment = this.segments[i];
        if (segment && segment.firstSeq <= seq) {
          segment.unapplied -= 1;
          break;
        }
      }
    }
    this.retire();
  }

  /** Deletes sealed segments whose records are all applied. */
  private retire(): void {
    for (let i = 0; i < this.segments.length; ) {
      const segment = this.segments[i];
      if (segment && segment.sealed && segment.unapplied <= 0) {
        rmSync(segment.file, { force: true });
        this.segments.splice(i, 1);
      } else i += 1;
    }
  }

  /** Stops appends; once everything was applied (`allApplied`), the files are removed too. */
  async close(allApplied: boolean): Promise<void> {
    this.closed = true;
    await this.syncing;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (allApplied) for (const segment of this.segments.splice(0)) rmSync(segment.file, { force: true });
    rmSync(join(this.dir, 'journal.lock'), { force: true });
  }
}

import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { PluraError, describeError } from '../core/errors.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database with the dialect it speaks; `close()` releases files or connections. */
export interface OpenDatabase<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** SQLite only: runs SQL compiled by Kysely synchronously on the same connection (see DirectSqlite). */
  readonly direct?: DirectSqlite;
  close(): Promise<void>;
}

/**
 * Synchronous access to an SQLite store's one connection, for statements compiled
 * by Kysely and run many times in a row (tracking's inserts). It skips the async
 * round trip of each Kysely call; used inside a Kysely transaction it runs in that
 * transaction, since SQLite has a single connection.
 */
export interface DirectSqlite {
  run(sql: string, parameters: readonly unknown[]): void;
  /** A compiled query's rows as arrays of column values, in select order (no object per row). */
  rows(query: { readonly sql: string; readonly parameters: readonly unknown[] }): unknown[][];
}

export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  /** search_path for every connection of the pool (the tenant's own schema). */
  readonly searchPath?: string;
  readonly poolSize?: number;
}

// pg returns int8 as strings by default; our counters fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/**
 * Opens an SQLite file in WAL mode. Readers never block the writer, and a second
 * process (a CLI command beside a running server) can work on the same file.
 */
export function openSqlite<DB>(file: string, options: { mustExist?: boolean } = {}): OpenDatabase<DB> {
  let database: Database.Database;
  try {
    database = new Database(file, { fileMustExist: options.mustExist ?? false });
    database.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only power loss may lose the last commits.
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    // Checkpoint every ~40 MB of WAL rather than 4 MB: tracking commits large batches, and pages written
    // again before a checkpoint are copied once.
    database.pragma('wal_autocheckpoint = 10000');
    database.pragma('foreign_keys = ON');
    // Reads through memory mapping instead of a read() per page: archiving a day looks up many
    // index pages (a 1M-hit day: 10.1 s -> 8.3 s). Address space only (up to SQLite's 2 GB cap); idle stores are closed anyway.
    database.pragma('mmap_size = 2147418112');
  } catch (error) {
    throw new PluraError('storage_unavailable', `Cannot open the SQLite database ${file}: ${describeError(error)}.`, {
      cause: error,
    });
  }
  const cached = withStatementCache(database);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cached }) });
  const direct: DirectSqlite = {
    run: (text, parameters) => void cached.prepare(text).run(parameters),
    rows: ({ sql: text, parameters }) => {
      const statement = cached.prepare(text);
      // The statement is shared with Kysely, which expects objects: raw mode only for this call.
      statement.raw(true);
      try {
        return statement.all(parameters) as unknown[][];
      } finally {
        statement.raw(false);
      }
    },
  };
  return { db, dialect: 'sqlite', direct, close: () => db.destroy() };
}

const STATEMENT_CACHE_SIZE = 200;

/**
 * Kysely prepares every query afresh; on hot paths (token checks, grants) preparing
 * costs more than running. Queries are parameterised, so their SQL text repeats and
 * the compiled statement can be reused. Statements are used one at a time (Kysely's
 * SQLite driver runs one query per connection), so sharing one is safe.
 */
function withStatementCache(database: Database.Database): { close(): void; prepare(text: string): Database.Statement } {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        // Map order doubles as recency: move the hit to the end.
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

export function openPostgres<DB>(connection: PostgresConnection): OpenDatabase<DB> {
  const pool = new pg.Pool({
    host: connection.host,
    port: connection.port,
    database: connection.database,
    user: connection.user,
    password: connection.password,
    max: connection.poolSize ?? 4,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    options: connection.searchPath ? `-c search_path=${quoteIdentifier(connection.searchPath)}` : undefined,
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Parses a postgres:// URL into connection fields; the database defaults to the user's name, as libpq does. */
export function parsePostgresUrl(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PluraError('invalid_input', `Storage URL ${redactUrl(url)} is not a valid URL.`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PluraError('invalid_input', `Storage URL ${redactUrl(url)} must start with postgres:// (or be "sqlite").`);
  }
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || 'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    database,
    user,
    password: parsed.password ? decodeURIComponent(parsed.password) : process.env.PGPASSWORD,
  };
}

/** The URL without its password, safe to store and print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1@');
  }
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** Cheap liveness query, used by /readyz and before provisioning. */
export async function ping<DB>(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db);
}

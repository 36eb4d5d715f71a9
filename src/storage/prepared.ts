import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { DirectSqlite } from './database.js';

/** Where a compiled parameter's value comes from: a row's field, or a constant of the query. */
type Slot = { readonly row: number; readonly key: string } | { readonly constant: unknown };

interface Compiled {
  readonly sql: string;
  readonly slots: readonly Slot[];
}

const MARK = '\u0000plura-placeholder\u0000';

/**
 * Compiles `build` once per dialect with placeholder values, remembering which
 * compiled parameter takes which field of which row.
 */
class Compiler<P extends object> {
  private readonly byDialect = new Map<unknown, Compiled>();

  constructor(private readonly keys: readonly (keyof P & string)[]) {}

  compiled<DB>(db: Kysely<DB>, rowCount: number, build: (rows: P[]) => Compilable<unknown>): Compiled {
    // The SQL depends only on the dialect, so one compiled form per adapter class serves every store.
    const dialect = db.getExecutor().adapter.constructor;
    let compiled = this.byDialect.get(dialect);
    if (compiled) return compiled;
    const rows = Array.from({ length: rowCount }, (_, row) => Object.fromEntries(this.keys.map((key) => [key, `${MARK}${row}:${key}`])) as unknown as P);
    const query = build(rows).compile();
    const slots = query.parameters.map((value): Slot => {
      if (typeof value === 'string' && value.startsWith(MARK)) {
        const [row = '0', key = ''] = value.slice(MARK.length).split(/:(.*)/s);
        return { row: Number(row), key };
      }
      return { constant: value };
    });
    compiled = { sql: query.sql, slots };
    this.byDialect.set(dialect, compiled);
    return compiled;
  }
}

function bind<P extends object>(compiled: Compiled, rows: readonly P[]): unknown[] {
  return compiled.slots.map((slot) => ('constant' in slot ? slot.constant : (rows[slot.row] as Record<string, unknown> | undefined)?.[slot.key] ?? null));
}

/**
 * A Kysely query written once with the typed builder and run many times with new
 * values. Building and compiling a query costs more than running a small SQLite
 * statement (tens of µs each on the tracking hot path); this pays it once.
 *
 * `build` receives placeholders typed as the real values (the strings Kysely sees
 * are markers); each run swaps the markers' compiled slots for the given values.
 * Every value must reach Kysely as a bound parameter (no `sql.raw`, no `lit`).
 */
export class PreparedQuery<DB, P extends object, Row> {
  private readonly compiler: Compiler<P>;

  constructor(
    keys: readonly (keyof P & string)[],
    private readonly build: (db: Kysely<DB>, values: P) => Compilable<Row>,
  ) {
    this.compiler = new Compiler<P>(keys);
  }

  async execute(db: Kysely<DB>, values: P): Promise<QueryResult<Row>> {
    const compiled = this.compiler.compiled(db, 1, ([placeholders]) => this.build(db, placeholders as P));
    return db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, bind(compiled, [values])) as CompiledQuery<Row>);
  }

  async rows(db: Kysely<DB>, values: P): Promise<Row[]> {
    return (await this.execute(db, values)).rows;
  }

  async first(db: Kysely<DB>, values: P): Promise<Row | undefined> {
    return (await this.execute(db, values)).rows[0];
  }
}

/**
 * A multi-row INSERT prepared for chunks of 128, 64, ..., 1 rows: any number of
 * rows goes out in few statements, from at most eight compiled forms (which keeps
 * SQLite's statement cache small and every chunk under its bound-variable limit).
 */
export class PreparedInsertMany<DB, P extends object> {
  private readonly chunks = new Map<number, Compiler<P>>();

  constructor(
    private readonly keys: readonly (keyof P & string)[],
    private readonly build: (db: Kysely<DB>, rows: P[]) => Compilable<unknown>,
  ) {}

  /**
   * Inserts `rows`. With `direct` (SQLite, same connection as `db`), each row runs
   * through one cached single-row statement synchronously: on SQLite that beats a
   * multi-row statement, whose many bound values cost more than the extra steps.
   */
  async execute(db: Kysely<DB>, rows: readonly P[], direct?: DirectSqlite): Promise<void> {
    if (direct) {
      if (rows.length === 0) return;
      const compiled = this.compiler(1).compiled(db, 1, (placeholders) => this.build(db, placeholders));
      for (const row of rows) direct.run(compiled.sql, bind(compiled, [row]));
      return;
    }
    let offset = 0;
    while (offset < rows.length) {
      let size = 128;
      while (size > rows.length - offset) size /= 2;
      const compiled = this.compiler(size).compiled(db, size, (placeholders) => this.build(db, placeholders));
      await db.executeQuery(CompiledQuery.raw(compiled.sql, bind(compiled, rows.slice(offset, offset + size))));
      offset += size;
    }
  }

  private compiler(size: number): Compiler<P> {
    let compiler = this.chunks.get(size);
    if (!compiler) {
      compiler = new Compiler<P>(this.keys);
      this.chunks.set(size, compiler);
    }
    return compiler;
  }
}

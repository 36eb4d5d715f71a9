import type { FastifyBaseLogger } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type Log = (object: unknown, message?: string, ...args: unknown[]) => void;

const levelValues: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A request's child logger, made only when something is logged at an enabled
 * level. Fastify (and our tenant hook) derive a child per request; pino builds
 * each eagerly, which cost ~10 % of a tracking request that never logs.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options?: ChildOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    // A lazy parent is made real first, so the chain ends in one real pino child.
    this.made ??= (this.parent instanceof LazyChildLogger ? this.parent.real : this.parent).child(this.bindings, this.options);
    return this.made;
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  private enabled(level: Level): boolean {
    return (levelValues[level] ?? 0) >= (levelValues[this.level] ?? 0);
  }

  private log(level: Level, args: unknown[]): void {
    if (!this.enabled(level)) return;
    const [object, message, ...rest] = args;
    (this.real[level] as Log).call(this.real, object, message as string | undefined, ...rest);
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }

  error(...args: unknown[]): void {
    this.log('error', args);
  }

  warn(...args: unknown[]): void {
    this.log('warn', args);
  }

  info(...args: unknown[]): void {
    this.log('info', args);
  }

  debug(...args: unknown[]): void {
    this.log('debug', args);
  }

  trace(...args: unknown[]): void {
    this.log('trace', args);
  }

  silent(): void {
    // pino's silent level logs nothing
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return new LazyChildLogger(this, bindings, options);
  }
}

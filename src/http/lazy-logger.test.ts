import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { LazyChildLogger } from './lazy-logger.js';

function capture(level: string): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level }, stream);
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('lazy child loggers', () => {
  it('log with the bindings of every level of children, at enabled levels only', async () => {
    const { logger, lines } = capture('info');
    const request = new LazyChildLogger(logger, { reqId: 'r1' });
    const tenant = request.child({ tenant: 'acme' });
    tenant.debug('not shown');
    tenant.info({ extra: 1 }, 'shown');
    tenant.error('failed');
    await new Promise((resolve) => setImmediate(resolve));
    const logged = lines();
    expect(logged.map((l) => l['msg'])).toEqual(['shown', 'failed']);
    expect(logged[0]).toMatchObject({ reqId: 'r1', tenant: 'acme', extra: 1, level: 30 });
    expect(logged[1]).toMatchObject({ reqId: 'r1', tenant: 'acme', level: 50 });
    expect(tenant.level).toBe('info');
  });

  it('follows a level set on the child', async () => {
    const { logger, lines } = capture('warn');
    const child = new LazyChildLogger(logger, { reqId: 'r2' });
    child.info('hidden');
    child.level = 'debug';
    child.debug('now shown');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines().map((l) => l['msg'])).toEqual(['now shown']);
  });
});

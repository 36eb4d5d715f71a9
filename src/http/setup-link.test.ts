import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startServer } from './server.js';

describe('first start', () => {
  it('prints a one-time setup link for a tenant without a super user, which creates the first one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plura-first-start-'));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', logger: pino({ level: 'info' }, sink) });
    try {
      let url: string | undefined;
      for (let i = 0; i < 100 && !url; i += 1) {
        url = lines.map((line) => /create one at (http:\/\/\S+)"/.exec(line)?.[1]).find(Boolean);
        if (!url) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(url).toMatch(/^http:\/\/localhost:\d+\/setup\?token=/);
      const token = new URL(url ?? '').searchParams.get('token');
      const response = await server.app.inject({ method: 'POST', url: '/setup', headers: { host: 'localhost' }, payload: { token, login: 'admin', email: 'admin@localhost.example', password: 'first super user' } });
      expect(response.statusCode).toBe(201);
      const signIn = await server.app.inject({ method: 'POST', url: '/auth/login', headers: { host: 'localhost' }, payload: { login: 'admin', password: 'first super user' } });
      expect(signIn.json()).toMatchObject({ status: 'signed_in' });
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

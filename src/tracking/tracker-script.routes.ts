import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PluraError } from '../core/errors.js';

// The same path works from src/tracking (tsx) and dist/tracking (built): both sit two levels below the package root.
const scriptUrl = new URL('../../src/tracking/client/tracker.js', import.meta.url);

/** The tracker as served: minified once, with its compressed forms and an ETag. */
export interface TrackerScript {
  readonly plain: Buffer;
  readonly gzip: Buffer;
  readonly brotli: Buffer;
  readonly etag: string;
}

/** Minifies the tracker (keeping its licence comment) and compresses it once. */
export function buildTrackerScript(source = readFileSync(scriptUrl, 'utf8')): TrackerScript {
  const { code } = transformSync(source, { minify: true, target: 'es2017', legalComments: 'inline', charset: 'utf8' });
  const plain = Buffer.from(code);
  return {
    plain,
    gzip: gzipSync(plain, { level: 9 }),
    brotli: brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: plain.length } }),
    etag: `"${createHash('sha256').update(plain).digest('hex').slice(0, 16)}"`,
  };
}

/** The best encoding the client accepts (brotli, gzip, or none); q=0 refuses one. */
function encodingFor(request: FastifyRequest): 'br' | 'gzip' | null {
  const header = request.headers['accept-encoding'];
  if (typeof header !== 'string') return null;
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) : 1);
  }
  const allows = (name: string): boolean => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (allows('br')) return 'br';
  if (allows('gzip')) return 'gzip';
  return null;
}

/**
 * Plura's first-party tracker, written for Plura (no Matomo code), served on every
 * tenant host at /plura.js and, for integrations that load matomo.js from the
 * analytics server, at /matomo.js and /piwik.js.
 */
export async function trackerScriptRoutes(app: FastifyInstance): Promise<void> {
  const script = buildTrackerScript();
  for (const url of ['/plura.js', '/matomo.js', '/piwik.js']) {
    app.get(url, async (request, reply) => {
      // Served on tenant hosts only: the platform host tracks nothing.
      if (!request.tenant) throw new PluraError('unknown_host', 'The tracker script is served on tenant hosts.');
      void reply.header('Cache-Control', 'public, max-age=3600').header('ETag', script.etag).header('Vary', 'Accept-Encoding').header('Access-Control-Allow-Origin', '*');
      if (request.headers['if-none-match'] === script.etag) return reply.code(304).send();
      const encoding = encodingFor(request);
      void reply.type('application/javascript; charset=utf-8');
      if (encoding === 'br') return reply.header('Content-Encoding', 'br').send(script.brotli);
      if (encoding === 'gzip') return reply.header('Content-Encoding', 'gzip').send(script.gzip);
      return reply.send(script.plain);
    });
  }
}

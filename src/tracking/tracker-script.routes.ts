import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PluraError } from '../core/errors.js';

// The same path works from src/tracking (tsx) and dist/tracking (built): both sit two levels below the package root.
const scriptUrl = new URL('../../src/tracking/client/tracker.js', import.meta.url);

/**
 * Plura's first-party tracker, written for Plura (no Matomo code), served on every
 * tenant host at /plura.js and, for integrations that load matomo.js from the
 * analytics server, at /matomo.js and /piwik.js.
 */
export async function trackerScriptRoutes(app: FastifyInstance): Promise<void> {
  const source = readFileSync(scriptUrl, 'utf8');
  const etag = `"${createHash('sha256').update(source).digest('hex').slice(0, 16)}"`;
  for (const url of ['/plura.js', '/matomo.js', '/piwik.js']) {
    app.get(url, async (request, reply) => {
      // Served on tenant hosts only: the platform host tracks nothing.
      if (!request.tenant) throw new PluraError('unknown_host', 'The tracker script is served on tenant hosts.');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply
        .type('application/javascript; charset=utf-8')
        .header('Cache-Control', 'public, max-age=3600')
        .header('ETag', etag)
        .header('Access-Control-Allow-Origin', '*')
        .send(source);
    });
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PluraError, isPluraError } from '../core/errors.js';
import { actorForUser } from '../access/actors.js';
import { identityDbOf } from '../access/identity.store.js';
import { decideTrackingOverride } from '../access/policy.js';
import { checkTokenFromIp } from '../access/brute-force.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';
import { HitError, paramsOf, parseHit, type Hit, type HitMeta, type HitSource } from './hit.js';
import type { HitOutcome } from './hit-processor.js';
import type { TrackingWriter } from './write-queue.js';

/** 1×1 transparent GIF, Matomo's answer to a tracked hit. */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const NOTICE =
  "This resource is part of Plura, which speaks Matomo's Tracking API. It is the endpoint for tracking requests (https://developer.matomo.org/api-reference/tracking-api).";

export interface TrackingDeps {
  readonly platform: Platform;
  readonly writer: TrackingWriter;
}

interface TrackingRequestBody {
  readonly kind: 'form' | 'bulk' | 'none';
  /** The form body as sent (kind 'form'). */
  readonly raw: string;
  readonly bulk: { requests: unknown[]; token_auth?: unknown; send_image?: unknown } | null;
}

function parseBody(raw: string): TrackingRequestBody {
  const text = raw.trim();
  if (text === '') return { kind: 'none', raw: '', bulk: null };
  // Matomo: a body mentioning "requests" is a bulk request, whatever its content type.
  if (text.startsWith('{') && /["']requests["']/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HitError('The bulk request body is not valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { requests?: unknown }).requests)) {
      throw new HitError('A bulk request needs a "requests" array.');
    }
    return { kind: 'bulk', raw: '', bulk: parsed as TrackingRequestBody['bulk'] };
  }
  return { kind: 'form', raw: text, bulk: null };
}

function metaOf(request: FastifyRequest): HitMeta {
  const header = (name: string): string => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : '';
  };
  return {
    ip: request.ip,
    userAgent: header('user-agent'),
    acceptLanguage: header('accept-language'),
    refererHeader: header('referer'),
    doNotTrack: header('dnt').startsWith('1') || header('x-do-not-track').startsWith('1'),
    receivedAt: Math.floor(Date.now() / 1000),
  };
}

function corsHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  void reply.header('Access-Control-Allow-Origin', typeof origin === 'string' && origin !== '' ? origin : '*');
  void reply.header('Access-Control-Allow-Credentials', 'true');
}

/**
 * Checks the token for hits that use privileged parameters: a write, admin or
 * super user token of this tenant, for each hit's site. Hits without privileged
 * parameters need none. Returns an error message per refused hit.
 */
async function authorizeHits(platform: Platform, tenant: Tenant, hits: readonly Hit[], token: string | undefined, requireAll: boolean, ip: string): Promise<(string | null)[]> {
  const needing = hits.map((hit) => requireAll || hit.privileged.length > 0);
  if (!needing.some(Boolean)) return hits.map(() => null);
  return platform.withStore(tenant, async (store) => {
    const db = identityDbOf(store.db);
    const scope = { kind: 'tenant' as const, tenant, store };
    const check = token ? await checkTokenFromIp(db, platform.settings.forTenant(tenant.slug), platform.secret, token, true, ip) : undefined;
    const actor = check?.ok ? await actorForUser(scope, db, check.user) : undefined;
    return hits.map((hit, index) => {
      if (!needing[index]) return null;
      const what = hit.privileged.length > 0 ? `The parameters ${hit.privileged.join(', ')} need` : 'Bulk requests need';
      if (!actor) return `${what} a token_auth with write or admin access on website id ${hit.siteId}; ${token ? 'the token given is not valid' : 'none was given'}.`;
      const decision = decideTrackingOverride(actor, tenant.slug, hit.siteId);
      return decision.allowed ? null : `${what} write or admin access on website id ${hit.siteId}: ${decision.reason}.`;
    });
  });
}

/** `/matomo.php` and `/piwik.php`: single hits (GET or POST) and bulk JSON. */
export async function trackingRoutes(app: FastifyInstance, deps: TrackingDeps): Promise<void> {
  const { platform, writer } = deps;
  // Tracking reads its own bodies: Matomo's JS tracker posts bulk JSON labelled as a form.
  // Errors answer in the tracking surface's own format: plain text, readable cross-origin.
  app.setErrorHandler((error, request, reply) => {
    corsHeaders(request, reply);
    if (isPluraError(error)) return reply.code(error.status).headers(error.headers).type('text/plain; charset=utf-8').send(error.message);
    const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
    if (status >= 400 && status < 500) return reply.code(status).type('text/plain; charset=utf-8').send(error instanceof Error ? error.message : 'Bad request.');
    request.log.error({ err: error }, 'tracking request failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('The server failed to record this request.');
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 8 * 1024 * 1024 }, (_request, body, done) => done(null, body));

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    corsHeaders(request, reply);
    const tenant = request.tenant;
    if (!tenant) throw new PluraError('unknown_host', 'Tracking requests go to a tenant host.');
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const query = new URLSearchParams(rawQuery);
    const settings = platform.settings.forTenant(tenant.slug);
    const options = { customTimeWithoutTokenSeconds: settings.get('Tracker.tracking_requests_require_authentication_when_custom_timestamp_newer_than') };
    let body: TrackingRequestBody;
    try {
      body = parseBody(typeof request.body === 'string' ? request.body : '');
    } catch (error) {
      return reply.code(400).type('text/plain; charset=utf-8').send(error instanceof Error ? error.message : 'Bad request.');
    }
    const meta = metaOf(request);

    if (body.kind === 'bulk' && body.bulk) {
      const entries = body.bulk.requests;
      const token = query.get('token_auth') ?? (typeof body.bulk.token_auth === 'string' ? body.bulk.token_auth : undefined);
      const parsed: (Hit | string)[] = entries.map((entry) => {
        const source: HitSource = { b: entry };
        const params = paramsOf(source);
        if (!params) return 'A bulk entry must be a query string ("?idsite=1&rec=1&...") or an object of parameters.';
        try {
          return parseHit(params, meta, options);
        } catch (error) {
          return error instanceof HitError ? error.message : 'Invalid tracking request.';
        }
      });
      const hits = parsed.filter((item): item is Hit => typeof item !== 'string');
      const refusals = await authorizeHits(platform, tenant, hits, token, settings.get('Tracker.bulk_requests_require_authentication'), request.ip);
      const allowed = hits.filter((_, index) => refusals[index] === null);
      const outcomes = await writer.submit(tenant, allowed);
      const byHit = new Map<Hit, HitOutcome | string>();
      hits.forEach((hit, index) => byHit.set(hit, refusals[index] ?? ''));
      allowed.forEach((hit, index) => byHit.set(hit, outcomes[index] ?? 'not processed'));
      const invalid: number[] = [];
      let tracked = 0;
      parsed.forEach((item, index) => {
        const result = typeof item === 'string' ? item : byHit.get(item);
        if (typeof result === 'object' && result.status !== 'invalid') tracked += 1;
        else invalid.push(index);
      });
      if (body.bulk.send_image === 0 || body.bulk.send_image === '0') return reply.code(204).send();
      return reply.code(200).type('application/json; charset=utf-8').send({ status: 'success', tracked, invalid: invalid.length, invalid_indices: invalid });
    }

    const source: HitSource = body.kind === 'form' ? { q: rawQuery, f: body.raw } : { q: rawQuery };
    const params = paramsOf(source);
    if (!params) throw new PluraError('invalid_input', 'The tracking request could not be read.');
    const sendImage = params.get('send_image') !== '0';
    if (params.size === 0) {
      return reply.code(request.method === 'GET' ? 200 : 400).type('text/html; charset=utf-8').send(NOTICE);
    }
    let hit: Hit;
    try {
      hit = parseHit(params, meta, options);
    } catch (error) {
      if (error instanceof HitError) return reply.code(400).type('text/plain; charset=utf-8').send(`${error.message}\n\n${NOTICE}`);
      throw error;
    }
    const [refusal] = await authorizeHits(platform, tenant, [hit], params.get('token_auth'), false, request.ip);
    if (refusal) return reply.code(400).type('text/plain; charset=utf-8').send(`${refusal}\n\n${NOTICE}`);
    let outcome: HitOutcome | undefined;
    try {
      [outcome] = await writer.submit(tenant, [hit]);
    } catch (error) {
      if (isPluraError(error)) return reply.code(error.status).headers(error.headers).type('text/plain; charset=utf-8').send(error.message);
      throw error;
    }
    if (outcome?.status === 'invalid') return reply.code(400).type('text/plain; charset=utf-8').send(`${outcome.message}\n\n${NOTICE}`);
    if (request.method === 'GET') void reply.header('Cache-Control', 'no-store');
    if (!sendImage) return reply.code(204).send();
    return reply.code(200).type('image/gif').send(GIF);
  };

  for (const url of ['/matomo.php', '/piwik.php']) {
    app.get(url, handle);
    app.post(url, handle);
    app.options(url, (request, reply) => {
      corsHeaders(request, reply);
      return reply
        .code(204)
        .header('Access-Control-Allow-Origin', '*')
        .header('Access-Control-Allow-Methods', 'GET, POST')
        .header('Access-Control-Allow-Headers', '*')
        .send();
    });
  }
}

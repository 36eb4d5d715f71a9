import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError, isPluraError } from '../core/errors.js';
import { actorForUser } from '../access/actors.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from '../access/context.js';
import { identityStore } from '../access/identity.store.js';
import { decideEmbed, embedViewerActor, type Actor } from '../access/policy.js';
import { withRequestScope, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { callMethod } from '../matomo-api/matomo-api.routes.js';
import { parseMatomoQueryString } from '../matomo-api/params.js';
import { registerEmbedViewer } from './data-policy.js';
import { MIN_EMBED_SECRET_LENGTH, dashboardDefinitionOf, findItemForEmbed, renderDashboardPage, renderEmbedError, savedReportDefinitionOf, sitesNamedBy, verifyEmbedToken, type EmbedClaims, type WidgetOutcome } from './embed.js';
import type { SavedReportDefinition } from './workspace.service.js';

const EmbedParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const EmbedQuery = Type.Object({
  token: Type.Optional(Type.String()),
  period: Type.Optional(Type.String({ maxLength: 20 })),
  date: Type.Optional(Type.String({ maxLength: 50 })),
});

// The page is made to be framed by another site: no scripts, nothing loaded, never cached (the token is in the URL).
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

type TenantScope = Extract<Scope, { kind: 'tenant' }>;

/** Sites the embed viewer may view: those the widgets name, the token's `idSite`, or every site when a widget asks for all. */
async function sitesOfDashboard(scope: TenantScope, reports: readonly SavedReportDefinition[], claims: EmbedClaims): Promise<number[]> {
  const ids = new Set<number>();
  if (claims.idSite !== null) ids.add(claims.idSite);
  for (const report of reports) {
    const named = sitesNamedBy(report);
    if (named === 'all') {
      for (const row of await scope.store.db.selectFrom('site').select('id').execute()) ids.add(row.id);
    } else for (const id of named) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** `GET /embed/dashboard/:id?token=<JWT>`: a dashboard, read-only, for the tenant of the host. */
export async function embedRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { platform } = deps;

  const refuse = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const known = isPluraError(error);
    const status = known ? error.status : 500;
    const message = known ? error.message : 'The server failed to show this dashboard.';
    if (known && status < 500) request.log.warn({ code: error.code, dashboard: (request.params as { id?: string }).id }, `embed refused: ${message}`);
    else request.log.error({ err: error }, 'embed failed');
    void reply.code(status).headers({ ...PAGE_HEADERS, ...(known ? error.headers : {}) });
    if (wantsJson(request)) return reply.type('application/json; charset=utf-8').send({ error: { code: known ? error.code : 'internal_error', message } });
    return reply.type('text/html; charset=utf-8').send(renderEmbedError(status, message));
  };

  app.get('/embed/dashboard/:id', { schema: { params: EmbedParams, querystring: EmbedQuery } }, async (request, reply) => {
    try {
      const tenant = request.tenant;
      if (!tenant) throw new PluraError('not_found', "Embedded dashboards are served on the tenant's own host, not on the platform host.");
      const html = await withRequestScope(platform, request, async (scope) => {
        if (scope.kind !== 'tenant') throw new PluraError('not_found', "Embedded dashboards are served on the tenant's own host.");
        const ip = request.ip || null;
        const settings = settingsFor(platform, scope);
        const limit = await deps.rateLimiter.consume(tenant.slug, `embed:${ip ?? 'unknown'}`, { perMinute: settings.get('Security.api_rate_limit_per_minute'), perHour: settings.get('Security.api_rate_limit_per_hour') });
        if (!limit.allowed) throw new PluraError('rate_limited', `Too many embed views: retry in ${limit.retryAfterSeconds} s.`, { headers: { 'Retry-After': String(limit.retryAfterSeconds) } });

        const enabled = platform.settings.get('Embedding.enabled');
        const secret = platform.settings.get('Embedding.secret');
        if (!enabled) throw new PluraError('forbidden', 'Embedding is not enabled on this platform ([Embedding] enabled = 0).');
        if (secret.length < MIN_EMBED_SECRET_LENGTH) throw new PluraError('forbidden', `Embedding is enabled but not configured: [Embedding] secret must hold at least ${MIN_EMBED_SECRET_LENGTH} characters.`);
        const claims = await verifyEmbedToken(request.query.token ?? '', secret);

        const item = await findItemForEmbed(platform, scope, request.params.id);
        const decision = decideEmbed({ enabled, hostTenant: tenant.slug, tokenTenant: claims.tenant, collectionKind: item?.collectionKind ?? 'personal', collectionTenant: item?.collectionTenant ?? null });
        if (claims.tenant !== tenant.slug) throw new PluraError('forbidden', `This embed token is for another tenant, not for ${tenant.slug}.`, { cause: decision.reason });
        const definition = item ? dashboardDefinitionOf(item.row) : null;
        // Dashboards that may not be embedded answer like missing ones: their existence is not revealed.
        if (!item || !definition || !decision.allowed) throw new PluraError('not_found', `There is no dashboard "${request.params.id.slice(0, 64)}" to embed here.`);

        // Widgets: inline reports, or saved reports beside the dashboard that may be embedded as well.
        const reports = new Map<string, SavedReportDefinition | string>();
        for (const widget of definition.widgets) {
          if (widget.report) reports.set(widget.id, widget.report);
          else {
            const saved = await findItemForEmbed(platform, scope, widget.item ?? '');
            const report = saved && saved.db === item.db ? savedReportDefinitionOf(saved.row) : null;
            const allowed = saved && decideEmbed({ enabled, hostTenant: tenant.slug, tokenTenant: claims.tenant, collectionKind: saved.collectionKind, collectionTenant: saved.collectionTenant }).allowed;
            reports.set(widget.id, report && allowed ? report : 'This widget\'s saved report is not available.');
          }
        }

        // The viewer: read-only on the dashboard's sites (bounded by the token's user, if any), with the user's groups and the token's attributes.
        const db = identityDbFor(platform, scope);
        let user: { actor: Actor; userId: number } | null = null;
        if (claims.user !== null) {
          const row = await identityStore.findUserByLogin(db, claims.user);
          if (!row || row.login === 'anonymous') throw new PluraError('forbidden', `The embed token names user "${claims.user.slice(0, 200)}", who is not a user of ${tenant.slug}.`);
          if (row.deactivated_at !== null) throw new PluraError('forbidden', `The embed token names user "${row.login}", who is deactivated.`);
          user = { actor: await actorForUser(scope, db, row), userId: row.id };
        }
        const usable = [...reports.values()].filter((report): report is SavedReportDefinition => typeof report !== 'string');
        const viewer = embedViewerActor(tenant.slug, await sitesOfDashboard(scope, usable, claims), user?.actor ?? null);
        registerEmbedViewer(viewer, { userId: user?.userId ?? null, attributes: claims.attributes });
        const ctx: ActContext = { platform, scope, actor: viewer, ip };
        const auth: RequestAuth = { ctx, via: 'anonymous', sessionId: null, csrfToken: null, mfaPending: false };

        const period = request.query.period;
        const date = request.query.date;
        const widgets: WidgetOutcome[] = [];
        const ordered = [...definition.widgets].sort((a, b) => a.y - b.y || a.x - b.x);
        for (const widget of ordered) {
          const report = reports.get(widget.id);
          const title = widget.title ?? widget.id;
          if (report === undefined || typeof report === 'string') {
            widgets.push({ id: widget.id, title, visualization: 'table', w: widget.w, error: report ?? 'No report.' });
            continue;
          }
          const query = new URLSearchParams({ ...report.params });
          query.set('module', 'API');
          query.set('method', report.method);
          query.set('format', 'json');
          if (!query.get('idSite') && !query.get('idsite') && claims.idSite !== null) query.set('idSite', String(claims.idSite));
          if (period) query.set('period', period);
          else if (!query.get('period')) query.set('period', 'day');
          if (date) query.set('date', date);
          else if (!query.get('date')) query.set('date', 'today');
          if (report.segment) query.set('segment', report.segment);
          try {
            const value = await callMethod({ params: parseMatomoQueryString(query.toString()), auth, ctx, reply });
            widgets.push({ id: widget.id, title, visualization: report.visualization, w: widget.w, value });
          } catch (error) {
            if (!isPluraError(error)) throw error;
            widgets.push({ id: widget.id, title, visualization: report.visualization, w: widget.w, error: error.message });
          }
        }
        request.log.info({ dashboard: item.row.id, user: claims.user, expires: claims.expiresAt.toISOString() }, 'embed shown');
        return renderDashboardPage({ name: item.row.name, description: item.row.description, tenant: tenant.name, period: period ?? '', date: date ?? '', widgets });
      });
      return await reply.code(200).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
    } catch (error) {
      return refuse(request, reply, error);
    }
  });
}

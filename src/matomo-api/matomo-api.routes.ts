import { hasModuleParam, type WebPages } from '../web/web.routes.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PluraError, describeError, isPluraError } from '../core/errors.js';
import { usersManagerApi } from '../access/users-manager.api.js';
import { authorizeSomeSite } from '../access/users.service.js';
import { auditLogApi } from '../audit/audit-log.api.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import { sitesManagerApi } from '../sites/sites-manager.api.js';
import { liveApi } from '../tracking/live.api.js';
import { annotationsApi, customDimensionsManagementApi, goalsManagementApi, segmentEditorApi } from '../reports/management.api.js';
import { actionsApi, customDimensionsApi, devicesDetectionApi, eventsApi, goalsReportsApi, referrersApi, reportMetadata, resolutionApi, userCountryApi, userLanguageApi, visitsSummaryApi, visitTimeApi } from '../reports/reports.api.js';
import type { MatomoCall, MatomoModule } from './method.js';
import { parseMatomoParams, parseMatomoQueryString } from './params.js';
import { parseMatomoFormat, renderMatomoError, renderMatomoResult, type MatomoFormat, type MatomoValue, type RenderedResponse } from './render.js';

/** The Matomo version Plura answers as (API.getMatomoVersion). */
export const MATOMO_COMPAT_VERSION = '5.2.0';

const apiModule: MatomoModule = {
  async getMatomoVersion({ ctx }) {
    authorizeSomeSite(ctx, 'view_reports');
    return MATOMO_COMPAT_VERSION;
  },
  async getPiwikVersion(call) {
    return apiModule['getMatomoVersion']?.(call) ?? null;
  },
  async getReportMetadata({ ctx }) {
    authorizeSomeSite(ctx, 'view_reports');
    return reportMetadata();
  },
  async getIpFromHeader({ ctx }) {
    authorizeSomeSite(ctx, 'view_reports');
    return ctx.ip ?? '';
  },
  async getBulkRequest(call) {
    const urls = call.params.getAll('urls');
    const results: MatomoValue[] = [];
    for (const url of urls) {
      const inner = parseMatomoQueryString(url);
      // Matomo: nested bulk requests are skipped.
      if (inner.get('method') === 'API.getBulkRequest') continue;
      try {
        results.push(await callMethod({ ...call, params: inner }));
      } catch (error) {
        results.push({ result: 'error', message: errorMessage(error) });
      }
    }
    return results;
  },
};

const modules: Readonly<Record<string, MatomoModule>> = {
  API: apiModule,
  UsersManager: usersManagerApi,
  SitesManager: sitesManagerApi,
  AuditLog: auditLogApi,
  Live: liveApi,
  VisitsSummary: visitsSummaryApi,
  Actions: actionsApi,
  Referrers: referrersApi,
  DevicesDetection: devicesDetectionApi,
  Resolution: resolutionApi,
  UserLanguage: userLanguageApi,
  UserCountry: userCountryApi,
  VisitTime: visitTimeApi,
  Events: eventsApi,
  Goals: { ...goalsReportsApi, ...goalsManagementApi },
  CustomDimensions: { ...customDimensionsApi, ...customDimensionsManagementApi },
  SegmentEditor: segmentEditorApi,
  Annotations: annotationsApi,
};

/** Runs one Matomo API method as `call.ctx` (also for saved reports and dashboards). */
export async function callMethod(call: MatomoCall): Promise<MatomoValue> {
  const method = call.params.require('method');
  const match = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(method);
  if (!match) throw new PluraError('invalid_input', `The method '${method}' is not valid: it must look like Module.action.`);
  const [, moduleName = '', action = ''] = match;
  const module = modules[moduleName];
  if (!module) throw new PluraError('not_found', `The plugin ${moduleName} is not enabled. You can activate the plugin on Settings > Plugins page in Matomo.`);
  const fn = Object.prototype.hasOwnProperty.call(module, action) ? module[action] : undefined;
  if (!fn) throw new PluraError('not_found', `The method '${action}' does not exist or is not available in the module '${moduleName}'.`);
  return fn(call);
}

function errorMessage(error: unknown): string {
  return isPluraError(error) ? error.message : 'An unexpected error occurred while processing the request.';
}

/** Matomo: access errors answer 401, rate limits 429, bad input 200 with an error body. */
function matomoStatus(error: unknown): number {
  if (!isPluraError(error)) return 500;
  switch (error.code) {
    case 'unauthenticated':
    case 'forbidden':
    case 'invalid_token':
    case 'invalid_credentials':
    case 'ip_not_allowed':
    case 'session_expired':
    case 'mfa_required':
    case 'invalid_mfa_code':
    case 'csrf_failed':
      return 401;
    case 'rate_limited':
    case 'ip_blocked':
    case 'tenant_deactivated':
    case 'unknown_host':
      return error.status;
    default:
      return error.status >= 500 ? error.status : 200;
  }
}

function send(reply: FastifyReply, rendered: RenderedResponse, extra: Readonly<Record<string, string>> = {}): FastifyReply {
  void reply.code(rendered.status).type(rendered.contentType).headers({ ...rendered.headers, ...extra });
  return reply.send(rendered.body);
}

/** `/index.php?module=API&method=...` (and `/`, where API clients also post). */
export async function handleMatomoApi(deps: RequestContextDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const params = parseMatomoParams(request.query, request.body);
  const format: MatomoFormat = parseMatomoFormat(params.get('format')) ?? 'json';
  const options = {
    callback: params.get('callback') ?? params.get('jsoncallback'),
    convertToUnicode: params.getBool('convertToUnicode', true),
    filename: params.get('filename'),
  };
  try {
    if (parseMatomoFormat(params.get('format')) === undefined) {
      throw new PluraError('invalid_input', `The format '${params.get('format') ?? ''}' is not supported: use json, xml, csv, tsv, html or original.`);
    }
    if (params.get('module') !== 'API') throw new PluraError('invalid_input', "This endpoint serves the Matomo API: pass module=API and method=Module.action.");
    const value = await withRequestContext(deps, request, reply, { surface: 'api', token: params.tokenAuth }, (auth: RequestAuth) =>
      callMethod({ params, auth, ctx: auth.ctx, reply }),
    );
    return send(reply, renderMatomoResult(value, format, options));
  } catch (error) {
    const status = matomoStatus(error);
    if (status >= 500) request.log.error({ err: error }, `Matomo API call failed: ${describeError(error)}`);
    const headers = isPluraError(error) ? error.headers : {};
    return send(reply, renderMatomoError(errorMessage(error), format, status, options), headers);
  }
}

/** `pages`: a GET of `/` or `/index.php` without `module` is a browser opening the web interface (as in Matomo). */
export async function matomoApiRoutes(app: FastifyInstance, deps: RequestContextDeps, pages?: WebPages): Promise<void> {
  for (const url of ['/index.php', '/']) {
    app.get(url, (request, reply) => (pages && !hasModuleParam(request) ? pages.sendShell(request, reply) : handleMatomoApi(deps, request, reply)));
    app.post(url, (request, reply) => handleMatomoApi(deps, request, reply));
  }
}

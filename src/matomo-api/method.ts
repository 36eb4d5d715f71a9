import type { FastifyReply } from 'fastify';
import { PluraError } from '../core/errors.js';
import type { ActContext } from '../access/context.js';
import type { RequestAuth } from '../http/request-context.js';
import type { MatomoParams } from './params.js';
import type { MatomoValue } from './render.js';

/** One call of a Matomo API method: its parameters and who makes it, where. */
export interface MatomoCall {
  readonly params: MatomoParams;
  readonly auth: RequestAuth;
  readonly ctx: ActContext;
  /** For methods that set Matomo's extra headers (X-Matomo-Total-Results). */
  readonly reply: FastifyReply;
}

export type MatomoMethod = (call: MatomoCall) => Promise<MatomoValue>;

/** Methods of one Matomo module (UsersManager, SitesManager, ...), keyed by action name. */
export type MatomoModule = Readonly<Record<string, MatomoMethod>>;

/** Matomo: `idSite` and friends are ids; anything else is a clear error, never a 500. */
export function requireSiteId(params: MatomoParams, name = 'idSite'): number {
  const value = params.require(name);
  const id = Number(value);
  if (!/^\d+$/.test(value.trim()) || id < 1) throw new PluraError('invalid_input', `The parameter '${name}' must be a site id, not "${value}".`);
  return id;
}

/** `idSites`: a list of ids, or `all`. */
export function requireSiteIds(params: MatomoParams, name = 'idSites'): number[] | 'all' {
  const raw = params.getList(name);
  if (raw.length === 0) throw new PluraError('invalid_input', `Please specify a value for '${name}'.`);
  if (raw.length === 1 && raw[0] === 'all') return 'all';
  return raw.map((value) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new PluraError('invalid_input', `The parameter '${name}' must list site ids, not "${value}".`);
    return Number(value);
  });
}

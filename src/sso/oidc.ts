import { createHash, hkdfSync } from 'node:crypto';
import { providerEnabled } from './provider-settings.js';
import ipaddr from 'ipaddr.js';
import { EncryptJWT, jwtDecrypt, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import * as oidc from 'openid-client';
import { PluraError } from '../core/errors.js';
import { identityDbFor, settingsFor, type Scope } from '../access/context.js';
import type { Client } from '../access/login.service.js';
import type { Platform } from '../platform/platform.js';
import { refuseSso, signInWithSso, type SsoSignInResult } from './sso-sign-in.js';

/** The cookie that carries one sign-in from /auth/oidc/start to /auth/oidc/callback. */
export const OIDC_FLOW_COOKIE = 'plura_oidc_flow';
export const OIDC_FLOW_COOKIE_PATH = '/auth/oidc';
/** How long a user may take at the provider. */
export const OIDC_FLOW_SECONDS = 600;
const DISCOVERY_TTL_MS = 5 * 60_000;
const REQUEST_TIMEOUT_SECONDS = 10;
const FLOW_ISSUER = 'plura:oidc-flow';
/** Prefix of consumed flows in `sso_used_jti` (a callback URL works once). */
const USED_FLOW_PREFIX = 'oidc-state:';

/** What the callback needs from the start, sealed in the flow cookie. */
export interface OidcFlow {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  readonly redirectUri: string;
  readonly issuer: string;
  readonly clientId: string;
}

export interface OidcConfig {
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: string;
  readonly groupsClaim: string;
  readonly provisioning: boolean;
  readonly tokenAuthMethod: string;
}

const providerName = (scope: Scope): string => (scope.kind === 'tenant' ? `tenant "${scope.tenant.slug}"` : 'the platform');

/** Who a flow cookie belongs to; a recreated tenant of the same slug is someone else. */
function scopeKey(scope: Scope): string {
  return scope.kind === 'tenant' ? `tenant:${scope.tenant.slug}:${scope.tenant.createdAt}` : 'platform';
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost') return true;
  if (!ipaddr.isValid(host)) return false;
  return ipaddr.process(host).range() === 'loopback';
}

/** https, or plain http on a loopback address (a provider on the same machine, as in tests). */
function isAllowedUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** The scope's OIDC settings, or `sso_not_configured` naming what is missing. */
export function oidcConfigFor(platform: Platform, scope: Scope): OidcConfig {
  const settings = settingsFor(platform, scope);
  if (!providerEnabled(platform, scope, 'OIDC')) throw new PluraError('sso_not_configured', `OpenID Connect sign-in is not enabled for ${providerName(scope)}.`);
  const issuerText = settings.get('OIDC.issuer').trim();
  const clientId = settings.get('OIDC.client_id').trim();
  if (issuerText === '' || clientId === '') {
    throw new PluraError('sso_not_configured', `OpenID Connect sign-in for ${providerName(scope)} needs [OIDC] issuer and client_id.`);
  }
  let issuer: URL;
  try {
    issuer = new URL(issuerText);
  } catch {
    throw new PluraError('sso_not_configured', `[OIDC] issuer "${issuerText}" is not a URL.`);
  }
  if (!isAllowedUrl(issuer)) {
    throw new PluraError('sso_not_configured', `[OIDC] issuer "${issuerText}" must use https (plain http only on a loopback address).`);
  }
  // openid must be asked for, or the provider sends no ID token.
  const scopes = settings.get('OIDC.scopes').split(/[\s,]+/).filter((s) => s !== '');
  if (!scopes.includes('openid')) scopes.unshift('openid');
  return {
    issuer,
    clientId,
    clientSecret: settings.get('OIDC.client_secret'),
    scopes: scopes.join(' '),
    groupsClaim: settings.get('OIDC.groups_claim').trim() || 'groups',
    provisioning: settings.get('OIDC.user_provisioning'),
    tokenAuthMethod: settings.get('OIDC.token_endpoint_auth_method'),
  };
}

// Discovery documents (and, on the Configuration, the provider's JWKS) per scope, issuer and client.
const configurations = new LRUCache<string, Promise<oidc.Configuration>>({ max: 2000, ttl: DISCOVERY_TTL_MS });

function clientAuthentication(metadata: oidc.ServerMetadata, config: OidcConfig): oidc.ClientAuth {
  if (config.clientSecret === '') return oidc.None();
  // RFC 8414: an absent list means client_secret_basic only.
  const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const wanted = config.tokenAuthMethod === 'auto' ? ['client_secret_basic', 'client_secret_post'] : [config.tokenAuthMethod];
  const method = wanted.find((candidate) => methods.includes(candidate));
  if (method === 'client_secret_basic') return oidc.ClientSecretBasic(config.clientSecret);
  if (method === 'client_secret_post') return oidc.ClientSecretPost(config.clientSecret);
  throw new Error(`its token endpoint accepts ${methods.join(', ')}, not ${wanted.join(' or ')}`);
}

async function discover(config: OidcConfig): Promise<oidc.Configuration> {
  const insecure = config.issuer.protocol === 'http:';
  const execute = insecure ? [oidc.allowInsecureRequests] : [];
  const discovered = await oidc.discovery(config.issuer, config.clientId, undefined, oidc.None(), { execute, timeout: REQUEST_TIMEOUT_SECONDS });
  const metadata = discovered.serverMetadata();
  // A loopback provider must not send us (or the browser) elsewhere over plain http.
  for (const endpoint of [metadata.authorization_endpoint, metadata.token_endpoint, metadata.userinfo_endpoint, metadata.jwks_uri]) {
    if (endpoint !== undefined && !isAllowedUrl(new URL(endpoint))) throw new Error(`its endpoint ${endpoint} is not https`);
  }
  if (!metadata.authorization_endpoint || !metadata.token_endpoint) throw new Error('its discovery document names no authorization or token endpoint');
  const configuration = new oidc.Configuration(
    metadata,
    config.clientId,
    config.clientSecret === '' ? undefined : { client_secret: config.clientSecret },
    clientAuthentication(metadata, config),
  );
  configuration.timeout = REQUEST_TIMEOUT_SECONDS;
  for (const extension of execute) extension(configuration);
  return configuration;
}

/** The provider's configuration, from the cache or discovered now; a failure is a refusal naming the issuer. */
async function configurationFor(platform: Platform, scope: Scope, config: OidcConfig, ip: string | null): Promise<oidc.Configuration> {
  const secretHash = createHash('sha256').update(config.clientSecret).digest('base64url');
  const key = [scopeKey(scope), config.issuer.href, config.clientId, secretHash, config.tokenAuthMethod].join('\n');
  let pending = configurations.get(key);
  if (!pending) {
    pending = discover(config);
    configurations.set(key, pending);
    // A failed discovery is not cached: the next sign-in tries again.
    pending.catch(() => {
      if (configurations.peek(key) === pending) configurations.delete(key);
    });
  }
  try {
    return await pending;
  } catch (error) {
    return refuseSso(platform, scope, 'oidc', ip, `The OpenID provider ${config.issuer.href} cannot be used: ${describe(error)}.`);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** The flow key of a scope: derived from the platform secret, so only this scope can open its cookies. */
function flowKey(platform: Platform, scope: Scope): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', platform.secret, 'plura-oidc-flow-cookie', scopeKey(scope), 32));
}

/** Encrypts (and authenticates) a flow for the cookie; it expires with the flow. */
export async function sealFlow(platform: Platform, scope: Scope, flow: OidcFlow, now = new Date()): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new EncryptJWT({ flow })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuer(FLOW_ISSUER)
    .setAudience(scopeKey(scope))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + OIDC_FLOW_SECONDS)
    .encrypt(flowKey(platform, scope));
}

function isFlow(value: unknown): value is OidcFlow {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['state', 'nonce', 'codeVerifier', 'returnTo', 'redirectUri', 'issuer', 'clientId'].every((field) => typeof record[field] === 'string');
}

/** Opens a flow cookie made in this scope; anything else (another tenant's, tampered, expired) is refused. */
export async function openFlow(platform: Platform, scope: Scope, cookie: string, now = new Date()): Promise<OidcFlow> {
  try {
    const { payload } = await jwtDecrypt(cookie, flowKey(platform, scope), {
      issuer: FLOW_ISSUER,
      audience: scopeKey(scope),
      currentDate: now,
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    if (!isFlow(payload['flow'])) throw new Error('malformed flow');
    return payload['flow'];
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new Error(`the sign-in was not completed within ${OIDC_FLOW_SECONDS / 60} minutes; start again`);
    throw new Error('the sign-in cookie of this browser was not made here or was altered; start again', { cause: error });
  }
}

export interface OidcStart {
  readonly authorizationUrl: URL;
  readonly flowCookie: string;
}

/** Step 1: discovery, PKCE, state and nonce; returns where to send the browser and the sealed flow. */
export async function beginOidcSignIn(platform: Platform, scope: Scope, options: { redirectUri: string; returnTo: string; ip: string | null }): Promise<OidcStart> {
  const config = oidcConfigFor(platform, scope);
  const configuration = await configurationFor(platform, scope, config, options.ip);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const flow: OidcFlow = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    codeVerifier,
    returnTo: options.returnTo,
    redirectUri: options.redirectUri,
    issuer: config.issuer.href,
    clientId: config.clientId,
  };
  const authorizationUrl = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: flow.redirectUri,
    response_type: 'code',
    scope: config.scopes,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { authorizationUrl, flowCookie: await sealFlow(platform, scope, flow) };
}

/** Marks a flow as used; false when it was used before (a replayed callback). */
async function consumeFlow(platform: Platform, scope: Scope, state: string, now: Date): Promise<boolean> {
  const db = identityDbFor(platform, scope);
  const at = now.toISOString();
  await db.deleteFrom('sso_used_jti').where('jti', 'like', `${USED_FLOW_PREFIX}%`).where('expires_at', '<', at).execute();
  const jti = USED_FLOW_PREFIX + createHash('sha256').update(state).digest('base64url');
  const expiresAt = new Date(now.getTime() + OIDC_FLOW_SECONDS * 1000).toISOString();
  const inserted = await db
    .insertInto('sso_used_jti')
    .values({ jti, expires_at: expiresAt })
    .onConflict((oc) => oc.column('jti').doNothing())
    .returning('jti')
    .executeTakeFirst();
  return inserted !== undefined;
}

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The groups claim: a literal claim name first (namespaced URLs contain dots), then a dotted path (`realm_access.roles`). */
function groupsOf(claims: Record<string, unknown>, claim: string): string[] | undefined {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, part) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined), claims);
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === 'string');
  return undefined;
}

function refusalMessage(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError) {
    return `The identity provider refused the sign-in (${error.error})${error.error_description ? `: ${error.error_description}` : '.'}`;
  }
  if (error instanceof oidc.ResponseBodyError) {
    return `The identity provider refused the code exchange (${error.error})${error.error_description ? `: ${error.error_description}` : '.'}`;
  }
  return `The identity provider's answer was refused: ${describe(error)}.`;
}

export interface OidcCallback {
  /** The flow cookie as the browser sent it (absent when none). */
  readonly flowCookie: string | undefined;
  /** The callback's query string, without "?". */
  readonly query: string;
  readonly client: Client;
  readonly now?: Date;
}

/**
 * Step 2: checks the flow (cookie, state, single use), exchanges the code (openid-client
 * verifies PKCE, issuer, audience, signature and nonce of the ID token), reads the
 * claims (userinfo when the ID token lacks email or groups) and signs the user in.
 */
export async function completeOidcSignIn(platform: Platform, scope: Scope, callback: OidcCallback): Promise<SsoSignInResult & { returnTo: string }> {
  const config = oidcConfigFor(platform, scope);
  const ip = callback.client.ip;
  const now = callback.now ?? new Date();
  const refuse = (message: string) => refuseSso(platform, scope, 'oidc', ip, message);

  if (!callback.flowCookie) return refuse('No OpenID Connect sign-in is in progress in this browser (its cookie is missing or expired); start again.');
  let flow: OidcFlow;
  try {
    flow = await openFlow(platform, scope, callback.flowCookie, now);
  } catch (error) {
    return refuse(`The OpenID Connect sign-in cannot continue: ${error instanceof Error ? error.message : String(error)}.`);
  }
  const params = new URLSearchParams(callback.query);
  const state = params.get('state');
  if (state === null || state === '') return refuse('The identity provider\'s answer carries no state; start again.');
  if (state !== flow.state) return refuse('The identity provider\'s answer belongs to another sign-in (state mismatch); start again.');
  if (flow.issuer !== config.issuer.href || flow.clientId !== config.clientId) {
    return refuse('The OpenID Connect settings changed during this sign-in; start again.');
  }
  if (!(await consumeFlow(platform, scope, flow.state, now))) return refuse('This sign-in was already completed; a callback works only once. Start again.');

  const configuration = await configurationFor(platform, scope, config, ip);
  let claims: Record<string, unknown>;
  let sub: string;
  try {
    const currentUrl = new URL(flow.redirectUri);
    currentUrl.search = params.toString();
    const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken) return await refuse('The identity provider sent no ID token.');
    sub = idToken.sub;
    claims = { ...idToken };
    if (stringClaim(claims, 'email') === undefined || groupsOf(claims, config.groupsClaim) === undefined) {
      if (configuration.serverMetadata().userinfo_endpoint) {
        // The ID token's claims win; userinfo fills what it lacks (the provider checked `sub` matches).
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, sub);
        claims = { ...userinfo, ...claims };
      }
    }
  } catch (error) {
    if (error instanceof PluraError) throw error;
    return refuse(refusalMessage(error));
  }

  const email = stringClaim(claims, 'email');
  if (email === undefined) return refuse(`The identity provider sent no email address for "${sub}" (ask it for the "email" scope).`);
  // A provider that says the address is unverified cannot link to a user by email.
  if (claims['email_verified'] === false) return refuse(`The identity provider has not verified the email address ${email}.`);
  const result = await signInWithSso(
    platform,
    scope,
    {
      provider: 'oidc',
      subject: `${configuration.serverMetadata().issuer}|${sub}`,
      email,
      firstName: stringClaim(claims, 'given_name') ?? null,
      lastName: stringClaim(claims, 'family_name') ?? null,
      groups: groupsOf(claims, config.groupsClaim) ?? [],
    },
    { provisioning: config.provisioning, client: callback.client, now },
  );
  return { ...result, returnTo: flow.returnTo };
}

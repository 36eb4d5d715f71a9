import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PluraError } from '../core/errors.js';
import type { SettingsView } from '../settings/settings.js';

/** Longest token accepted in a URL; anything larger is refused before it is parsed. */
export const MAX_JWT_LENGTH = 16 * 1024;

/** Claims Plura reads from a sign-in token, after its signature and times were checked. */
export interface JwtClaims {
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly groups: readonly string[];
  /** The tenant slug the token names, or null when it names none. */
  readonly tenant: string | null;
  readonly jti: string;
  readonly expiresAt: Date;
  readonly subject: string;
}

// One key set per JWKS URL, so keys are cached and refetched by jose's own rules.
const keySets = new Map<string, JWTVerifyGetKey>();
function keySetFor(url: string): JWTVerifyGetKey {
  let keySet = keySets.get(url);
  if (!keySet) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PluraError('sso_not_configured', `[JWT] jwks_url "${url}" is not a URL.`);
    }
    keySet = createRemoteJWKSet(parsed, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    keySets.set(url, keySet);
  }
  return keySet;
}

const refuse = (message: string): PluraError => new PluraError('sso_refused', message);

function optionalString(payload: JWTPayload, key: string): string | null {
  const value = payload[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw refuse(`The claim "${key}" must be a string.`);
  return value;
}

/**
 * Verifies a sign-in token with the scope's `[JWT]` settings: HS256 with the shared
 * secret, or RS256/ES256 against the JWKS; `alg: none` and every other algorithm are
 * refused. `exp` and `jti` are required, the lifetime is bounded, and `iss`/`aud`
 * are checked when configured.
 */
export async function verifySignInToken(token: string, settings: SettingsView, now = new Date()): Promise<JwtClaims> {
  if (token.length > MAX_JWT_LENGTH) throw new PluraError('payload_too_large', `The token is longer than ${MAX_JWT_LENGTH} characters.`);
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw refuse('The token is not a JWT (three base64url parts with a JSON header).');
  }
  const secret = settings.get('JWT.shared_secret');
  const jwksUrl = settings.get('JWT.jwks_url');
  const maxAge = settings.get('JWT.max_token_age_seconds');
  const issuer = settings.get('JWT.issuer');
  const audience = settings.get('JWT.audience');
  const options = {
    currentDate: now,
    clockTolerance: 30,
    maxTokenAge: maxAge,
    requiredClaims: ['exp', 'jti'],
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
  };

  let payload: JWTPayload;
  try {
    if (alg === 'HS256') {
      if (secret === '') throw refuse('HS256 tokens are not accepted here: no [JWT] shared_secret is configured.');
      if (secret.length < 32) throw new PluraError('sso_not_configured', '[JWT] shared_secret must be at least 32 characters long.');
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), { ...options, algorithms: ['HS256'] }));
    } else if (alg === 'RS256' || alg === 'ES256') {
      if (jwksUrl === '') throw refuse(`${alg} tokens are not accepted here: no [JWT] jwks_url is configured.`);
      ({ payload } = await jwtVerify(token, keySetFor(jwksUrl), { ...options, algorithms: ['RS256', 'ES256'] }));
    } else {
      throw refuse(`The token's algorithm "${alg ?? 'none'}" is not accepted; use HS256, RS256 or ES256.`);
    }
  } catch (error) {
    if (error instanceof PluraError) throw error;
    throw refuse(describeJoseError(error));
  }
  // iat is optional in JWT, but without it maxTokenAge cannot bound the lifetime: bound exp instead.
  const exp = payload.exp ?? 0;
  if (payload.iat === undefined && exp - now.getTime() / 1000 > maxAge) {
    throw refuse(`The token lives longer than ${maxAge} seconds; issue shorter-lived tokens.`);
  }

  const email = optionalString(payload, 'email');
  if (email === null || email === '') throw refuse('The token has no "email" claim.');
  const jti = payload.jti ?? '';
  if (jti === '' || jti.length > 200) throw refuse('The token needs a "jti" claim (at most 200 characters) so it can be used only once.');
  const groupsClaim = payload['groups'];
  let groups: string[] = [];
  if (groupsClaim !== undefined && groupsClaim !== null) {
    if (!Array.isArray(groupsClaim) || groupsClaim.some((group) => typeof group !== 'string')) throw refuse('The claim "groups" must be an array of strings.');
    groups = groupsClaim as string[];
  }
  const tenantClaim = settings.get('JWT.tenant_claim');
  const tenant = optionalString(payload, tenantClaim);
  return {
    email,
    firstName: optionalString(payload, 'first_name'),
    lastName: optionalString(payload, 'last_name'),
    groups,
    tenant: tenant === '' ? null : tenant,
    jti,
    expiresAt: new Date(exp * 1000),
    subject: typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : email.toLowerCase(),
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${error.claim}" claim is not acceptable: ${error.reason === 'missing' ? 'it is missing' : error.message}.`;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'No key of the configured JWKS matches the token.';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return 'The configured JWKS could not be read.';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The token algorithm is not accepted.';
  if (error instanceof joseErrors.JOSEError) return `The token is not valid: ${error.message}.`;
  return 'The token is not valid.';
}

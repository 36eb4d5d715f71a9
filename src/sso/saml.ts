import { X509Certificate } from 'node:crypto';
import { providerEnabled } from './provider-settings.js';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { SAML, ValidateInResponseTo, generateServiceProviderMetadata, type CacheItem, type CacheProvider, type Profile } from '@node-saml/node-saml';
// node-saml's own xml2js front end (same parser settings it verifies with); the package has no exports map.
import { parseXml2JsFromString } from '@node-saml/node-saml/lib/xml.js';
import type { XmlJsObject } from '@node-saml/node-saml/lib/types.js';
import { LRUCache } from 'lru-cache';
import { PluraError, describeError } from '../core/errors.js';
import type { IdentityDb } from '../access/identity.store.js';
import type { Scope } from '../access/context.js';
import type { Platform } from '../platform/platform.js';
import type { SettingsView } from '../settings/settings.js';

/**
 * SAML 2.0 service provider (Web Browser SSO profile, SP-initiated only): the
 * protocol side, free of HTTP. node-saml verifies signatures, times, audience and
 * InResponseTo; this module adds what it leaves out (destination, recipient,
 * issuer, replayed assertions, request ids shared by every node through the
 * scope's database) and maps the assertion to an SSO profile.
 */

/** Prefix of the AuthnRequest ids waiting for their response in `sso_used_jti`. */
export const SAML_REQUEST_PREFIX = 'saml-req:';
/** Prefix of accepted assertion ids in `sso_used_jti` (a replay is refused). */
export const SAML_ASSERTION_PREFIX = 'saml:';
/** How long an AuthnRequest waits for its response (the user may have to sign in, or enrol MFA, at the IdP). */
export const SAML_REQUEST_LIFETIME_MS = 15 * 60_000;
/** Largest form body the ACS accepts; real responses are a few KB, even with many groups. */
export const SAML_MAX_BODY_BYTES = 256 * 1024;

const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_ID_LENGTH = 256;

/** The identity provider as its metadata describes it. */
export interface IdpMetadata {
  readonly entityId: string;
  /** SingleSignOnService with the HTTP-Redirect binding. */
  readonly ssoUrl: string;
  /** Signing certificates (PEM); any of them may sign. */
  readonly certificates: readonly string[];
}

/** This service provider's names in one scope, as seen from the request's origin. */
export interface SpEndpoints {
  readonly entityId: string;
  readonly acsUrl: string;
  readonly metadataUrl: string;
}

/** What a verified assertion says about the user. */
export interface SamlIdentity {
  readonly issuer: string;
  readonly nameId: string;
  readonly assertionId: string;
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly groups: readonly string[];
}

/** A response this SP will not accept; `malformed` when it was not even a SAML response. */
export class SamlRefusal extends Error {
  constructor(
    message: string,
    readonly malformed = false,
  ) {
    super(message);
    this.name = 'SamlRefusal';
  }
}

export function requireSamlEnabled(platform: Platform, scope: Scope): void {
  if (!providerEnabled(platform, scope, 'SAML')) {
    throw new PluraError('sso_not_configured', `SAML sign-in is not enabled for this ${scope.kind === 'tenant' ? 'tenant' : 'platform'}.`);
  }
}

/** Entity id (`[SAML] sp_entity_id`, default the metadata URL) and endpoints under `origin` (`https://host[:port]`). */
export function serviceProviderEndpoints(settings: SettingsView, origin: string): SpEndpoints {
  const metadataUrl = `${origin}/auth/saml/metadata`;
  return { entityId: settings.get('SAML.sp_entity_id') || metadataUrl, acsUrl: `${origin}/auth/saml/acs`, metadataUrl };
}

/** SP metadata for the IdP administrator: HTTP-POST ACS, assertions must be signed, requests are not. */
export function serviceProviderMetadata(sp: SpEndpoints): string {
  return generateServiceProviderMetadata({ issuer: sp.entityId, callbackUrl: sp.acsUrl, identifierFormat: NAMEID_UNSPECIFIED, wantAssertionsSigned: true });
}

/** Where the scope's IdP metadata lives: relative paths inside the tenant's folder (or data/config for the platform). */
export function idpMetadataPath(platform: Platform, scope: Scope, settings: SettingsView): string {
  const file = settings.get('SAML.idp_metadata_file').trim();
  if (file === '') {
    throw new PluraError('sso_not_configured', 'SAML is enabled but [SAML] idp_metadata_file is empty: save the identity provider\'s metadata XML and name it there.');
  }
  if (isAbsolute(file)) return file;
  return resolve(scope.kind === 'tenant' ? platform.paths.tenantDir(scope.tenant.slug) : platform.paths.configDir, file);
}

type XmlNode = XmlJsObject;

function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  if (Array.isArray(value)) return value;
  return value !== undefined && typeof value === 'object' ? [value] : [];
}

function attribute(node: XmlNode | undefined, name: string): string | undefined {
  const attributes: Record<string, unknown> | undefined = node?.$;
  const value = attributes?.[name];
  return typeof value === 'string' ? value : undefined;
}

function text(node: XmlNode | undefined): string | undefined {
  const value = node?._;
  return typeof value === 'string' ? value : undefined;
}

/** A certificate from metadata (base64 DER, perhaps wrapped) as PEM; refuses anything that is not one. */
function certificateToPem(base64: string): string {
  const der = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
  return new X509Certificate(der).toString();
}

/** Reads entityID, the HTTP-Redirect SSO URL and the signing certificates of an IdP (EntityDescriptor or the first IdP of an EntitiesDescriptor). */
export async function parseIdpMetadata(xml: string): Promise<IdpMetadata> {
  if (/<!DOCTYPE/i.test(xml)) throw new Error('metadata with a DOCTYPE is not accepted');
  const doc = await parseXml2JsFromString(xml);
  const candidates = [...children(doc, 'EntityDescriptor'), ...children(doc, 'EntitiesDescriptor').flatMap((group) => children(group, 'EntityDescriptor'))];
  const entity = candidates.find((candidate) => children(candidate, 'IDPSSODescriptor').length > 0);
  if (!entity) throw new Error('no EntityDescriptor with an IDPSSODescriptor');
  const entityId = attribute(entity, 'entityID');
  if (!entityId) throw new Error('the EntityDescriptor has no entityID');
  const descriptors = children(entity, 'IDPSSODescriptor');
  const service = descriptors.flatMap((descriptor) => children(descriptor, 'SingleSignOnService')).find((candidate) => attribute(candidate, 'Binding') === HTTP_REDIRECT);
  const location = attribute(service, 'Location');
  if (location === undefined || !/^https?:\/\//.test(location) || !URL.canParse(location)) {
    throw new Error('no SingleSignOnService with the HTTP-Redirect binding and an http(s) Location');
  }
  const certificates = descriptors
    .flatMap((descriptor) => children(descriptor, 'KeyDescriptor'))
    .filter((key) => {
      const use = attribute(key, 'use');
      return use === undefined || use === 'signing';
    })
    .flatMap((key) => children(key, 'KeyInfo'))
    .flatMap((info) => children(info, 'X509Data'))
    .flatMap((data) => children(data, 'X509Certificate'))
    .map((certificate) => text(certificate) ?? '')
    .filter((value) => value.trim() !== '')
    .map((value) => {
      try {
        return certificateToPem(value);
      } catch (error) {
        throw new Error(`a signing certificate is not a valid X.509 certificate (${describeError(error)})`);
      }
    });
  if (certificates.length === 0) throw new Error('no signing certificate (KeyDescriptor use="signing" with an X509Certificate)');
  return { entityId, ssoUrl: location, certificates: [...new Set(certificates)] };
}

const metadataCache = new LRUCache<string, { readonly stamp: string; readonly metadata: IdpMetadata }>({ max: 1000 });

/** The IdP metadata at `path`, re-read when the file changes; any problem is a clear `sso_not_configured`. */
export async function loadIdpMetadata(path: string): Promise<IdpMetadata> {
  let stamp: string;
  try {
    const info = await stat(path);
    stamp = `${info.mtimeMs}:${info.size}`;
    if (info.size > 1024 * 1024) throw new Error('larger than 1 MB');
  } catch (error) {
    throw new PluraError('sso_not_configured', `The SAML identity provider metadata ${path} cannot be read: ${describeError(error)}.`);
  }
  const cached = metadataCache.get(path);
  if (cached && cached.stamp === stamp) return cached.metadata;
  try {
    const metadata = await parseIdpMetadata(await readFile(path, 'utf8'));
    metadataCache.set(path, { stamp, metadata });
    return metadata;
  } catch (error) {
    throw new PluraError('sso_not_configured', `The SAML identity provider metadata ${path} is not usable: ${describeError(error)}.`);
  }
}

/** AuthnRequest ids in the scope's database, so the response may reach any node. */
class StoredRequestIds implements CacheProvider {
  constructor(private readonly db: IdentityDb) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const createdAt = Date.now();
    await this.db.deleteFrom('sso_used_jti').where('jti', 'like', 'saml%').where('expires_at', '<', new Date(createdAt).toISOString()).execute();
    await this.db
      .insertInto('sso_used_jti')
      .values({ jti: SAML_REQUEST_PREFIX + key, expires_at: new Date(createdAt + SAML_REQUEST_LIFETIME_MS).toISOString() })
      .execute();
    return { value, createdAt };
  }

  // Reading and removing go through consumeRequestId instead (atomic, one use).
  getAsync(): Promise<string | null> {
    return Promise.resolve(null);
  }

  removeAsync(): Promise<string | null> {
    return Promise.resolve(null);
  }
}

/** The one request id a response answers, already taken out of the database. */
class ConsumedRequestId implements CacheProvider {
  constructor(
    private readonly id: string,
    private readonly createdAt: string,
  ) {}

  saveAsync(): Promise<CacheItem | null> {
    return Promise.resolve(null);
  }

  getAsync(key: string): Promise<string | null> {
    return Promise.resolve(key === this.id ? this.createdAt : null);
  }

  removeAsync(key: string | null): Promise<string | null> {
    return Promise.resolve(key);
  }
}

function samlClient(sp: SpEndpoints, idp: IdpMetadata, settings: SettingsView, cacheProvider: CacheProvider): SAML {
  return new SAML({
    callbackUrl: sp.acsUrl,
    issuer: sp.entityId,
    audience: sp.entityId,
    entryPoint: idp.ssoUrl,
    idpIssuer: idp.entityId,
    idpCert: [...idp.certificates],
    identifierFormat: NAMEID_UNSPECIFIED,
    // Whatever the IdP's policy (MFA, passkeys, ...) decides is how the user signs in.
    disableRequestedAuthnContext: true,
    wantAssertionsSigned: true,
    // A signed response is welcome, but the assertion must carry its own signature.
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: settings.get('SAML.clock_skew_seconds') * 1000,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_LIFETIME_MS,
    cacheProvider,
  });
}

/** A fresh AuthnRequest (id remembered in `db`) as the IdP URL to redirect to; RelayState carries `returnTo`. */
export async function authorizeUrl(db: IdentityDb, sp: SpEndpoints, idp: IdpMetadata, settings: SettingsView, returnTo: string): Promise<string> {
  return samlClient(sp, idp, settings, new StoredRequestIds(db)).getAuthorizeUrlAsync(returnTo, undefined, {});
}

/** Takes a waiting request id out of the database (one use); its creation time, or null when unknown or expired. */
async function consumeRequestId(db: IdentityDb, id: string, now: Date): Promise<string | null> {
  const row = await db
    .deleteFrom('sso_used_jti')
    .where('jti', '=', SAML_REQUEST_PREFIX + id)
    .returning('expires_at')
    .executeTakeFirst();
  if (!row) return null;
  const expiresAt = Date.parse(row.expires_at);
  if (!(expiresAt > now.getTime())) return null;
  return new Date(expiresAt - SAML_REQUEST_LIFETIME_MS).toISOString();
}

/** Remembers an accepted assertion id until it expires; false when it was seen before. */
async function consumeAssertionId(db: IdentityDb, id: string, expiresAt: Date): Promise<boolean> {
  const inserted = await db
    .insertInto('sso_used_jti')
    .values({ jti: SAML_ASSERTION_PREFIX + id, expires_at: expiresAt.toISOString() })
    .onConflict((oc) => oc.column('jti').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** node-saml's terse errors, said so an administrator knows what to fix. */
function explain(error: unknown): string {
  // The text may come from the (unauthenticated) response itself: keep it short.
  const message = describeError(error).slice(0, 300);
  if (/SAML provider returned/i.test(message)) return `The identity provider refused the sign-in: ${message}.`;
  if (/multiple assertions/i.test(message)) return 'The SAML response holds more than one assertion; only one signed assertion is accepted.';
  if (/signature/i.test(message)) {
    return `The SAML assertion is not signed by the identity provider's certificate from its metadata (${message}).`;
  }
  if (/expired|not yet valid|subject confirmation/i.test(message)) return `The SAML assertion is outside its validity period, beyond the tolerated clock skew (${message}).`;
  if (/audience/i.test(message)) return `The SAML assertion is meant for another service provider (${message}).`;
  if (/Missing SAML assertion/i.test(message)) return 'The SAML response holds no assertion.';
  return `The SAML response was refused: ${message}.`;
}

function attributeValues(attributes: Record<string, unknown>, name: string): string[] {
  if (name === '') return [];
  const value = attributes[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((item): item is string => typeof item === 'string').map((item) => item.trim()).filter((item) => item !== '');
}

function latest(...instants: (string | undefined)[]): number | null {
  const times = instants.filter((value): value is string => value !== undefined).map((value) => Date.parse(value)).filter((value) => Number.isFinite(value));
  return times.length > 0 ? Math.max(...times) : null;
}

/**
 * Verifies a base64 `SAMLResponse` posted to this SP and returns who it names.
 * Every failure is a SamlRefusal with a message for the administrator; nothing is
 * written except the consumed request id and, on success, the assertion id.
 */
export async function verifySamlResponse(db: IdentityDb, sp: SpEndpoints, idp: IdpMetadata, settings: SettingsView, samlResponse: string, now = new Date()): Promise<SamlIdentity> {
  const compact = samlResponse.replace(/\s+/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !BASE64.test(compact)) throw new SamlRefusal('SAMLResponse is not base64.', true);
  const xml = Buffer.from(compact, 'base64').toString('utf8');
  // SAML messages carry no DTD (SAML core §1.3); one here can only be an entity attack.
  if (/<!DOCTYPE/i.test(xml)) throw new SamlRefusal('SAMLResponse must not contain a DOCTYPE.', true);
  let doc: XmlNode;
  try {
    doc = await parseXml2JsFromString(xml);
  } catch (error) {
    throw new SamlRefusal(`SAMLResponse is not well-formed XML (${describeError(error).split('\n')[0]}).`, true);
  }
  const response = children(doc, 'Response')[0];
  if (!response) throw new SamlRefusal('SAMLResponse is not a SAML 2.0 Response.', true);

  const inResponseTo = attribute(response, 'InResponseTo');
  if (!inResponseTo) {
    throw new SamlRefusal('Unsolicited (IdP-initiated) SAML responses are not accepted: start the sign-in from this site (/auth/saml/login).');
  }
  if (inResponseTo.length > MAX_ID_LENGTH) throw new SamlRefusal('The InResponseTo of the SAML response is too long.', true);
  const destination = attribute(response, 'Destination');
  if (destination !== undefined && destination !== sp.acsUrl) {
    throw new SamlRefusal(`The SAML response is addressed to ${destination.slice(0, 200)}, not to this service's ACS ${sp.acsUrl}.`);
  }
  const createdAt = await consumeRequestId(db, inResponseTo, now);
  if (createdAt === null) {
    throw new SamlRefusal('The SAML response answers no sign-in started here (unknown, expired or already used request): start the sign-in again.');
  }

  // node-saml needs an audience restriction to check (and fails obscurely without one); an assertion without it is for anyone.
  const unverified = children(response, 'Assertion');
  if (unverified.length === 1 && children(children(unverified[0], 'Conditions')[0], 'AudienceRestriction').length === 0) {
    throw new SamlRefusal('The SAML assertion has no audience restriction (Conditions/AudienceRestriction), so it is not bound to this service.');
  }

  let profile: Profile | null;
  try {
    ({ profile } = await samlClient(sp, idp, settings, new ConsumedRequestId(inResponseTo, createdAt)).validatePostResponseAsync({ SAMLResponse: compact }));
  } catch (error) {
    throw new SamlRefusal(explain(error));
  }
  if (!profile) throw new SamlRefusal('The identity provider did not sign the user in.');

  const assertion = children(profile.getAssertion?.() as XmlNode | undefined, 'Assertion')[0];
  if (!assertion) throw new SamlRefusal('The SAML response holds no signed assertion.');
  const issuer = text(children(assertion, 'Issuer')[0]);
  if (issuer !== idp.entityId) {
    throw new SamlRefusal(`The SAML assertion was issued by ${(issuer ?? '(no issuer)').slice(0, 200)}, not by the configured identity provider ${idp.entityId}.`);
  }
  const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation').filter((confirmation) => attribute(confirmation, 'Method') === BEARER);
  const confirmationData = confirmations.flatMap((confirmation) => children(confirmation, 'SubjectConfirmationData'));
  if (confirmationData.length === 0) throw new SamlRefusal('The SAML assertion has no bearer subject confirmation.');
  const strayRecipient = confirmationData.map((data) => attribute(data, 'Recipient')).find((recipient) => recipient !== sp.acsUrl);
  if (strayRecipient !== undefined || confirmationData.some((data) => attribute(data, 'Recipient') === undefined)) {
    throw new SamlRefusal(`The SAML assertion is for the recipient ${(strayRecipient ?? '(none)').slice(0, 200)}, not for this service's ACS ${sp.acsUrl}.`);
  }
  const assertionId = attribute(assertion, 'ID');
  if (!assertionId || assertionId.length > MAX_ID_LENGTH) throw new SamlRefusal('The SAML assertion has no usable ID.');
  const nameId = profile.nameID;
  if (typeof nameId !== 'string' || nameId.trim() === '') throw new SamlRefusal('The SAML assertion names no subject (NameID).');

  // Remember the assertion while any node could still accept it.
  const skewMs = settings.get('SAML.clock_skew_seconds') * 1000;
  const conditions = children(assertion, 'Conditions')[0];
  const validUntil = latest(attribute(conditions, 'NotOnOrAfter'), ...confirmationData.map((data) => attribute(data, 'NotOnOrAfter')));
  const keepUntil = Math.max(now.getTime() + SAML_REQUEST_LIFETIME_MS, (validUntil ?? 0) + skewMs);
  if (!(await consumeAssertionId(db, assertionId, new Date(keepUntil)))) {
    throw new SamlRefusal('This SAML assertion was already used; every assertion is good for one sign-in only.');
  }

  const attributes: Record<string, unknown> = typeof profile['attributes'] === 'object' && profile['attributes'] !== null ? (profile['attributes'] as Record<string, unknown>) : {};
  const email = attributeValues(attributes, settings.get('SAML.attribute_email'))[0] ?? (EMAIL_LIKE.test(nameId.trim()) ? nameId.trim() : undefined);
  if (!email) {
    throw new SamlRefusal(`The SAML assertion carries no email: neither the attribute "${settings.get('SAML.attribute_email')}" nor an email address as NameID.`);
  }
  return {
    issuer,
    nameId: nameId.trim(),
    assertionId,
    email,
    firstName: attributeValues(attributes, settings.get('SAML.attribute_first_name'))[0] ?? null,
    lastName: attributeValues(attributes, settings.get('SAML.attribute_last_name'))[0] ?? null,
    groups: attributeValues(attributes, settings.get('SAML.attribute_groups')),
  };
}

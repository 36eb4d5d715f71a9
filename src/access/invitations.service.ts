import { randomBytes } from 'node:crypto';
import { PluraError, describeError } from '../core/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { assertPasswordSignInAllowed, isBreakGlassDenied } from '../sso/sso-sign-in.js';
import { escapeHtml, isMailAddress, mailSettingsFor, sendMail, type OutgoingMail } from '../workspace/mail.js';
import type { Platform } from '../platform/platform.js';
import { actorForUser } from './actors.js';
import { assertIpNotBlocked, bruteForceRule, recordLoginFailure } from './brute-force.js';
import { identityDbFor, settingsFor, type ActContext, type Scope } from './context.js';
import { identityStore, type IdentityDb, type UserRow } from './identity.store.js';
import { invitationStore, type InvitationRow } from './invitations.store.js';
import { signIn, type Client, type SignInResult } from './login.service.js';
import { MATOMO_PASSWORD_MAX, MATOMO_PASSWORD_MIN } from './password-policy.js';
import { actorLabel, can, decideInvite, siteFilter, type Actor, type InviteeFacts } from './policy.js';
import { hashSecretValue } from './tokens.js';
import { acceptNewPassword, authorize, createUser, passwordPolicyOf, requireUser, scopeContext, type CreateUserInput, type UserView } from './users.service.js';

/** Invitation tokens: 32 random bytes, base64url (43 characters). */
const INVITATION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What the inviter gets back: the link (shown once) and whether it was mailed. */
export interface InvitationOffer {
  readonly url: string;
  readonly expiresAt: string;
  readonly emailed: boolean;
  /** Why mailing failed; the invitation stands regardless. */
  readonly emailError?: string;
}

/** What the invitation page shows before a password is chosen. */
export interface InvitationView {
  readonly login: string;
  readonly email: string;
  readonly tenantName: string;
  readonly expiresAt: string;
  readonly passwordPolicy: {
    readonly minLength: number;
    readonly maxLength: number;
    readonly requireComplexity: boolean;
    /** The rules in words, as the refusal messages word them. */
    readonly hints: readonly string[];
  };
}

const anonymousOf = (scope: Scope): Actor => ({ kind: 'anonymous', tenant: scope.kind === 'tenant' ? scope.tenant.slug : null, sites: new Map() });

function scopeName(platform: Platform, scope: Scope): string {
  return scope.kind === 'tenant' ? scope.tenant.name : platform.settings.get('General.platform_host') || 'Plura';
}

/** Password sign-in must be possible for the user, or a password is of no use to it (force SSO). */
function assertPasswordUsable(platform: Platform, scope: Scope, user: UserRow): void {
  assertPasswordSignInAllowed(platform, scope, user.login);
  if (isBreakGlassDenied(platform, scope, user)) {
    throw new PluraError('sso_required', 'Password sign-in is turned off here: sign in with your organisation\'s single sign-on.');
  }
}

/**
 * Issues a one-time invitation for a user of the context's scope who has no password
 * yet (a newer one replaces a pending one): valid `General.setup_link_validity_hours`,
 * stored only as a keyed hash, audited, and mailed through the scope's `[Mail]`
 * settings when an SMTP host is set. A mail failure keeps the invitation and says why.
 * `origin` is `scheme://host[:port]` of the host whose store holds the user.
 */
export async function inviteUser(ctx: ActContext, login: string, origin: string, now = new Date()): Promise<InvitationOffer> {
  const db = identityDbFor(ctx.platform, ctx.scope);
  // Callers who could create no user at all learn nothing about which logins exist.
  const manager = ctx.scope.kind === 'tenant' ? 'manage_tenant' : 'manage_platform';
  if (!can(ctx.actor, manager, scopeContext(ctx.scope))) {
    const managed = ctx.scope.kind === 'tenant' ? siteFilter(ctx.actor, 'manage_site_users', ctx.scope.tenant.slug) : [];
    if (managed !== 'all' && managed.length === 0) authorize(ctx, manager, scopeContext(ctx.scope), 'invite users');
  }
  const user = await requireUser(db, login);
  const invitee: InviteeFacts =
    ctx.scope.kind === 'tenant'
      ? { context: { kind: 'tenant', tenant: ctx.scope.tenant.slug }, superuser: user.superuser === 1, sites: await identityStore.grantsOf(db, user.id) }
      : { context: { kind: 'platform' }, superuser: user.superuser === 1, sites: new Map() };
  const decision = decideInvite(ctx.actor, invitee);
  if (!decision.allowed) {
    throw new PluraError(ctx.actor.kind === 'anonymous' ? 'unauthenticated' : 'forbidden', `You may not invite the user '${user.login}': ${decision.reason}.`);
  }
  if (user.password_hash !== null) {
    throw new PluraError('invalid_input', `The user '${user.login}' already has a password; invitations are for users who have none yet.`);
  }
  if (user.deactivated_at !== null) throw new PluraError('invalid_input', `The user '${user.login}' is deactivated; reactivate it before inviting it.`);
  assertPasswordUsable(ctx.platform, ctx.scope, user);

  const token = randomBytes(32).toString('base64url');
  const hours = ctx.platform.settings.get('General.setup_link_validity_hours');
  const expiresAt = new Date(now.getTime() + hours * 3_600_000).toISOString();
  const mail = mailSettingsFor(ctx.platform, ctx.scope.kind === 'tenant' ? ctx.scope.tenant : null);
  const mailing = mail.host !== '';
  const row: InvitationRow = { token_hash: hashSecretValue(ctx.platform.secret, token), user_id: user.id, created_at: now.toISOString(), expires_at: expiresAt, used_at: null, invited_by: actorLabel(ctx.actor) };
  await db.transaction().execute(async (trx) => {
    const replaced = await invitationStore.replacePending(trx, row);
    await recordAudit(ctx, 'user.invited', { after: { login: user.login, expiresAt, replaced, mailTo: mailing ? user.email : null } }, trx);
  });
  const url = `${origin}/invitation?token=${token}`;
  if (!mailing) return { url, expiresAt, emailed: false };
  try {
    if (!isMailAddress(user.email)) throw new Error(`"${user.email}" is not an address mail can be sent to.`);
    await sendMail(mail, invitationMail(ctx, user, url, expiresAt));
    return { url, expiresAt, emailed: true };
  } catch (error) {
    const emailError = describeError(error);
    await recordAudit(ctx, 'user.invitation_email_failed', { after: { login: user.login, error: emailError } });
    return { url, expiresAt, emailed: false, emailError };
  }
}

/**
 * POST /api/v1/users with `invite`: creates the user without a password, then invites
 * it, with the same rights as creating it. Checks first what would stop the invitation
 * (force SSO), so no user is left behind uninvited.
 */
export async function createAndInviteUser(ctx: ActContext, input: Omit<CreateUserInput, 'password'>, origin: string): Promise<UserView & { invitation: InvitationOffer }> {
  assertPasswordSignInAllowed(ctx.platform, ctx.scope, input.login.trim());
  // Under force SSO a break-glass login keeps a password only as a super user (isBreakGlassDenied, for a user not made yet).
  if (settingsFor(ctx.platform, ctx.scope).get('SSO.force_sso') && !input.superuser) {
    throw new PluraError('sso_required', 'Password sign-in is turned off here: only break-glass super users get a password; users sign in with single sign-on.');
  }
  const user = await createUser(ctx, { ...input, password: null });
  return { ...user, invitation: await inviteUser(ctx, user.login, origin) };
}

function invitationMail(ctx: ActContext, user: UserRow, url: string, expiresAt: string): OutgoingMail {
  const name = scopeName(ctx.platform, ctx.scope);
  const product = ctx.scope.kind === 'tenant' ? (ctx.scope.tenant.branding.productName ?? 'Plura') : 'Plura';
  const greeting = user.first_name ?? user.alias ?? user.login;
  const until = `${expiresAt.slice(0, 16).replace('T', ' ')} UTC`;
  const text = [
    `Hello ${greeting},`,
    '',
    `You are invited to ${name} on ${product}, as the user "${user.login}".`,
    'Choose your password here:',
    url,
    '',
    `The link works once, until ${until}. If you did not expect this invitation, ignore this email.`,
  ].join('\n');
  const html = [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(`Your invitation to ${name}`)}</title></head><body style="font-family:sans-serif">`,
    `<p>Hello ${escapeHtml(greeting)},</p>`,
    `<p>You are invited to ${escapeHtml(name)} on ${escapeHtml(product)}, as the user <b>${escapeHtml(user.login)}</b>.</p>`,
    `<p><a href="${escapeHtml(url)}">Choose your password</a></p>`,
    `<p style="color:#555;font-size:13px">The link works once, until ${escapeHtml(until)}. If you did not expect this invitation, ignore this email.<br>${escapeHtml(url)}</p>`,
    '</body></html>',
  ].join('\n');
  return { to: [user.email], subject: `Your invitation to ${name}`, html, text, attachments: [] };
}

/** Looks a presented token up in the scope's own store: unknown tokens count as a failed sign-in from the IP. */
async function findInvitation(platform: Platform, scope: Scope, db: IdentityDb, token: string, ip: string | null, now: Date): Promise<{ invitation: InvitationRow; user: UserRow }> {
  await assertIpNotBlocked(db, ip, bruteForceRule(settingsFor(platform, scope)), now);
  const found = INVITATION_TOKEN_PATTERN.test(token) ? await invitationStore.findWithUser(db, hashSecretValue(platform.secret, token)) : undefined;
  if (!found) {
    await recordLoginFailure(db, ip, null, now);
    throw new PluraError('not_found', 'This invitation link is unknown here: it may have been replaced by a newer one, or its user removed. Ask an administrator for a new invitation.');
  }
  return found;
}

/** Refuses an invitation that exists but cannot be used now. */
function assertUsable(found: { invitation: InvitationRow; user: UserRow }, now: Date): void {
  const { invitation, user } = found;
  if (invitation.used_at !== null) throw new PluraError('invitation_gone', 'This invitation was already used; sign in with your password, or ask an administrator for a new invitation.');
  if (Date.parse(invitation.expires_at) <= now.getTime()) throw new PluraError('invitation_gone', 'This invitation has expired; ask an administrator for a new one.');
  if (user.deactivated_at !== null) throw new PluraError('user_deactivated', 'This user is deactivated; ask an administrator of your organisation.');
  if (user.password_hash !== null) throw new PluraError('invitation_gone', 'This user has a password already; sign in with it.');
}

function passwordHints(ctx: Pick<ActContext, 'platform' | 'scope'>): InvitationView['passwordPolicy'] {
  const policy = passwordPolicyOf(ctx);
  const minLength = Math.max(MATOMO_PASSWORD_MIN, policy.minLength);
  const hints = [`At least ${minLength} and at most ${MATOMO_PASSWORD_MAX} characters, with at least two different characters.`];
  if (policy.requireComplexity) hints.push('A mix of at least three of: lower case, upper case, digits, symbols.');
  hints.push('Neither the login nor the email address in it.');
  return { minLength, maxLength: MATOMO_PASSWORD_MAX, requireComplexity: policy.requireComplexity, hints };
}

/** GET /api/v1/invitations/:token: whom the invitation is for and what a password must be like. */
export async function describeInvitation(platform: Platform, scope: Scope, token: string, client: Client, now = new Date()): Promise<InvitationView> {
  const db = identityDbFor(platform, scope);
  const found = await findInvitation(platform, scope, db, token, client.ip, now);
  assertUsable(found, now);
  return {
    login: found.user.login,
    email: found.user.email,
    tenantName: scopeName(platform, scope),
    expiresAt: found.invitation.expires_at,
    passwordPolicy: passwordHints({ platform, scope }),
  };
}

/**
 * POST /auth/invitation: sets the invited user's first password (the scope's password
 * policy applies; a refused password leaves the link usable), spends the link exactly
 * once, then signs the user in through the login service, as POST /auth/login does.
 */
export async function acceptInvitation(
  platform: Platform,
  scope: Scope,
  input: { token: string; password: string },
  client: Client & { remember: boolean },
  now = new Date(),
): Promise<SignInResult> {
  const db = identityDbFor(platform, scope);
  let found: { invitation: InvitationRow; user: UserRow };
  try {
    found = await findInvitation(platform, scope, db, input.token, client.ip, now);
  } catch (error) {
    if (error instanceof PluraError && error.code === 'not_found') await recordAudit({ platform, scope, actor: anonymousOf(scope), ip: client.ip }, 'user.invitation_refused', { after: { reason: 'unknown token' } });
    throw error;
  }
  assertUsable(found, now);
  const { user, invitation } = found;
  assertPasswordUsable(platform, scope, user);
  const ctx: ActContext = { platform, scope, actor: await actorForUser(scope, db, user), ip: client.ip };
  const hash = await acceptNewPassword(ctx, db, input.password, { id: user.id, login: user.login, email: user.email });
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    if (!(await invitationStore.claim(trx, invitation.token_hash, at))) {
      throw new PluraError('invitation_gone', 'This invitation was already used; sign in with your password, or ask an administrator for a new invitation.');
    }
    if (!(await invitationStore.setFirstPassword(trx, user.id, hash, at))) {
      throw new PluraError('invitation_gone', 'This invitation can no longer be used: its user has a password already or was deactivated.');
    }
    await recordAudit(ctx, 'user.invitation_accepted', { after: { login: user.login, invitedBy: invitation.invited_by, invitedAt: invitation.created_at } }, trx);
  });
  return signIn(platform, scope, { login: user.login, password: input.password }, client);
}

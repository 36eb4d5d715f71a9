import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { renderMatomoResult, type MatomoValue } from '../matomo-api/render.js';
import type { Platform } from '../platform/platform.js';
import type { Tenant } from '../tenancy/tenant.js';

/**
 * Outgoing mail: the `[Mail]` settings of a tenant (or of the platform, for platform
 * users), one SMTP delivery through nodemailer, and the email a scheduled report
 * becomes (an HTML table and a CSV file per report, rendered exactly as the Matomo API
 * renders format=html and format=csv).
 */

export interface MailSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user: string;
  readonly password: string;
  readonly fromAddress: string;
  readonly fromName: string;
}

/** A tenant's mail settings (its config.ini over common.ini), or the platform's when `tenant` is null. */
export function mailSettingsFor(platform: Platform, tenant: Tenant | null): MailSettings {
  const settings = tenant ? platform.settings.forTenant(tenant.slug) : platform.settings;
  const fallbackHost = tenant?.hosts[0] ?? (platform.settings.get('General.platform_host') || 'localhost');
  return {
    host: settings.get('Mail.smtp_host').trim(),
    port: settings.get('Mail.smtp_port'),
    secure: settings.get('Mail.smtp_secure'),
    user: settings.get('Mail.smtp_user'),
    password: settings.get('Mail.smtp_password'),
    fromAddress: settings.get('Mail.from_address').trim() || `noreply@${fallbackHost}`,
    fromName: settings.get('Mail.from_name'),
  };
}

/** Sending failed (not configured, server down or refusing): worth retrying on the next run. */
export class MailError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailError';
  }
}

export interface MailAttachment {
  readonly filename: string;
  readonly content: string;
  readonly contentType: string;
}

export interface OutgoingMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments: readonly MailAttachment[];
}

export interface MailReceipt {
  readonly messageId: string;
  readonly accepted: readonly string[];
}

/**
 * An address a report may be mailed to: one plain `local@domain` (the HTML living
 * standard's grammar), so a value can never smuggle a second recipient or a header.
 */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isMailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

// A hung server must not hold a scheduler slot for long.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const;

const addressText = (value: string | { address: string }): string => (typeof value === 'string' ? value : value.address);

/** Delivers one message; throws MailError with the server's answer when it fails or refuses every recipient. */
export async function sendMail(settings: MailSettings, mail: OutgoingMail): Promise<MailReceipt> {
  if (settings.host === '') throw new MailError('Mail is not configured: set [Mail] smtp_host.');
  const options: SMTPTransport.Options = {
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user !== '' ? { auth: { user: settings.user, pass: settings.password } } : {}),
    ...TIMEOUTS,
  };
  const transport = nodemailer.createTransport(options);
  try {
    const info = await transport.sendMail({
      from: { name: settings.fromName, address: settings.fromAddress },
      // Address objects are used as given: nodemailer does not parse them for more recipients.
      to: mail.to.map((address) => ({ name: '', address })),
      subject: mail.subject.replace(/[\r\n]+/g, ' '),
      html: mail.html,
      text: mail.text,
      attachments: mail.attachments.map((attachment) => ({ filename: attachment.filename, content: attachment.content, contentType: attachment.contentType })),
    });
    const accepted = info.accepted.map(addressText);
    if (accepted.length === 0) throw new MailError(`The SMTP server ${settings.host}:${settings.port} refused every recipient: ${info.response}`);
    return { messageId: info.messageId, accepted };
  } catch (error) {
    if (error instanceof MailError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new MailError(`Sending mail through ${settings.host}:${settings.port} failed: ${reason}`, { cause: error });
  } finally {
    transport.close();
  }
}

// ---------------------------------------------------------------------------
// The email of a scheduled report.

export type ReportMailFormat = 'html_csv' | 'html' | 'csv';

/** One report of the email: its data as the Matomo API returned it, or why it could not be run. */
export interface ReportSection {
  readonly title: string;
  /** Base of the CSV file's name (without `.csv`). */
  readonly filename: string;
  readonly result: { readonly value: MatomoValue } | { readonly error: string };
}

export interface ReportMailInput {
  readonly to: readonly string[];
  readonly title: string;
  /** What the numbers cover, e.g. `day 2026-11-23, site 1`. */
  readonly covers: string;
  readonly sections: readonly ReportSection[];
  readonly format: ReportMailFormat;
  /** Why the recipient gets it (the subscriber's login and the schedule). */
  readonly footer: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The Matomo API's format=html table of a value (cells escaped by the renderer). */
export function htmlTableOf(value: MatomoValue): string {
  return String(renderMatomoResult(value, 'html').body);
}

/** The Matomo API's format=csv of a value, as UTF-8 text (Matomo's report emails do not convert to UTF-16 either). */
export function csvOf(value: MatomoValue): string {
  return String(renderMatomoResult(value, 'csv', { convertToUnicode: false }).body);
}

/** A file name made of safe characters only. */
export function safeFilename(base: string): string {
  const cleaned = base.normalize('NFKD').replace(/[^\w.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80);
  return cleaned === '' ? 'report' : cleaned;
}

export function composeReportMail(input: ReportMailInput): OutgoingMail {
  const withHtml = input.format !== 'csv';
  const withCsv = input.format !== 'html';
  const parts: string[] = [];
  const lines: string[] = [input.title, input.covers, ''];
  const attachments: MailAttachment[] = [];
  const used = new Set<string>();
  for (const section of input.sections) {
    parts.push(`<h2 style="font-size:16px;margin:24px 0 8px">${escapeHtml(section.title)}</h2>`);
    if ('error' in section.result) {
      parts.push(`<p style="color:#a00">${escapeHtml(section.result.error)}</p>`);
      lines.push(`${section.title}: ${section.result.error}`);
      continue;
    }
    if (withHtml) parts.push(htmlTableOf(section.result.value));
    else parts.push('<p>The data is attached as CSV.</p>');
    lines.push(`${section.title}: ${withCsv ? 'see the attached CSV file' : 'see the HTML version of this email'}`);
    if (withCsv) {
      let name = safeFilename(section.filename);
      for (let n = 2; used.has(name); n += 1) name = `${safeFilename(section.filename)}-${n}`;
      used.add(name);
      attachments.push({ filename: `${name}.csv`, content: csvOf(section.result.value), contentType: 'text/csv; charset=utf-8' });
    }
  }
  lines.push('', input.footer);
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(input.title),
    '</title></head><body style="font-family:sans-serif">',
    `<h1 style="font-size:20px">${escapeHtml(input.title)}</h1>`,
    `<p style="color:#555">${escapeHtml(input.covers)}</p>`,
    ...parts,
    `<p style="color:#777;font-size:12px;margin-top:32px">${escapeHtml(input.footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { to: input.to, subject: `${input.title} (${input.covers})`, html, text: lines.join('\n'), attachments };
}

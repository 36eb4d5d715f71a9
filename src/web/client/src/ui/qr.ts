/** A QR code as a data URL; the encoder loads only when a page shows one (MFA enrolment). */
export async function qrDataUrl(text: string): Promise<string> {
  const { toDataURL } = await import('qrcode');
  return toDataURL(text, { margin: 1, width: 200 });
}

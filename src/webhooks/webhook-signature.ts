import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures in the Standard Webhooks layout: the signed content is
 * `<Webhook-Id>.<Webhook-Timestamp>.<body>`, the signature `v1,<base64 HMAC-SHA256>`. The key is
 * the subscription's secret as UTF-8 bytes (the whole string, `whsec_` prefix included).
 */

export const SIGNATURE_VERSION = 'v1';

const mac = (secret: string, id: string, timestamp: string, body: string): Buffer =>
  createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest();

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `${SIGNATURE_VERSION},${mac(secret, id, String(timestampSeconds), body).toString('base64')}`;
}

export interface VerifyOptions {
  /** How far the timestamp may be from `now`, either way: the replay window. Default 300 s. */
  readonly toleranceS?: number;
  readonly now?: Date;
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Header names are matched case-insensitively, as HTTP does. */
type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

/**
 * What a receiver runs on every delivery, before trusting the body: the three headers present,
 * the timestamp within the tolerance of the receiver's clock (an old delivery replayed later, or
 * one dated in the future, is refused), and one of the space-separated signatures matching (several
 * are accepted so a sender can sign under an old and a new secret while they rotate). The compare
 * is constant-time so the expected signature cannot be learnt byte by byte from response times.
 */
export function verify(
  secret: string,
  headers: Headers,
  body: string,
  options: VerifyOptions = {},
): VerifyResult {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (id === undefined || timestamp === undefined || signatures === undefined) {
    return { ok: false, reason: 'missing Webhook-Id, Webhook-Timestamp or Webhook-Signature' };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'Webhook-Timestamp is not unix seconds' };
  const nowS = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const toleranceS = options.toleranceS ?? 300;
  const seconds = Number(timestamp);
  if (seconds < nowS - toleranceS) return { ok: false, reason: 'timestamp too old' };
  if (seconds > nowS + toleranceS) return { ok: false, reason: 'timestamp in the future' };
  // the header text as received is what was signed
  const expected = mac(secret, id, timestamp, body);
  for (const candidate of signatures.split(' ')) {
    const [version, encoded] = candidate.split(',', 2);
    if (version !== SIGNATURE_VERSION || encoded === undefined) continue;
    const given = Buffer.from(encoded, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching signature' };
}

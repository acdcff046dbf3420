// Is a request to the event receiver authentic? Either a shared key in a header (what an EventBridge API
// destination's connection sends), or an HMAC-SHA256 signature over the timestamp and the raw body, for a
// signer put in front. Both compare in constant time; the timestamp bounds how long a captured request
// can be replayed (and replays of one event id are harmless anyway: runs dedupe alerts by it).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type ReceiverAuthentication =
  | {
      kind: 'api-key';
      apiKey: string;
      /** Default `x-api-key`. */
      header?: string;
    }
  | {
      kind: 'hmac';
      /** The shared secret the signer holds. */
      secret: string;
      /** Default `x-retraining-signature`; its value is `sha256=<hex>` (or the bare hex). */
      signatureHeader?: string;
      /** Default `x-retraining-timestamp`: Unix seconds when the request was signed. */
      timestampHeader?: string;
      /** How far the timestamp may be from the receiver's clock. Default 300. */
      maxSkewSeconds?: number;
    }
  /** Nothing is checked: only for a receiver on loopback. */
  | { kind: 'none' };

export const DEFAULT_SIGNATURE_HEADER = 'x-retraining-signature';
export const DEFAULT_TIMESTAMP_HEADER = 'x-retraining-timestamp';
export const DEFAULT_MAX_SKEW_SECONDS = 300;

export type AuthVerdict = { ok: true } | { ok: false; statusCode: 400 | 401; error: string };

/** What the signer signs: `<timestamp>.<raw body>`, so a signature cannot be moved to another time. */
export function signedPayload(timestamp: string, rawBody: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody)]);
}

/** The header value a signer sends: `sha256=` and the hex HMAC-SHA256 of signedPayload. */
export function signRequest(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(signedPayload(timestamp, rawBody)).digest('hex')}`;
}

/** Checks one request. Header names are matched lower-case, as Node gives them. */
export function authenticateRequest(auth: ReceiverAuthentication, headers: Record<string, string | string[] | undefined>, rawBody: Buffer, nowMs = Date.now()): AuthVerdict {
  const header = (name: string) => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  if (auth.kind === 'none') return { ok: true };
  if (auth.kind === 'api-key') {
    const name = (auth.header ?? 'x-api-key').toLowerCase();
    const given = header(name);
    if (given === undefined || given === '') return { ok: false, statusCode: 401, error: `unauthenticated: no ${name} header` };
    return sameBytes(Buffer.from(given), Buffer.from(auth.apiKey)) ? { ok: true } : { ok: false, statusCode: 401, error: `wrong ${name}` };
  }
  const signatureName = (auth.signatureHeader ?? DEFAULT_SIGNATURE_HEADER).toLowerCase();
  const timestampName = (auth.timestampHeader ?? DEFAULT_TIMESTAMP_HEADER).toLowerCase();
  const signature = header(signatureName);
  const timestamp = header(timestampName);
  if (!signature) return { ok: false, statusCode: 401, error: `unsigned: no ${signatureName} header` };
  if (!timestamp) return { ok: false, statusCode: 401, error: `unsigned: no ${timestampName} header (Unix seconds when the request was signed)` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, statusCode: 400, error: `malformed ${timestampName}: "${timestamp.slice(0, 40)}" is not Unix seconds` };
  const hex = /^(?:sha256=)?([0-9a-fA-F]{64})$/.exec(signature)?.[1];
  if (!hex) return { ok: false, statusCode: 400, error: `malformed ${signatureName}: expected sha256=<64 hex digits>` };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  const maxSkew = auth.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (skew > maxSkew) return { ok: false, statusCode: 401, error: `stale ${timestampName}: ${Math.round(skew)} s from the receiver's clock, more than the ${maxSkew} s allowed` };
  const expected = createHmac('sha256', auth.secret).update(signedPayload(timestamp, rawBody)).digest();
  return sameBytes(Buffer.from(hex, 'hex'), expected) ? { ok: true } : { ok: false, statusCode: 401, error: `forged: ${signatureName} does not match the body and timestamp` };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; comparing digests keeps the time independent of where they differ.
  const da = createHmac('sha256', 'compare').update(a).digest();
  const db = createHmac('sha256', 'compare').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

// Scalar values as the readers accept them: strict decimals and ISO 8601 times.

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Strict decimal parsing: Number() would accept '', '0x1f', ' 1 ' and 'Infinity'. Null when not a finite decimal. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time, normalised to `toISOString()` form (UTC, milliseconds). A time without
 * a zone is read as UTC, never as the machine's local time: Ground Truth writes creation-date that way.
 * Null when the text is not such a time or names a day or hour that does not exist.
 */
export function parseIsoTime(text: string): string | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  let time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(time).getUTCDate() !== day) return null;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    time -= sign * offsetMinutes * 60_000;
  }
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

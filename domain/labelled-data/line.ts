// What every format checks before parsing: bytes that are UTF-8, a bounded length, something on the line.
import type { LabelledDataCode } from './codes';

export interface Rejection {
  ok: false;
  code: LabelledDataCode;
  reason: string;
}

export function reject(code: LabelledDataCode, reason: string): Rejection {
  return { ok: false, code, reason };
}

export type Outcome<T> = { ok: true; value: T } | Rejection;

/** A line ready to parse (its text), or why it is not, with the text the quarantine keeps. */
export type PreparedLine = string | (Rejection & { text: string });

const PREVIEW_CHARS = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Index of the first byte that does not start a valid UTF-8 sequence (overlongs and surrogates included), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function utf8Length(text: string): number {
  // Every UTF-16 unit is at least one UTF-8 byte and at most three, so count exactly only when it matters.
  return utf8Encoder.encode(text).length;
}

function preview(text: string, totalBytes: number): string {
  return `${text.slice(0, PREVIEW_CHARS)}… (${totalBytes} bytes in all)`;
}

/**
 * Decodes and bounds one line. Bytes are checked exactly; a string was decoded by someone else, and a
 * decoder that is not fatal leaves U+FFFD where a byte was not UTF-8, so U+FFFD is read as that.
 * A trailing CR and a leading byte-order mark are dropped.
 */
export function prepareLine(line: string | Uint8Array, maxLineBytes: number): PreparedLine {
  let text: string;
  if (typeof line === 'string') {
    if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && utf8Length(line) > maxLineBytes)) {
      const bytes = utf8Length(line);
      return { ...reject('line_too_long', `the line is ${bytes} bytes, over input.maxLineBytes (${maxLineBytes})`), text: preview(line, bytes) };
    }
    text = line;
    const replaced = text.indexOf('\uFFFD');
    if (replaced >= 0) {
      return {
        ...reject('not_utf8', `column ${replaced + 1} is U+FFFD, left where a byte that is not UTF-8 was decoded; fix the file's encoding`),
        text,
      };
    }
  } else {
    if (line.length > maxLineBytes) {
      return { ...reject('line_too_long', `the line is ${line.length} bytes, over input.maxLineBytes (${maxLineBytes})`), text: preview(utf8Lenient.decode(line.subarray(0, PREVIEW_CHARS * 4)), line.length) };
    }
    try {
      text = utf8.decode(line);
    } catch {
      const at = firstInvalidUtf8(line);
      const hex = (line[at] ?? 0).toString(16).padStart(2, '0');
      return { ...reject('not_utf8', `byte ${at + 1} (0x${hex}) does not start a valid UTF-8 sequence`), text: utf8Lenient.decode(line) };
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim() === '')) return { ...reject('empty_line', 'the line is blank'), text };
  return text;
}

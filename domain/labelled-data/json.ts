// JSON records: parsing with the error located (column, and whether the text was cut short), field
// lookup by path, and values described the way a person reads them in a reason.
import { reject, type Outcome } from './line';

export interface JsonSyntaxError {
  /** 0-based offset of the first character that cannot continue the JSON text (= length when it ended early). */
  offset: number;
  /** The text ended inside a value: cut short rather than mistyped. */
  truncated: boolean;
  expected: string;
}

/**
 * Finds where JSON text goes wrong, for the reason only: JSON.parse has already said it does. Iterative,
 * so a line of ten thousand brackets cannot overflow the stack; independent of V8's message wording.
 */
export function locateJsonError(text: string): JsonSyntaxError | null {
  const n = text.length;
  const stack: string[] = [];
  let i = 0;
  let state: 'value' | 'firstValue' | 'afterValue' | 'key' | 'firstKey' = 'value';
  const fail = (expected: string): JsonSyntaxError => ({ offset: i, truncated: i >= n, expected });
  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const scanString = (): JsonSyntaxError | null => {
    i++;
    for (;;) {
      if (i >= n) return fail('a closing quote');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fail('no control characters inside a string (escape them)');
      if (c === 0x5c) {
        i++;
        if (i >= n) return fail('an escape sequence');
        const e = text[i]!;
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (i + k >= n) {
              i += k;
              return fail('four hex digits after \\u');
            }
            if (!/[0-9a-fA-F]/.test(text[i + k]!)) {
              i += k;
              return fail('four hex digits after \\u');
            }
          }
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)');
      }
      i++;
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const NUMBER_PREFIX = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*)?(?:[eE][+-]?\d*)?)?$/;
  const scanNumber = (): JsonSyntaxError | null => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    const stop = m ? NUMBER.lastIndex : i;
    const next = text[stop];
    // A number cut off at the end of the text ("1.", "-", "2e+") is truncation, not a typo.
    if ((!m || (next !== undefined && /[.eE]/.test(next))) && NUMBER_PREFIX.test(text.slice(i))) {
      i = n;
      return fail('the rest of a number');
    }
    if (!m) {
      i++;
      return fail('a digit');
    }
    if (next !== undefined && /[.eE]/.test(next)) {
      // "1.x" goes wrong after the dot; "1.5." and "1e5e" at the second one.
      const repeated = next === '.' ? /[.eE]/.test(m[0]) : /[eE]/.test(m[0]);
      i = repeated ? stop : stop + 1;
      return fail(repeated ? 'the end of the number' : 'digits in a number');
    }
    i = stop;
    return null;
  };
  for (;;) {
    skipSpace();
    if (state === 'value' || state === 'firstValue') {
      if (i >= n) return fail('a value');
      const c = text[i]!;
      if (state === 'firstValue' && c === ']') {
        stack.pop();
        i++;
        state = 'afterValue';
        continue;
      }
      if (c === '{') {
        stack.push('}');
        i++;
        state = 'firstKey';
        continue;
      }
      if (c === '[') {
        stack.push(']');
        i++;
        state = 'firstValue';
        continue;
      }
      const failure = c === '"' ? scanString() : c === '-' || (c >= '0' && c <= '9') ? scanNumber() : scanLiteral();
      if (failure) return failure;
      state = 'afterValue';
      continue;
    }
    if (state === 'afterValue') {
      const close = stack[stack.length - 1];
      if (close === undefined) return i < n ? fail('the end of the line after the JSON value') : null;
      if (i >= n) return fail(`',' or '${close}'`);
      if (text[i] === ',') {
        i++;
        state = close === '}' ? 'key' : 'value';
        continue;
      }
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      return fail(`',' or '${close}'`);
    }
    // state is 'key' or 'firstKey'
    if (i >= n) return fail('a property name');
    if (state === 'firstKey' && text[i] === '}') {
      stack.pop();
      i++;
      state = 'afterValue';
      continue;
    }
    if (text[i] !== '"') return fail('a double-quoted property name');
    const failure = scanString();
    if (failure) return failure;
    skipSpace();
    if (i >= n) return fail("':'");
    if (text[i] !== ':') return fail("':' after the property name");
    i++;
    state = 'value';
  }

  function scanLiteral(): JsonSyntaxError | null {
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return null;
      }
      const rest = text.slice(i);
      if (rest.length < literal.length && literal.startsWith(rest)) {
        i = n;
        return fail(`the rest of "${literal}"`);
      }
    }
    return fail('a value (a string, number, object, array, true, false or null)');
  }
}

function excerpt(text: string, offset: number): string {
  const start = Math.max(0, offset - 20);
  const end = Math.min(text.length, offset + 20);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

/** Parses one JSON text; on failure, truncated_json or invalid_json with the column. `what` names the text in the reason. */
export function parseJson(text: string, what = 'the line'): Outcome<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const located = locateJsonError(text);
    if (!located) return reject('invalid_json', `${what} is not valid JSON: ${(err as Error).message}`);
    if (located.truncated) {
      return reject('truncated_json', `${what} stops after column ${located.offset} in the middle of a JSON value, expecting ${located.expected}: cut short?`);
    }
    const found = JSON.stringify(text[located.offset] ?? '');
    return reject('invalid_json', `${what} is not valid JSON at column ${located.offset + 1}: expected ${located.expected}, found ${found} (near ${JSON.stringify(excerpt(text, located.offset))})`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A path as configured ("a.b") split once, ready for fieldAt. */
export function splitPath(path: string): string[] {
  return path.split('.');
}

/** The value at a path of own properties (never the prototype's: a field named "constructor" is just a field); undefined when absent. */
export function fieldAt(record: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** A JSON value as a reason shows it: `the string "5.1"`, `an object`, `an array of 3`, `true`, `null`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
    case 'number':
      return Number.isFinite(value) ? `the number ${value}` : 'a number too large for a double';
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

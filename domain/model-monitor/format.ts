// Reading Model Monitor's JSON files: one error type that names the file and the JSON path of every
// bad field, whether the text is not JSON at all or a field has the wrong shape.
import type { z } from 'zod';
import { formatPath } from '../config';

export interface FormatIssue {
  /** JSON path inside the file, e.g. `features[3].numerical_statistics.common.num_present`; '' for the root. */
  path: string;
  message: string;
}

/** A Model Monitor file that cannot be used as one. `file` is the name (or S3 key) the caller gave. */
export class ModelMonitorFormatError extends Error {
  override readonly name = 'ModelMonitorFormatError';
  constructor(
    readonly file: string,
    readonly issues: FormatIssue[],
  ) {
    super(`${file} is not a valid Model Monitor file:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/** Validates text (parsed as JSON first) or an already-parsed value against a schema. */
export function parseModelMonitorFile<S extends z.ZodType>(schema: S, input: unknown, file: string): z.output<S> {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new ModelMonitorFormatError(file, [{ path: '', message: `not JSON (${(error as Error).message})` }]);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ModelMonitorFormatError(
      file,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

/** Pretty-printed JSON with a trailing newline; validated first, so nothing Model Monitor cannot read is written. */
export function writeModelMonitorFile<S extends z.ZodType>(schema: S, value: z.input<S>, file: string): string {
  const checked = parseModelMonitorFile(schema, value, file);
  return `${JSON.stringify(checked, null, 2)}\n`;
}

/** Java's Double.toString: at least one decimal ("100.0"), scientific with "E" below 1e-3 and from 1e7. */
export function javaDouble(x: number): string {
  const magnitude = Math.abs(x);
  if (x !== 0 && Number.isFinite(x) && (magnitude < 1e-3 || magnitude >= 1e7)) {
    const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

// Slices of the holdout the evaluation scores separately: one per value of a categorical feature, one
// per bucket of a numerical feature between configured edges. Pure: the pipeline resolves a slice's
// column from the dataset schema and hands it to the evaluation container as one argument.
import { z } from 'zod';
import type { DatasetSchema } from './config';

/** A configured slice as the evaluation container reads it: the feature, its column and its bucket edges. */
export const SliceColumnSchema = z
  .object({
    feature: z.string().min(1),
    /** 0-based among the features: the holdout CSV's field column + 1 (the label comes first). */
    column: z.number().int().min(0),
    /** Numerical features: strictly increasing bucket edges. Absent: one slice per value. */
    edges: z.array(z.number().finite()).min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const edges = s.edges ?? [];
    for (let i = 1; i < edges.length; i++) {
      if (!(edges[i] > edges[i - 1])) ctx.addIssue({ code: 'custom', path: ['edges', i], message: `must be larger than the edge before it (${edges[i - 1]}); edges are strictly increasing` });
    }
  });
export type SliceColumn = z.infer<typeof SliceColumnSchema>;

/** SageMaker's limit on one ContainerArguments entry. */
export const MAX_CONTAINER_ARGUMENT_LENGTH = 256;

export function sliceArgument(slice: SliceColumn): string {
  return `--slice=${JSON.stringify(slice)}`;
}

/** Parses the JSON after `--slice=`; the error names what is wrong with it. */
export function parseSliceArgument(json: string): SliceColumn {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new RangeError(`--slice=${json} is not JSON: ${(err as Error).message}`);
  }
  const parsed = SliceColumnSchema.safeParse(value);
  if (!parsed.success) throw new RangeError(`--slice=${json}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The configured slices with their columns in the dataset schema; a feature the schema lacks is an error naming it. */
export function sliceColumns(slices: readonly { feature: string; edges?: number[] }[], schema: Pick<DatasetSchema, 'features'>): SliceColumn[] {
  return slices.map((s) => {
    const column = schema.features.findIndex((f) => f.name === s.feature);
    if (column < 0) throw new RangeError(`slice feature "${s.feature}" is not in the dataset schema (features: ${schema.features.map((f) => f.name).join(', ')})`);
    return s.edges ? { feature: s.feature, column, edges: s.edges } : { feature: s.feature, column };
  });
}

/** One slice of the holdout: which rows fall in it, and how a person reads it. */
export interface HoldoutSlice {
  feature: string;
  /** "2" for a value, "[0, 10)", "< 0" or ">= 100" for a bucket, "other (7 values)" for pooled rare values. */
  slice: string;
  /** How a person names it: "cat_0 = 2", "num_3 in [0, 10)", "num_3 < 0", "cat_0: other (7 values)". */
  name: string;
  /** A categorical value; null for buckets and pooled values. */
  value: number | null;
  /** A bucket's bounds, lower inclusive, upper exclusive; null where unbounded (and for values). */
  lower: number | null;
  upper: number | null;
  /** Holdout row indices, ascending. */
  rows: number[];
}

function show(value: number): string {
  return String(value);
}

/**
 * Splits the holdout rows by one slice column. Buckets are left-closed: (-inf, e0), [e0, e1), ...,
 * [e_last, inf); every bucket is listed, empty ones too. Values are listed in ascending order; past
 * `maxValues` distinct values, the most frequent `maxValues` keep their own slice and the rest share one.
 */
export function holdoutSlices(slice: SliceColumn, rowCount: number, valueOf: (row: number) => number, maxValues: number): HoldoutSlice[] {
  const { feature, edges } = slice;
  if (edges) {
    const buckets: HoldoutSlice[] = [];
    for (let b = 0; b <= edges.length; b++) {
      const lower = b === 0 ? null : edges[b - 1];
      const upper = b === edges.length ? null : edges[b];
      const label = lower === null ? `< ${show(upper!)}` : upper === null ? `>= ${show(lower)}` : `[${show(lower)}, ${show(upper)})`;
      buckets.push({ feature, slice: label, name: lower !== null && upper !== null ? `${feature} in ${label}` : `${feature} ${label}`, value: null, lower, upper, rows: [] });
    }
    for (let row = 0; row < rowCount; row++) {
      const v = valueOf(row);
      // The first edge above v is the bucket's upper bound; a value equal to an edge goes above it.
      let b = 0;
      while (b < edges.length && v >= edges[b]) b++;
      buckets[b].rows.push(row);
    }
    return buckets;
  }
  const byValue = new Map<number, number[]>();
  for (let row = 0; row < rowCount; row++) {
    const v = valueOf(row);
    const rows = byValue.get(v);
    if (rows) rows.push(row);
    else byValue.set(v, [row]);
  }
  let kept = [...byValue.keys()];
  let pooled: number[] = [];
  if (kept.length > maxValues) {
    kept.sort((a, b) => byValue.get(b)!.length - byValue.get(a)!.length || a - b);
    pooled = kept.slice(maxValues);
    kept = kept.slice(0, maxValues);
  }
  const slices: HoldoutSlice[] = kept.sort((a, b) => a - b).map((v) => ({ feature, slice: show(v), name: `${feature} = ${show(v)}`, value: v, lower: null, upper: null, rows: byValue.get(v)! }));
  if (pooled.length > 0) {
    const rows = pooled.flatMap((v) => byValue.get(v)!).sort((a, b) => a - b);
    const label = `other (${pooled.length} values)`;
    slices.push({ feature, slice: label, name: `${feature}: ${label}`, value: null, lower: null, upper: null, rows });
  }
  return slices;
}

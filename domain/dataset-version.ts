// Dataset versions: parsing labelled rows, content keys, stable split assignment and version ids. The
// merge itself streams (activities/dataset.ts over domain/dataset-merge/). Rows are headerless CSV, label first.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { DatasetSchema } from './config';

export type Split = 'train' | 'validation' | 'holdout';
export const SPLITS: readonly Split[] = ['train', 'validation', 'holdout'];

export interface LabelledRow {
  label: number;
  features: number[];
}

export interface SplitShares {
  validationShare: number;
  holdoutShare: number;
}

export type ConflictPolicy = 'keep-existing' | 'newest-wins' | 'quarantine-conflicts';

/** Quarantine reason codes; a reason is `${code}: ${detail}`, and manifests count by code. */
export type QuarantineCode = 'wrong_width' | 'missing_value' | 'not_a_number' | 'bad_label' | 'conflicting_label';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Strict decimal parsing: Number() would accept '', '0x1f' and 'Infinity'. */
function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

export function parseLabelledCsvLine(line: string, schema: DatasetSchema): { ok: true; row: LabelledRow } | { ok: false; reason: string } {
  const fields = line.replace(/\r$/, '').split(',').map((f) => f.trim());
  const featureCount = schema.features.length;
  if (fields.length !== featureCount + 1) {
    return { ok: false, reason: `wrong_width: expected ${featureCount + 1} values (label + ${featureCount} features), got ${fields.length}` };
  }
  const labelText = fields[0]!;
  const label = parseDecimal(labelText);
  const classes = schema.label.classes;
  if (label === null) return { ok: false, reason: `bad_label: label "${schema.label.name}" is "${labelText}", not a finite number` };
  if (classes !== undefined && (!Number.isInteger(label) || label < 0 || label >= classes)) {
    return { ok: false, reason: `bad_label: label "${schema.label.name}" is ${labelText}, not a class in 0..${classes - 1}` };
  }
  const features: number[] = [];
  for (let i = 0; i < featureCount; i++) {
    const text = fields[i + 1]!;
    const name = schema.features[i]!.name;
    if (text === '') return { ok: false, reason: `missing_value: feature "${name}" is empty` };
    const value = parseDecimal(text);
    if (value === null) return { ok: false, reason: `not_a_number: feature "${name}" is "${text}"` };
    features.push(value);
  }
  return { ok: true, row: { label, features } };
}

export function quarantineCode(reason: string): string {
  const colon = reason.indexOf(':');
  return colon < 0 ? reason : reason.slice(0, colon);
}

function hexDigest(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/**
 * Hex content hash (128 bits) of the features alone, so the same example with a different label collides
 * and shows up as a conflict. Numbers are written in their shortest round-trip form: "1.0" and "1" agree.
 */
export function rowKey(row: LabelledRow): string {
  return hexDigest(row.features.map((f) => String(f)).join(',')).slice(0, 32);
}

const HEX_DIGEST = /^[0-9a-f]{32,}$/;

/**
 * The split a new row belongs in, from its key alone: a uniform draw u ∈ [0, 1), holdout below
 * holdoutShare, then validation, then train. Holdout is carved first so changing the validation share
 * never moves rows into or out of holdout.
 * A rowKey is already a uniform hash, so u is its last 52 bits (exact in a double, so the same on every
 * platform); any other key is hashed first. Hashing costs ~10 µs per row here, so once per row matters.
 */
export function assignSplit(key: string, shares: SplitShares): Split {
  validateShares(shares);
  const digest = HEX_DIGEST.test(key) ? key : hexDigest(`split|${key}`);
  const u = parseInt(digest.slice(-13), 16) / 2 ** 52;
  if (u < shares.holdoutShare) return 'holdout';
  if (u < shares.holdoutShare + shares.validationShare) return 'validation';
  return 'train';
}

function validateShares(shares: SplitShares): void {
  const { validationShare: v, holdoutShare: h } = shares;
  if (!(v >= 0 && h >= 0 && v + h < 1)) throw new RangeError(`split shares must be ≥ 0 and leave rows for training (validation ${v} + holdout ${h} < 1)`);
}

/** JSON with object keys sorted at every level; array order is kept (it carries meaning, e.g. column order). */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => {
        const v = (value as Record<string, unknown>)[k];
        return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
      })
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  if (typeof value === 'bigint') throw new TypeError('canonicalJson cannot encode a bigint');
  return JSON.stringify(value) ?? 'null';
}

/**
 * 'dv-' + 16 hex of a hash over the model, the parent version, the sources (as a set: their order does
 * not matter) and the merge parameters. Same inputs, same id: a retried merge finds its own output.
 */
export function datasetVersionId(input: { model: string; parent: string | null; sources: { uri: string; etag: string }[]; params: unknown }): string {
  const sources = [...input.sources]
    .map((s) => ({ uri: s.uri, etag: s.etag }))
    .sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : a.etag < b.etag ? -1 : a.etag > b.etag ? 1 : 0));
  const identity = { format: 'dataset-version/1', model: input.model, parent: input.parent, sources, params: input.params ?? null };
  return `dv-${hexDigest(canonicalJson(identity)).slice(0, 16)}`;
}

export interface DatasetManifest {
  versionId: string;
  model: string;
  parent: string | null;
  createdFrom: { uri: string; etag: string }[];
  params: unknown;
  schema: DatasetSchema;
  counts: {
    /** Rows in the version, all splits. */
    total: number;
    /** Rows this version added to its parent. */
    new: number;
    /** Lines dropped as identical (features and label) to a row already present. */
    duplicates: number;
    /** Feature vectors that received disagreeing labels in this merge. */
    conflicts: number;
    /** Lines held back: unparseable, or a side of a conflict under quarantine-conflicts. */
    quarantined: number;
    quarantinedByReason: Record<string, number>;
  };
  /** Rows per class label (classification only; {} for regression). */
  classBalance: Record<string, number>;
  splits: Record<Split, { uri: string; rows: number }>;
  quarantineUri: string | null;
}

/** The row as the built-in algorithms read it: label first, numbers in shortest round-trip form. */
export function toCsvLine(row: LabelledRow): string {
  return [row.label, ...row.features].map((v) => String(v)).join(',');
}

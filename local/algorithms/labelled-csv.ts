// Reads a channel the way SageMaker's built-in algorithms read text/csv: every file under the
// channel directory (nested folders too), headerless, label in the first column, numeric features
// after it. Every rejection names the file and line, because that is what the person fixing the
// data needs.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ClientError } from './container';

export interface LabelledRows {
  /** Files read, relative to the channel directory, in reading order. */
  files: string[];
  rows: number;
  featureDim: number;
  labels: Float64Array;
  /** Row-major: row i's features are features[i*featureDim .. (i+1)*featureDim). */
  features: Float64Array;
  /** sha256 over every file's relative path and bytes: which data this is, for matching checkpoints. */
  digest: string;
}

export interface ReadLabelledCsvOptions {
  /** How errors name the channel, e.g. "train" gives "train/part-0.csv line 3: ...". */
  source: string;
  /** Features per row. Taken from the first row when absent. */
  featureDim?: number;
  /** Where an expected featureDim came from, for the mismatch message (e.g. "feature_dim=4"). */
  featureDimOrigin?: string;
  /** A reason the label is unacceptable, or null. */
  checkLabel?: (label: number) => string | null;
}

/** Every data file under `dir`, depth first, in code-point order so reads are deterministic. Dotfiles are skipped. */
export async function listDataFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(relative: string): Promise<void> {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) found.push(child);
    }
  }
  await walk('');
  return found;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV field as a finite number, or null. Blank, NaN, Infinity and hex are rejected on purpose. */
export function parseCsvNumber(field: string): number | null {
  let text = field.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** A Float64Array that grows by doubling, so large channels do not go through boxed JS arrays. */
class GrowableFloats {
  private buffer = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.buffer.length) {
      const bigger = new Float64Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value;
  }
  toArray(): Float64Array {
    return this.buffer.slice(0, this.length);
  }
}

function describeField(field: string): string {
  const shown = field.length > 40 ? `${field.slice(0, 40)}...` : field;
  return shown.trim() === '' ? 'an empty field' : `"${shown}"`;
}

export async function readLabelledCsv(dir: string, options: ReadLabelledCsvOptions): Promise<LabelledRows> {
  const files = await listDataFiles(dir);
  const hash = createHash('sha256');
  const labels = new GrowableFloats();
  const features = new GrowableFloats();
  let featureDim = options.featureDim;
  let dimOrigin = options.featureDimOrigin ?? `feature_dim=${options.featureDim}`;
  let rows = 0;

  for (const file of files) {
    const raw = await readFile(path.join(dir, file));
    hash.update(`${file}\0${raw.length}\0`).update(raw);
    const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.trim() === '') continue;
      const where = `${options.source}/${file} line ${i + 1}`;
      const fields = line.split(',');
      const label = parseCsvNumber(fields[0]);
      if (label === null) {
        const hint = rows === 0 && i === 0 ? ' (the CSV must be headerless, label first)' : '';
        throw new ClientError(`${where}: the label is ${describeField(fields[0])}, not a number${hint}`);
      }
      const labelProblem = options.checkLabel?.(label);
      if (labelProblem) throw new ClientError(`${where}: ${labelProblem}`);
      const found = fields.length - 1;
      if (featureDim === undefined) {
        if (found === 0) throw new ClientError(`${where}: a row needs a label and at least one feature`);
        featureDim = found;
        dimOrigin = `the first row (${options.source}/${file} line ${i + 1})`;
      } else if (found !== featureDim) {
        throw new ClientError(`${where}: expected ${featureDim} features after the label as in ${dimOrigin}, found ${found}`);
      }
      for (let j = 1; j < fields.length; j++) {
        const value = parseCsvNumber(fields[j]);
        if (value === null) throw new ClientError(`${where}: feature ${j} is ${describeField(fields[j])}, not a finite number (missing values are not supported)`);
        features.push(value);
      }
      labels.push(label);
      rows++;
    }
  }
  if (rows === 0) {
    throw new ClientError(`${options.source}: no rows found in ${files.length === 0 ? 'an empty channel' : `${files.length} file(s): ${files.slice(0, 5).join(', ')}`}`);
  }
  return { files, rows, featureDim: featureDim!, labels: labels.toArray(), features: features.toArray(), digest: hash.digest('hex') };
}

/**
 * Unlabelled rows, as an inference request carries them. Rows are numbered from 1 among the
 * non-blank lines, which is how a caller counts the rows it sent.
 */
export function parseFeatureRows(text: string, featureDim: number): number[][] {
  const rows: number[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const rowNumber = rows.length + 1;
    const fields = line.split(',');
    if (fields.length !== featureDim) {
      throw new ClientError(`row ${rowNumber}: expected ${featureDim} features, found ${fields.length}`);
    }
    rows.push(
      fields.map((field, j) => {
        const value = parseCsvNumber(field);
        if (value === null) throw new ClientError(`row ${rowNumber}: feature ${j + 1} is ${describeField(field)}, not a finite number`);
        return value;
      }),
    );
  }
  return rows;
}

// `npm run bench -- dataset`: the dataset stage's merge of a parent version with newly labelled rows, at
// 1M + 1M and 10M + 10M rows, beside a pandas peer run on the same files in the same bench run.
//   - ours: the product's merge end to end, in a child process: read the parent version and every new
//     object from the local S3 (s3rver), validate, de-duplicate, split, and write the new version and
//     its quarantine back to S3. Its manifest must account for every input row.
//   - pandas: bench/peers/dataset_pandas.py, read_csv + concat + drop_duplicates + to_csv, reading the
//     same objects from the directory s3rver serves them from (no HTTP, no S3 SDK).
// Every side is one child process, timed from spawn to exit; peak RSS is the child's VmHWM. See
// bench/README.md for the data, the knobs and what is not equal.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DatasetVersionSummary } from '../activities/types';
import type { DatasetSchema, Feature } from '../domain/config';
import { seededRandom } from '../domain/seeded-random';
import type { Figure } from './figures';
import { benchChild, compileForBench, countLinesThroughS3, ensureVenv, envList, measure, median, PEERS_HOME, printResult, ROOT, startBenchS3, type Measured as MeasuredSide } from './harness';

const DATA_DIR = process.env.BENCH_DATASET_DATA ?? path.join(PEERS_HOME, 'dataset-data');
const VENV = path.join(PEERS_HOME, 'dataset-venv');
const REQUIREMENTS = path.join(ROOT, 'bench', 'peers', 'dataset_requirements.txt');
const PEER_SCRIPT = path.join(ROOT, 'bench', 'peers', 'dataset_pandas.py');
const BUCKET = 'dataset-bench';
const REGION = 'us-east-1';
const MB = 1e6;

/** Everything the generated files depend on: change any of it and the data is generated anew. */
const GENERATOR = {
  version: 3,
  seed: 20_261_205,
  numerical: 20,
  categoricalCardinalities: [3, 5, 8, 12, 20],
  classes: 2,
  positiveShare: 0.3,
  /** The parent's rows are spread over its splits as a version made with the config's defaults would be. */
  parentShares: { validation: 0.1, holdout: 0.2 },
  /** New labelled rows per object, as a labelling job's output parts. */
  rowsPerObject: 100_000,
  /** Shares of the new lines: an exact copy of a parent row, a copy of an earlier new row, a bad row. */
  duplicateOfParentShare: 0.15,
  duplicateOfNewShare: 0.15,
  badShare: 0.01,
};

/** 100K is for trying the bench out; the figures are 1M and 10M. */
const SCALES = { '100K': 100_000, '1M': 1_000_000, '10M': 10_000_000 } as const;
type Scale = keyof typeof SCALES;

export const DATASET_BENCH_SCHEMA: DatasetSchema = {
  label: { name: 'label', classes: GENERATOR.classes },
  features: [
    ...Array.from({ length: GENERATOR.numerical }, (_, i): Feature => ({ name: `num_${String(i).padStart(2, '0')}`, type: 'numerical' })),
    ...GENERATOR.categoricalCardinalities.map((_, j): Feature => ({ name: `cat_${j}`, type: 'categorical' })),
  ],
};
const WIDTH = 1 + DATASET_BENCH_SCHEMA.features.length;

const SPLITS = ['train', 'validation', 'holdout'] as const;
type Split = (typeof SPLITS)[number];
const parentPrefix = (scale: Scale) => `parent-${scale.toLowerCase()}`;
const splitKey = (scale: Scale, split: Split) => `${parentPrefix(scale)}/${split}/data.csv`;
const parentManifestKey = (scale: Scale) => `${parentPrefix(scale)}/manifest.json`;
const labelsPrefix = (scale: Scale) => `labels-${scale.toLowerCase()}`;
const labelsKey = (scale: Scale, part: number) => `${labelsPrefix(scale)}/labels-${String(part).padStart(5, '0')}.csv`;
/** Each run's new version goes under its own root and is deleted after the run, so no run finds another's. */
const runRoot = (label: string) => `runs/${label}`;

// ---------------------------------------------------------------------------------------------------
// The data. A row is headerless CSV, label first, numbers in shortest round-trip form (as the product
// writes a split). Any row can be made again from its stream and index, so duplicates need no memory.

/** The ways a labelled line goes bad that the product quarantines, in turn, with the reason code each should get. */
const BAD_KINDS = [
  { kind: 'truncated', code: 'wrong_width' },
  { kind: 'extra field', code: 'wrong_width' },
  { kind: 'empty field', code: 'missing_value' },
  { kind: 'text in a number', code: 'not_a_number' },
  { kind: 'infinity', code: 'not_a_number' },
  { kind: 'non-UTF-8 byte', code: 'not_utf8' },
  { kind: 'label out of range', code: 'bad_label' },
  { kind: 'label not a number', code: 'bad_label' },
] as const;

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A row's generator seed: an odd multiple of its number among all rows of all streams, so no two rows
 * share a seed (mulberry32 has 32 bits of state: hashed seeds would collide ~N²/2³³ times, and every
 * collision is an unplanned duplicate).
 */
function rowSeed(stream: number, index: number): number {
  if (index >= 2 ** 26 || stream >= 64) throw new RangeError(`row ${index} of stream ${stream} is past the generator's numbering`);
  return (Math.imul(stream * 2 ** 26 + index, 0x9e3779b1) ^ GENERATOR.seed) >>> 0;
}

function labelledRow(stream: number, index: number): string {
  const random = seededRandom(rowSeed(stream, index));
  const values: number[] = [random() < GENERATOR.positiveShare ? 1 : 0];
  for (let i = 0; i < GENERATOR.numerical; i++) values.push(round4(3 * i + (1 + i / 10) * normal(random)));
  for (const k of GENERATOR.categoricalCardinalities) values.push(Math.floor(random() * k));
  return values.join(',');
}

const streamOf = (scale: Scale, what: 'parent' | 'new') => 16 * Object.keys(SCALES).indexOf(scale) + (what === 'parent' ? 1 : 2);

function badLine(row: string, kindIndex: number, random: () => number): string | Buffer {
  const fields = row.split(',');
  const feature = 1 + Math.floor(random() * (fields.length - 1));
  switch (BAD_KINDS[kindIndex]!.kind) {
    case 'truncated': {
      // Cut inside the line, before its last comma: what a partial write leaves.
      const lastComma = row.lastIndexOf(',');
      return row.slice(0, 1 + Math.floor(random() * lastComma));
    }
    case 'extra field':
      return `${row},${fields[feature]}`;
    case 'empty field':
      fields[feature] = '';
      return fields.join(',');
    case 'text in a number':
      fields[feature] = 'abc';
      return fields.join(',');
    case 'infinity':
      fields[feature] = 'inf';
      return fields.join(',');
    case 'non-UTF-8 byte': {
      const before = fields.slice(0, feature).join(',');
      const after = fields.slice(feature).join(',');
      return Buffer.concat([Buffer.from(`${before},`), Buffer.from([0xff]), Buffer.from(after)]);
    }
    case 'label out of range':
      fields[0] = String(GENERATOR.classes);
      return fields.join(',');
    case 'label not a number':
      fields[0] = 'yes';
      return fields.join(',');
  }
}

interface Expected {
  /** Distinct rows the new version should hold: the parent's plus the new rows seen for the first time. */
  kept: number;
  duplicatesOfParent: number;
  duplicatesWithinNew: number;
  quarantined: number;
  quarantinedByCode: Record<string, number>;
}

interface ScaleData {
  parentRows: number;
  parentSplitRows: Record<Split, number>;
  parentBytes: number;
  newLines: number;
  newObjects: number;
  newBytes: number;
  expected: Expected;
}

interface GeneratedState {
  generator: typeof GENERATOR;
  scales: Partial<Record<Scale, ScaleData>>;
}

const stateFile = () => path.join(DATA_DIR, 'generated.json');
const s3Dir = () => path.join(DATA_DIR, 's3');
const stagingDir = () => path.join(DATA_DIR, 'staging');
/** Where s3rver keeps an object's bytes: the key's path plus `._S3rver_object`. */
const s3rverPath = (key: string) => path.join(s3Dir(), BUCKET, ...key.split('/')) + '._S3rver_object';

/** Lines to a file, written in batches, waiting when the stream is full. */
class LineFile {
  private readonly out: WriteStream;
  private batch: (string | Buffer)[] = [];
  private batchBytes = 0;
  bytes = 0;
  lines = 0;

  constructor(readonly file: string) {
    this.out = createWriteStream(file);
  }

  async write(line: string | Buffer): Promise<void> {
    this.batch.push(line, '\n');
    const size = (typeof line === 'string' ? Buffer.byteLength(line) : line.length) + 1;
    this.batchBytes += size;
    this.bytes += size;
    this.lines++;
    if (this.batchBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const chunk = Buffer.concat(this.batch.map((l) => (typeof l === 'string' ? Buffer.from(l) : l)));
    this.batch = [];
    this.batchBytes = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}

async function readState(): Promise<GeneratedState> {
  try {
    const state = JSON.parse(await readFile(stateFile(), 'utf8')) as GeneratedState;
    if (JSON.stringify(state.generator) === JSON.stringify(GENERATOR)) return state;
    process.stderr.write('dataset: the generator changed since the data was made; generating it anew\n');
  } catch {
    // none yet
  }
  await rm(DATA_DIR, { recursive: true, force: true });
  await mkdir(DATA_DIR, { recursive: true });
  return { generator: GENERATOR, scales: {} };
}

/** Makes whatever the requested scales still lack (once; later runs reuse it), through s3rver's PutObject. */
async function ensureData(scales: Scale[]): Promise<Record<Scale, ScaleData>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const state = await readState();
  const missing = scales.filter((s) => !state.scales[s]);
  if (missing.length > 0) {
    // Imported here, so the measured children, which load this file too, never load s3rver.
    const { LOCAL_S3_CREDENTIALS, startLocalS3 } = await import('../local/s3');
    const server = await startLocalS3({ directory: s3Dir(), buckets: [BUCKET] });
    try {
      // A streamed body with a computed checksum would go out aws-chunked, which s3rver does not take.
      const s3 = new S3Client({ region: REGION, endpoint: server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
      for (const scale of missing) {
        // A scale interrupted half-way is made again from scratch.
        await rm(path.join(s3Dir(), BUCKET, parentPrefix(scale)), { recursive: true, force: true });
        await rm(path.join(s3Dir(), BUCKET, labelsPrefix(scale)), { recursive: true, force: true });
        state.scales[scale] = await generateScale(s3, scale);
        await writeFile(stateFile(), JSON.stringify(state, null, 2));
      }
    } finally {
      await server.close();
      await rm(stagingDir(), { recursive: true, force: true });
    }
  }
  return state.scales as Record<Scale, ScaleData>;
}

async function upload(s3: S3Client, key: string, file: string, contentType: string): Promise<void> {
  const { size } = await stat(file);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType }));
  await rm(file);
}

async function generateScale(s3: S3Client, scale: Scale): Promise<ScaleData> {
  await mkdir(stagingDir(), { recursive: true });
  const started = Date.now();
  const rows = SCALES[scale];
  const progress = (what: string, done: number) => {
    if (done % 1_000_000 === 0 || done === rows) process.stderr.write(`dataset: generating ${scale}: ${what} ${done.toLocaleString('en')}/${rows.toLocaleString('en')} rows, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  };

  // The parent: a version the product wrote, one object per split.
  const parentStream = streamOf(scale, 'parent');
  const splitRandom = seededRandom(GENERATOR.seed + 5 + parentStream);
  const files = Object.fromEntries(SPLITS.map((s) => [s, new LineFile(path.join(stagingDir(), `${scale}-${s}.csv`))])) as Record<Split, LineFile>;
  const classBalance: Record<string, number> = {};
  for (let i = 0; i < rows; i++) {
    const u = splitRandom();
    const split: Split = u < GENERATOR.parentShares.holdout ? 'holdout' : u < GENERATOR.parentShares.holdout + GENERATOR.parentShares.validation ? 'validation' : 'train';
    const row = labelledRow(parentStream, i);
    classBalance[row[0]!] = (classBalance[row[0]!] ?? 0) + 1;
    await files[split].write(row);
    progress('parent', i + 1);
  }
  let parentBytes = 0;
  const parentSplitRows = {} as Record<Split, number>;
  for (const split of SPLITS) {
    await files[split].close();
    parentBytes += files[split].bytes;
    parentSplitRows[split] = files[split].lines;
    await upload(s3, splitKey(scale, split), files[split].file, 'text/csv');
  }
  const manifest = parentManifest(scale, parentSplitRows, classBalance);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: parentManifestKey(scale), Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));

  // The new labelled rows, in objects of rowsPerObject lines.
  const newStream = streamOf(scale, 'new');
  const plan = seededRandom(GENERATOR.seed + 7 + newStream);
  const fresh = new Int32Array(rows);
  let freshCount = 0;
  let nextFreshIndex = 0;
  let badCount = 0;
  const expected: Expected = { kept: rows, duplicatesOfParent: 0, duplicatesWithinNew: 0, quarantined: 0, quarantinedByCode: {} };
  const objects = Math.ceil(rows / GENERATOR.rowsPerObject);
  let newBytes = 0;
  let line = 0;
  for (let part = 0; part < objects; part++) {
    const file = new LineFile(path.join(stagingDir(), `${scale}-labels-${part}.csv`));
    for (let r = 0; r < GENERATOR.rowsPerObject && line < rows; r++, line++) {
      const u = plan();
      if (u < GENERATOR.badShare) {
        const kind = badCount++ % BAD_KINDS.length;
        await file.write(badLine(labelledRow(newStream, nextFreshIndex++), kind, plan));
        expected.quarantined++;
        const code = BAD_KINDS[kind]!.code;
        expected.quarantinedByCode[code] = (expected.quarantinedByCode[code] ?? 0) + 1;
      } else if (u < GENERATOR.badShare + GENERATOR.duplicateOfParentShare) {
        await file.write(labelledRow(parentStream, Math.floor(plan() * rows)));
        expected.duplicatesOfParent++;
      } else if (u < GENERATOR.badShare + GENERATOR.duplicateOfParentShare + GENERATOR.duplicateOfNewShare && freshCount > 0) {
        await file.write(labelledRow(newStream, fresh[Math.floor(plan() * freshCount)]!));
        expected.duplicatesWithinNew++;
      } else {
        fresh[freshCount++] = nextFreshIndex;
        await file.write(labelledRow(newStream, nextFreshIndex++));
        expected.kept++;
      }
      progress('new', line + 1);
    }
    await file.close();
    newBytes += file.bytes;
    await upload(s3, labelsKey(scale, part), file.file, 'text/csv');
  }
  return { parentRows: rows, parentSplitRows, parentBytes, newLines: rows, newObjects: objects, newBytes, expected };
}

/** The parent as the dataset stage stores a version (activities/dataset.ts's StoredManifest). */
function parentManifest(scale: Scale, splitRows: Record<Split, number>, classBalance: Record<string, number>) {
  const total = SPLITS.reduce((sum, s) => sum + splitRows[s], 0);
  const versionId = `dv-${createHash('sha256').update(JSON.stringify({ GENERATOR, scale })).digest('hex').slice(0, 16)}`;
  return {
    versionId,
    model: 'dataset-bench',
    parent: null,
    createdFrom: [],
    params: { schema: DATASET_BENCH_SCHEMA, validationShare: GENERATOR.parentShares.validation, holdoutShare: GENERATOR.parentShares.holdout, conflicts: 'quarantine-conflicts' },
    schema: DATASET_BENCH_SCHEMA,
    counts: { total, new: total, duplicates: 0, conflicts: 0, quarantined: 0, quarantinedByReason: {} },
    classBalance,
    splits: Object.fromEntries(SPLITS.map((s) => [s, { uri: `s3://${BUCKET}/${splitKey(scale, s)}`, rows: splitRows[s] }])),
    quarantineUri: null,
    consumedSources: [],
  };
}

// ---------------------------------------------------------------------------------------------------
// The suite.

type Measured = MeasuredSide<Record<string, unknown> & { vmHwmKiB: number }>;

type Side = 'ours' | 'readCeiling' | 'pandas';
const SIDE_LABEL: Record<Side, string> = {
  ours: 'ours',
  readCeiling: 'S3 read ceiling',
  pandas: 'pandas',
};

/** What our child prints: the new version's manifest, in the terms both manifest formats have. */
interface OursResult {
  entry: string;
  versionId: string;
  reused: boolean;
  /** Rows the merge says it read (dataset-version/2 manifests), to hold against what the generator wrote. */
  inputs: { parentRows: number; newLines: number } | null;
  splits: Record<Split, number>;
  total: number;
  duplicates: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  conflicts: number;
  /** Lost a conflict under keep-existing or newest-wins; 0 where the manifest has no such count. */
  overruled: number;
  /** Retired by retention; 0 where the manifest has no such count. */
  retired: number;
  /** The manifest's own books, where it keeps them. */
  manifestConservation: { holds: boolean; equation: string } | null;
  /** How the merge ran (spilled to disk or not, partitions), where the manifest says. */
  merge: Record<string, unknown> | null;
  /** Bytes of every object the version wrote, where the manifest lists them. */
  outputBytes: number | null;
  vmHwmKiB: number;
  phases: Record<string, number>;
}

interface PandasResult {
  parentRows: number;
  newRowsParsed: number;
  newRowsValid: number;
  duplicates: number;
  rowsOut: number;
  outputBytes: number;
  vmHwmKiB: number;
  phases: Record<string, number>;
}

/** Rows the manifest accounts for, against the input: zero unaccounted, or the bench measured the wrong thing. */
interface Conservation {
  inputRows: number;
  unaccounted: number;
  text: string;
  /** Where the manifest's counts differ from what the generator put in. */
  mismatches: string[];
}

function conservation(data: ScaleData, ours: OursResult): Conservation {
  const { splits } = ours;
  const inputRows = data.parentRows + data.newLines;
  const kept = splits.train + splits.validation + splits.holdout;
  const unaccounted = inputRows - (kept + ours.duplicates + ours.overruled + ours.quarantined + ours.retired);
  const e = data.expected;
  const mismatches: string[] = [];
  if (ours.inputs && (ours.inputs.parentRows !== data.parentRows || ours.inputs.newLines !== data.newLines)) {
    mismatches.push(`the merge read ${ours.inputs.parentRows} parent rows and ${ours.inputs.newLines} new lines, the generator wrote ${data.parentRows} and ${data.newLines}`);
  }
  if (ours.manifestConservation && !ours.manifestConservation.holds) mismatches.push(`the manifest's own books do not hold: ${ours.manifestConservation.equation}`);
  if (kept !== ours.total) mismatches.push(`the splits hold ${kept} rows but counts.total says ${ours.total}`);
  if (kept !== e.kept) mismatches.push(`kept ${kept}, the generator made ${e.kept} distinct rows`);
  if (ours.duplicates !== e.duplicatesOfParent + e.duplicatesWithinNew) mismatches.push(`${ours.duplicates} duplicates, the generator made ${e.duplicatesOfParent + e.duplicatesWithinNew}`);
  if (ours.quarantined !== e.quarantined) mismatches.push(`${ours.quarantined} quarantined, the generator made ${e.quarantined} bad rows`);
  if (ours.conflicts + ours.overruled + ours.retired !== 0) mismatches.push(`${ours.conflicts} conflicts, ${ours.overruled} overruled and ${ours.retired} retired, the generator made none`);
  if (canonical(ours.quarantinedByReason) !== canonical(e.quarantinedByCode)) {
    mismatches.push(`quarantined by reason ${JSON.stringify(ours.quarantinedByReason)}, the generator's bad rows should get ${JSON.stringify(e.quarantinedByCode)}`);
  }
  const n = (x: number) => x.toLocaleString('en');
  const text =
    `input ${n(inputRows)} (parent ${n(data.parentRows)} + new ${n(data.newLines)}) = train ${n(splits.train)} + validation ${n(splits.validation)} + holdout ${n(splits.holdout)} ` +
    `+ duplicates ${n(ours.duplicates)} + quarantined ${n(ours.quarantined)} ${JSON.stringify(ours.quarantinedByReason)}` +
    (ours.overruled ? ` + overruled ${n(ours.overruled)}` : '') +
    (ours.retired ? ` + retired ${n(ours.retired)}` : '') +
    (unaccounted === 0 ? '' : `, ${n(unaccounted)} unaccounted`);
  return { inputRows, unaccounted, text, mismatches };
}

const canonical = (counts: Record<string, number>) => JSON.stringify(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

interface SideFigures {
  mbPerSecond: number | null;
  peakRssMiB: number | null;
  failure?: string;
  runs: Measured[];
}

const inputBytes = (data: ScaleData) => data.parentBytes + data.newBytes;

export async function datasetSuite(): Promise<Figure[]> {
  const scales = envList('BENCH_DATASET_SCALES', '1M,10M').map((s) => s.toUpperCase()) as Scale[];
  for (const s of scales) if (!(s in SCALES)) throw new Error(`BENCH_DATASET_SCALES: unknown scale ${s} (known: ${Object.keys(SCALES).join(', ')})`);
  const repeats: Record<Scale, number> = { '100K': 1, '1M': Number(process.env.BENCH_DATASET_REPEATS_1M ?? 3), '10M': Number(process.env.BENCH_DATASET_REPEATS_10M ?? 1) };
  const sides = (['ours', ...envList('BENCH_DATASET_PEERS', 'readCeiling,pandas')] as Side[]).filter((s, i, all) => all.indexOf(s) === i);
  for (const s of sides) if (!(s in SIDE_LABEL)) throw new Error(`BENCH_DATASET_PEERS: unknown side ${s} (known: ${Object.keys(SIDE_LABEL).join(', ')})`);
  const timeoutMs = Number(process.env.BENCH_DATASET_TIMEOUT_MINUTES ?? 20) * 60_000;
  const suiteStarted = Date.now();

  const code = await codeVersion();
  process.stderr.write(`dataset: measuring ${code}\n`);
  const data = await ensureData(scales);
  const python = sides.includes('pandas') ? await ensureVenv('dataset', VENV, REQUIREMENTS, 'BENCH_DATASET_PYTHON') : '';
  await compileForBench('dataset');
  const results = {} as Record<Scale, Record<Side, SideFigures>>;
  const conserved = {} as Record<Scale, Conservation[]>;
  for (const scale of scales) {
    await warmPageCache(scale);
    const d = data[scale];
    const outDir = path.join(DATA_DIR, 'peer-out');
    await mkdir(outDir, { recursive: true });
    const commands = (side: Side, label: string): [string, string[], Record<string, string>] => {
      const pandasArgs = [
        PEER_SCRIPT,
        '--parent',
        SPLITS.map((s) => s3rverPath(splitKey(scale, s))).join(','),
        '--new',
        path.join(s3Dir(), BUCKET, labelsPrefix(scale)),
        '--out',
        path.join(outDir, `${label}.csv`),
        '--width',
        String(WIDTH),
        '--classes',
        String(GENERATOR.classes),
      ];
      switch (side) {
        case 'ours':
          return [...benchChild('dataset', 'ours', scale, label), {}];
        case 'readCeiling':
          return [...benchChild('dataset', 'read', scale, label), {}];
        case 'pandas':
          return [python, pandasArgs, { PYTHONDONTWRITEBYTECODE: '1' }];
      }
    };
    const runs = Object.fromEntries(sides.map((s) => [s, [] as Measured[]])) as Record<Side, Measured[]>;
    const failed = new Map<Side, string>();
    conserved[scale] = [];
    // Repeats interleave the sides, so a slow minute on the machine does not land on one side alone.
    for (let r = 0; r < repeats[scale]; r++) {
      for (const side of sides) {
        if (failed.has(side)) continue;
        const label = `${scale}-${side}-${r + 1}`;
        process.stderr.write(`dataset: ${scale} rows, ${SIDE_LABEL[side]}, run ${r + 1}/${repeats[scale]} (load average ${loadavg()[0]!.toFixed(1)})\n`);
        const [command, args, env] = commands(side, label);
        const loadAverage = Math.round(loadavg()[0]! * 10) / 10;
        // Every run reads through a local S3 of its own, started before the clock and stopped after it.
        const s3 = await startBenchS3(s3Dir(), [BUCKET], REGION);
        const measured = await measure<Measured['result'] & object>({ label, command, args, env: { ...s3.env, ...env }, timeoutMs, logDir: path.join(DATA_DIR, 'logs') }).finally(() => s3.close());
        const m = { ...measured, loadAverage };
        // Each run's output goes; the next run must merge again, not find this version.
        await rm(path.join(s3Dir(), BUCKET, ...runRoot(label).split('/')), { recursive: true, force: true });
        await rm(path.join(outDir, `${label}.csv`), { force: true });
        runs[side].push(m);
        if (m.failure) {
          failed.set(side, m.failure);
          process.stderr.write(`dataset:   ${SIDE_LABEL[side]} ${m.failure}\n`);
          continue;
        }
        const rate = `${(inputBytes(d) / MB / m.wallSeconds).toFixed(1)} MB/s (${m.wallSeconds.toFixed(1)} s), peak RSS ${m.peakRssMiB.toFixed(0)} MiB`;
        if (side === 'ours') {
          const ours = m.result as unknown as OursResult;
          if (ours.reused) throw new Error(`ours found an existing version ${ours.versionId} at ${runRoot(label)}: it measured nothing`);
          const c = conservation(d, ours);
          conserved[scale].push(c);
          process.stderr.write(`dataset:   ${rate}, phases ${JSON.stringify(ours.phases)}, merge ${JSON.stringify(ours.merge)}, wrote ${ours.outputBytes === null ? '?' : (ours.outputBytes / MB).toFixed(0)} MB\n`);
          process.stderr.write(`dataset:   rows: ${c.text}${c.mismatches.length ? `; MISMATCH: ${c.mismatches.join('; ')}` : ''}\n`);
        } else if (side === 'pandas') {
          const p = m.result as unknown as PandasResult;
          process.stderr.write(
            `dataset:   ${rate}, rows out ${p.rowsOut.toLocaleString('en')} (expected ${d.expected.kept.toLocaleString('en')}), ` +
              `duplicates ${p.duplicates.toLocaleString('en')}, bad ${(d.newLines - p.newRowsValid).toLocaleString('en')}, phases ${JSON.stringify(p.phases)}\n`,
          );
        } else {
          process.stderr.write(`dataset:   ${rate}, ${JSON.stringify(m.result)}\n`);
        }
      }
    }
    results[scale] = Object.fromEntries(
      sides.map((side) => {
        const done = runs[side].filter((m) => m.result);
        const failure = failed.get(side);
        return [
          side,
          {
            mbPerSecond: failure ? null : median(done.map((m) => inputBytes(d) / MB / m.wallSeconds)),
            peakRssMiB: failure ? null : median(done.map((m) => m.peakRssMiB)),
            ...(failure ? { failure } : {}),
            runs: runs[side],
          },
        ];
      }),
    ) as Record<Side, SideFigures>;
  }
  process.stderr.write(`dataset: suite took ${((Date.now() - suiteStarted) / 60_000).toFixed(1)} min\n`);
  return figuresFrom(scales, sides, data, results, conserved, repeats, code);
}

/** The commit ours runs, and whether the merge's code had uncommitted changes (each child loads the work tree as it is when it starts). */
async function codeVersion(): Promise<string> {
  const git = (...args: string[]) =>
    new Promise<string>((resolve) => {
      const child = spawn('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', () => resolve(''));
      child.on('close', () => resolve(out.trimEnd()));
    });
  const commit = (await git('rev-parse', '--short', 'HEAD')) || 'an unknown commit';
  const dirty = (await git('status', '--porcelain', '--', 'activities', 'domain')).split('\n').filter(Boolean).map((l) => l.slice(3));
  return `commit ${commit}${dirty.length ? ` with uncommitted changes in ${dirty.join(', ')}` : ''}`;
}

/** Reads every input file once so no side pays for a cold page cache that the next side would not. */
async function warmPageCache(scale: Scale): Promise<void> {
  const files = [...SPLITS.map((s) => s3rverPath(splitKey(scale, s))), ...(await listFiles(path.join(s3Dir(), BUCKET, labelsPrefix(scale))))];
  for (const file of files) {
    for await (const _chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      // read and drop
    }
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('._S3rver_object')).map((e) => path.join(e.parentPath ?? e.path, e.name));
}

function figuresFrom(
  scales: Scale[],
  sides: Side[],
  data: Record<Scale, ScaleData>,
  results: Record<Scale, Record<Side, SideFigures>>,
  conserved: Record<Scale, Conservation[]>,
  repeats: Record<Scale, number>,
  code: string,
): Figure[] {
  const figures: Figure[] = [];
  const round = (n: number | null, digits = 0) => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a / b, 2));
  const why = (scale: Scale, side: Side) => {
    const f = results[scale][side];
    return f?.failure ? `${SIDE_LABEL[side]} ${f.failure}` : undefined;
  };
  const noteOf = (...notes: (string | undefined)[]) => {
    const text = notes.filter(Boolean).join('; ');
    return text ? { note: text } : {};
  };
  for (const scale of scales) {
    const r = results[scale];
    const d = data[scale];
    const runsNote = `${code}; median of ${repeats[scale]} run${repeats[scale] === 1 ? '' : 's'}; input ${(inputBytes(d) / MB).toFixed(0)} MB (parent ${d.parentRows.toLocaleString('en')} rows + ${d.newLines.toLocaleString('en')} new lines)`;
    const ours = r.ours;
    const pd = r.pandas;
    figures.push({ name: `mbPerSecond${scale}`, value: round(ours.mbPerSecond, 1), unit: 'MB/s', target: null, peer: round(pd?.mbPerSecond ?? null, 1), ...noteOf(pd ? `peer: pandas; ${runsNote}` : runsNote, why(scale, 'ours'), pd && why(scale, 'pandas')) });
    if (pd) figures.push({ name: `speedupVsPandas${scale}`, value: ratio(ours.mbPerSecond, pd.mbPerSecond), unit: 'x', target: '>= 2', peer: null, ...noteOf(why(scale, 'ours'), why(scale, 'pandas')) });
    if (pd) {
      // to_csv is most of pandas' time; this says how fast it is at everything else.
      const noWrite = median(pd.runs.filter((m) => m.result).map((m) => inputBytes(d) / MB / (m.wallSeconds - ((m.result as unknown as PandasResult).phases.writeSeconds ?? 0))));
      figures.push({
        name: `pandasWithoutWriteMbPerSecond${scale}`,
        value: pd.failure ? null : round(noWrite, 1),
        unit: 'MB/s',
        target: null,
        peer: null,
        ...noteOf('pandas with its to_csv time taken out: read, clean, concat, drop_duplicates', why(scale, 'pandas')),
      });
    }
    figures.push({ name: `peakRssMiB${scale}`, value: round(ours.peakRssMiB), unit: 'MiB', target: null, peer: round(pd?.peakRssMiB ?? null), ...noteOf(pd ? 'peer: pandas' : undefined, why(scale, 'ours'), pd && why(scale, 'pandas')) });
    const ceiling = r.readCeiling;
    if (ceiling) {
      figures.push({
        name: `s3ReadCeilingMbPerSecond${scale}`,
        value: round(ceiling.mbPerSecond, 1),
        unit: 'MB/s',
        target: null,
        peer: null,
        ...noteOf('GET of the same objects from the local S3, bodies counted not parsed, nothing written: the most ours can reach here', why(scale, 'readCeiling')),
      });
    }
    // Every run's manifest must account for every input row; the figure is the worst run.
    const checks = conserved[scale] ?? [];
    if (checks.length > 0) {
      const worst = checks.reduce((a, b) => (Math.abs(b.unaccounted) > Math.abs(a.unaccounted) || b.mismatches.length > a.mismatches.length ? b : a));
      const pandasRows = pd?.runs.find((m) => m.result)?.result as unknown as PandasResult | undefined;
      figures.push({
        name: `rowsUnaccounted${scale}`,
        value: worst.unaccounted,
        unit: 'rows',
        target: '= 0',
        peer: null,
        note:
          `${worst.text}` +
          (worst.mismatches.length ? `; against the generator: ${worst.mismatches.join('; ')}` : '; every count as the generator made them') +
          (pandasRows ? `; pandas kept ${pandasRows.rowsOut.toLocaleString('en')} rows` : ''),
      });
    }
  }
  if (scales.includes('1M') && scales.includes('10M')) {
    const growth = (side: Side) => ratio(results['10M'][side]?.peakRssMiB ?? null, results['1M'][side]?.peakRssMiB ?? null);
    figures.push({
      name: 'peakRssGrowth10Mover1M',
      value: growth('ours'),
      unit: 'x',
      target: '<= 1.1',
      peer: sides.includes('pandas') ? growth('pandas') : null,
      ...noteOf('peak RSS at 10M / at 1M (memory must not grow with the row count); peer: pandas', why('10M', 'ours'), why('1M', 'ours')),
    });
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------------
// Our side, as the measured child: `node --import tsx bench/dataset.ts ours <scale> <label>`.

/** The pipeline's config for this bench, with the product's defaults for everything dataset. */
async function benchConfig(scale: Scale, label: string) {
  const { parsePipelineConfig } = await import('../domain/config');
  return parsePipelineConfig({
    model: 'dataset-bench',
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: 'dataset-bench', captureS3Uri: `s3://${BUCKET}/capture` },
    dataset: {
      rootS3Uri: `s3://${BUCKET}/${runRoot(label)}`,
      newDataS3Uri: `s3://${BUCKET}/${labelsPrefix(scale)}`,
      schema: DATASET_BENCH_SCHEMA,
    },
    training: { image: 'bench', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'bench', outputS3Uri: `s3://${BUCKET}/evaluation`, metric: 'accuracy' },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

/** The champion whose dataset version is the parent. */
function champion(scale: Scale) {
  return {
    modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/dataset-bench/1',
    modelPackageVersion: 1,
    modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
    image: 'bench',
    trainingJobName: null,
    datasetVersion: null,
    datasetManifestUri: `s3://${BUCKET}/${parentManifestKey(scale)}`,
    endpointConfigName: 'dataset-bench',
    modelName: 'dataset-bench',
    captureS3Uri: null,
  };
}

/**
 * BENCH_DATASET_OURS picks the entry point: `merge` (the default: mergeDatasetVersion, the merge as a caller
 * outside Temporal runs it) or `activity` (the expandDataset activity outside a worker, with no SageMaker
 * client, so it too merges in this process).
 */
async function oursChild(scale: Scale, label: string): Promise<void> {
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const config = await benchConfig(scale, label);
  const entry = process.env.BENCH_DATASET_OURS ?? 'merge';
  const started = performance.now();
  let summary: DatasetVersionSummary;
  if (entry === 'merge') {
    const { mergeDatasetVersion } = await import('../activities/dataset');
    summary = await mergeDatasetVersion(s3, { config, parentManifestUri: champion(scale).datasetManifestUri });
  } else if (entry === 'activity') {
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const { expandDataset } = await import('../activities/dataset');
    summary = await new MockActivityEnvironment().run(expandDataset, s3, { config, champion: champion(scale) });
  } else {
    throw new Error(`BENCH_DATASET_OURS must be merge or activity, got ${entry}`);
  }
  const merged = performance.now();
  const manifest = JSON.parse(await (await s3.send(new GetObjectCommand(locate(summary.manifestUri)))).Body!.transformToString()) as StoredManifest;
  const c = manifest.counts;
  const result: Omit<OursResult, 'vmHwmKiB'> = {
    entry,
    versionId: manifest.versionId,
    reused: summary.reused,
    inputs: c.inputs ?? null,
    splits: c.splits ?? (Object.fromEntries(SPLITS.map((s) => [s, manifest.splits[s].rows])) as Record<Split, number>),
    total: c.total,
    duplicates: c.duplicates,
    quarantined: c.quarantined,
    quarantinedByReason: c.quarantinedByReason,
    conflicts: c.conflicts ?? 0,
    overruled: c.overruled ?? 0,
    retired: c.retired ? c.retired.byAge + c.retired.byRowCap : 0,
    manifestConservation: manifest.conservation ?? null,
    merge: manifest.merge ?? null,
    outputBytes: manifest.objects ? manifest.objects.reduce((sum, o) => sum + o.bytes, 0) : null,
    phases: { mergeSeconds: (merged - started) / 1000 },
  };
  printResult(result);
}

/** A version's manifest as either format stores it: dataset-version/2, or the single-CSV-per-split one before. */
interface StoredManifest {
  versionId: string;
  counts: {
    inputs?: { parentRows: number; newLines: number };
    splits?: Record<Split, number>;
    total: number;
    duplicates: number;
    quarantined: number;
    quarantinedByReason: Record<string, number>;
    conflicts?: number;
    overruled?: number;
    retired?: { byAge: number; byRowCap: number };
  };
  conservation?: { holds: boolean; equation: string };
  splits: Record<Split, { rows: number }>;
  objects?: { bytes: number }[];
  merge?: Record<string, unknown>;
}

function locate(uri: string): { Bucket: string; Key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { Bucket: match[1]!, Key: match[2]! };
}

/** The ceiling the local S3 sets: GET every input object, count lines, parse and write nothing. */
async function readCeilingChild(scale: Scale): Promise<void> {
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const keys = [...SPLITS.map((s) => splitKey(scale, s)), ...Array.from({ length: Math.ceil(SCALES[scale] / GENERATOR.rowsPerObject) }, (_, i) => labelsKey(scale, i))];
  const lines = await countLinesThroughS3(s3, BUCKET, keys, READ_CONCURRENCY);
  printResult({ lines });
}

/** Objects the read ceiling fetches at once. */
const READ_CONCURRENCY = 4;

if (require.main === module) {
  const [mode, scale, label] = process.argv.slice(2);
  if ((mode !== 'ours' && mode !== 'read') || !scale || !(scale in SCALES) || !label) {
    console.error('usage: node --import tsx bench/dataset.ts ours|read <1M|10M> <run label> (run by `npm run bench -- dataset`)');
    process.exit(2);
  }
  (mode === 'ours' ? oursChild(scale as Scale, label) : readCeilingChild(scale as Scale)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

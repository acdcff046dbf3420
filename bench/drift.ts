// `npm run bench -- drift`: the drift stage over captured traffic at 1M and 10M records, beside two
// Python peers run on the same files in the same bench run.
//   - ours: the product's drift over the captured objects in the local S3 (s3rver), end to end: list,
//     read, parse, profile, compare. It runs in a child process so its peak RSS is its own.
//   - numpy-scipy: bench/peers/numpy_scipy.py, json + numpy + scipy (ks_2samp, chi2_contingency).
//   - evidently: bench/peers/evidently_preset.py, Evidently's DataDriftPreset over pandas DataFrames.
// The peers read the same objects from the directory s3rver serves them from (no HTTP, no S3 SDK).
// Every side is one child process, timed from spawn to exit (interpreter start and imports included);
// peak RSS is the child's VmHWM. See bench/README.md for the data, the knobs and what is not equal.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DriftSummary } from '../activities/types';
import type { Feature, PipelineConfig } from '../domain/config';
import { seededRandom } from '../domain/seeded-random';
import type { Figure } from './figures';
import { benchChild, compileForBench, countLinesThroughS3, ensureVenv, envList, measure, median, PEERS_HOME, printResult, ROOT, startBenchS3, type Measured as MeasuredSide } from './harness';

const DATA_DIR = process.env.BENCH_DRIFT_DATA ?? path.join(PEERS_HOME, 'drift-data');
const VENV = path.join(PEERS_HOME, 'venv');
const REQUIREMENTS = path.join(ROOT, 'bench', 'peers', 'requirements.txt');
const BUCKET = 'drift-bench';
const REGION = 'us-east-1';

/** Everything the generated files depend on: change any of it and the data is generated anew. */
const GENERATOR = {
  version: 1,
  seed: 20_261_124,
  start: '2026-11-01T00:00:00Z',
  recordsPerFile: 10_000,
  /** One capture file every 3 minutes, as a busy endpoint's capture buffer would flush. */
  filesPerHour: 20,
  referenceRows: 100_000,
  numerical: 20,
  categoricalCardinalities: [3, 5, 8, 12, 20],
  /** Features whose current distribution differs from the reference (see drawNumerical / categoricalWeights). */
  drifted: ['num_00', 'num_01', 'num_02', 'num_03', 'num_04', 'cat_0', 'cat_4'],
};

const SCALES = { '1M': 1_000_000, '10M': 10_000_000 } as const;
type Scale = keyof typeof SCALES;

export const DRIFT_BENCH_FEATURES: Feature[] = [
  ...Array.from({ length: GENERATOR.numerical }, (_, i) => ({ name: `num_${String(i).padStart(2, '0')}`, type: 'numerical' as const })),
  ...GENERATOR.categoricalCardinalities.map((_, j) => ({ name: `cat_${j}`, type: 'categorical' as const })),
];

const endpointFor = (scale: Scale) => `drift-bench-${scale.toLowerCase()}`;
const VARIANT = 'AllTraffic';
const CAPTURE_PREFIX = 'capture';
const REFERENCE_KEY = 'reference/train.csv';
const REFERENCE_MANIFEST_KEY = 'reference/manifest.json';

// ---------------------------------------------------------------------------------------------------
// The data: Model Monitor data capture (domain/capture.ts), CSV-encoded endpointInput with the 25
// features in schema order, a CSV endpointOutput score, under {prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/.

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Four shapes in turn; num_00..num_04 move in current traffic, from obvious to barely measurable. */
function drawNumerical(i: number, random: () => number, current: boolean): number {
  const drift = current && i < 5;
  switch (i % 4) {
    case 0: // normal; num_00 shifts by 0.25 sd, num_04 by 0.02 sd (a p-value test sees it, a distance hardly)
      return 3 * i + (1 + i / 10) * (normal(random) + (drift ? (i === 0 ? 0.25 : 0.02) : 0));
    case 1: // lognormal; num_01 widens
      return Math.exp(0.5 + (0.5 + i / 40) * (drift ? 1.15 : 1) * normal(random));
    case 2: // uniform; num_02 stretches by 10 %
      return random() * (10 + i) * (drift ? 1.1 : 1);
    default: // exponential; num_03's scale grows by 20 %
      return -Math.log(1 - random()) * (1 + i / 5) * (drift ? 1.2 : 1);
  }
}

/** Zipf-like weights; cat_0's reverse in current traffic, and cat_4 gains a category the reference never had. */
function categoricalWeights(j: number, current: boolean): number[] {
  const k = GENERATOR.categoricalCardinalities[j]!;
  const weights = Array.from({ length: k }, (_, c) => 1 / (c + 1));
  if (current && j === 0) weights.reverse();
  if (current && j === 4) weights.push(0.01 * weights.reduce((a, b) => a + b, 0));
  const total = weights.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  return weights.map((w) => (cumulative += w / total));
}

function drawCategory(cumulative: number[], random: () => number): number {
  const u = random();
  for (let c = 0; c < cumulative.length - 1; c++) if (u < cumulative[c]!) return c;
  return cumulative.length - 1;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function featureRow(random: () => number, current: boolean, categories: number[][]): string {
  const values: (number | string)[] = [];
  for (let i = 0; i < GENERATOR.numerical; i++) values.push(round4(drawNumerical(i, random, current)));
  for (const cumulative of categories) values.push(drawCategory(cumulative, random));
  return values.join(',');
}

function hex(random: () => number, digits: number): string {
  let out = '';
  while (out.length < digits) out += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return out.slice(0, digits);
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** One capture object: its key and text. Each file has its own seed, so any file can be made alone. */
function captureFile(scale: Scale, fileIndex: number): { key: string; body: string } {
  const random = seededRandom(GENERATOR.seed + 1_000_003 * (scale === '1M' ? 1 : 2) + 7_919 * fileIndex);
  const categories = GENERATOR.categoricalCardinalities.map((_, j) => categoricalWeights(j, true));
  const fileSeconds = 3600 / GENERATOR.filesPerHour;
  const fileStart = Date.parse(GENERATOR.start) + fileIndex * fileSeconds * 1000;
  const lines: string[] = [];
  for (let r = 0; r < GENERATOR.recordsPerFile; r++) {
    const at = new Date(fileStart + Math.floor((r * fileSeconds) / GENERATOR.recordsPerFile) * 1000);
    const input = featureRow(random, true, categories);
    const score = round4(random());
    lines.push(
      `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${input}","encoding":"CSV"},` +
        `"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"${score}","encoding":"CSV"}},` +
        `"eventMetadata":{"eventId":"${uuid(random)}","inferenceTime":"${at.toISOString().slice(0, 19)}Z"},"eventVersion":"0"}`,
    );
  }
  const t = new Date(fileStart);
  const hour = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
  const name = `${pad(t.getUTCMinutes())}-${pad(t.getUTCSeconds())}-${pad(t.getUTCMilliseconds(), 3)}-${uuid(random)}.jsonl`;
  return { key: `${CAPTURE_PREFIX}/${endpointFor(scale)}/${VARIANT}/${hour}/${name}`, body: `${lines.join('\n')}\n` };
}

/** The champion's training data: headerless CSV, label first (the dataset versions' format). */
function referenceCsv(): string {
  const random = seededRandom(GENERATOR.seed);
  const categories = GENERATOR.categoricalCardinalities.map((_, j) => categoricalWeights(j, false));
  const lines: string[] = [];
  for (let r = 0; r < GENERATOR.referenceRows; r++) lines.push(`${random() < 0.3 ? 1 : 0},${featureRow(random, false, categories)}`);
  return `${lines.join('\n')}\n`;
}

function windowOf(scale: Scale): { from: string; to: string; hours: number } {
  const files = SCALES[scale] / GENERATOR.recordsPerFile;
  const hours = Math.ceil(files / GENERATOR.filesPerHour);
  const from = Date.parse(GENERATOR.start);
  return { from: new Date(from).toISOString(), to: new Date(from + hours * 3_600_000 - 1000).toISOString(), hours };
}

interface GeneratedState {
  generator: typeof GENERATOR;
  reference?: boolean;
  scales: Partial<Record<Scale, { files: number; records: number; bytes: number }>>;
}

const stateFile = () => path.join(DATA_DIR, 'generated.json');
const s3Dir = () => path.join(DATA_DIR, 's3');
/** Where s3rver keeps an object's bytes: the key's path plus `._S3rver_object`. */
const s3rverPath = (key: string) => path.join(s3Dir(), BUCKET, ...key.split('/')) + '._S3rver_object';
const captureDir = (scale: Scale) => path.join(s3Dir(), BUCKET, CAPTURE_PREFIX, endpointFor(scale));

async function readState(): Promise<GeneratedState> {
  const fresh: GeneratedState = { generator: GENERATOR, scales: {} };
  try {
    const state = JSON.parse(await readFile(stateFile(), 'utf8')) as GeneratedState;
    if (JSON.stringify(state.generator) === JSON.stringify(GENERATOR)) return state;
    process.stderr.write('drift: the generator changed since the data was made; generating it anew\n');
  } catch {
    // none yet
  }
  await rm(DATA_DIR, { recursive: true, force: true });
  await mkdir(DATA_DIR, { recursive: true });
  return fresh;
}

/** Makes whatever the requested scales still lack (once; later runs reuse it), through s3rver's PutObject. */
async function ensureData(scales: Scale[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const state = await readState();
  const missing = scales.filter((s) => !state.scales[s]);
  if (state.reference && missing.length === 0) return;
  // A scale interrupted half-way is made again from scratch.
  for (const scale of missing) await rm(captureDir(scale), { recursive: true, force: true });
  const { LOCAL_S3_CREDENTIALS, startLocalS3 } = await localS3();
  const server = await startLocalS3({ directory: s3Dir(), buckets: [BUCKET] });
  try {
    const s3 = new S3Client({ region: REGION, endpoint: server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
    if (!state.reference) {
      process.stderr.write(`drift: generating the reference (${GENERATOR.referenceRows} rows)\n`);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: REFERENCE_KEY, Body: referenceCsv(), ContentType: 'text/csv' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: REFERENCE_MANIFEST_KEY, Body: JSON.stringify(referenceManifest()), ContentType: 'application/json' }));
      state.reference = true;
      await writeFile(stateFile(), JSON.stringify(state, null, 2));
    }
    for (const scale of missing) {
      const files = SCALES[scale] / GENERATOR.recordsPerFile;
      const started = Date.now();
      let bytes = 0;
      for (let f = 0; f < files; f++) {
        const { key, body } = captureFile(scale, f);
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'application/jsonl' }));
        bytes += Buffer.byteLength(body);
        if ((f + 1) % 50 === 0 || f + 1 === files) {
          process.stderr.write(`drift: generating ${scale} records: ${f + 1}/${files} files, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
        }
      }
      state.scales[scale] = { files, records: SCALES[scale], bytes };
      await writeFile(stateFile(), JSON.stringify(state, null, 2));
    }
  } finally {
    await server.close();
  }
}

/**
 * Data generation starts s3rver in the bench's own process; the measured children, which load this file too,
 * never load it, so its start-up is not counted against them.
 */
function localS3() {
  return import('../local/s3');
}

function referenceManifest() {
  return {
    versionId: 'drift-bench-reference',
    model: 'drift-bench',
    parent: null,
    createdFrom: [],
    params: { generator: GENERATOR },
    schema: { label: { name: 'label', classes: 2 }, features: DRIFT_BENCH_FEATURES },
    counts: { total: GENERATOR.referenceRows, new: GENERATOR.referenceRows, duplicates: 0, conflicts: 0, quarantined: 0, quarantinedByReason: {} },
    classBalance: {},
    splits: {
      train: { uri: `s3://${BUCKET}/${REFERENCE_KEY}`, rows: GENERATOR.referenceRows },
      validation: { uri: `s3://${BUCKET}/reference/empty.csv`, rows: 0 },
      holdout: { uri: `s3://${BUCKET}/reference/empty.csv`, rows: 0 },
    },
    quarantineUri: null,
  };
}

// ---------------------------------------------------------------------------------------------------
// The suite.

/** What every side prints as its last stdout line. */
interface SideResult {
  records: number;
  /** VmHWM the child read from /proc/self/status just before printing, KiB. */
  vmHwmKiB: number;
  verdict: string;
  drifted: string[];
  methods: Record<string, string>;
  phases: Record<string, number>;
}

type Measured = MeasuredSide<SideResult>;

/** Fold threads for the `oursThreads` side: one per core. */
const THREADS = availableParallelism();

type Side = 'ours' | 'oursThreads' | 'readCeiling' | 'numpyScipy' | 'evidently';
const SIDE_LABEL: Record<Side, string> = {
  ours: 'ours',
  oursThreads: `ours, ${THREADS} fold threads`,
  readCeiling: 'S3 read ceiling',
  numpyScipy: 'numpy-scipy',
  evidently: 'evidently',
};

interface SideFigures {
  recordsPerSecond: number | null;
  peakRssMiB: number | null;
  failure?: string;
  runs: Measured[];
}

export async function driftSuite(): Promise<Figure[]> {
  const scales = envList('BENCH_DRIFT_SCALES', '1M,10M').map((s) => s.toUpperCase()) as Scale[];
  for (const s of scales) if (!(s in SCALES)) throw new Error(`BENCH_DRIFT_SCALES: unknown scale ${s} (known: ${Object.keys(SCALES).join(', ')})`);
  const repeats: Record<Scale, number> = { '1M': Number(process.env.BENCH_DRIFT_REPEATS_1M ?? 3), '10M': Number(process.env.BENCH_DRIFT_REPEATS_10M ?? 3) };
  // Evidently takes some 9 minutes a run at 10M: once is enough to compare, and the other sides' medians
  // (ours' peak RSS above all, which moves by ±15 MiB from run to run) are what the targets read.
  const evidentlyRepeats10M = Number(process.env.BENCH_DRIFT_EVIDENTLY_REPEATS_10M ?? 1);
  const runsOf = (scale: Scale, side: Side) => (scale === '10M' && side === 'evidently' ? Math.min(evidentlyRepeats10M, repeats[scale]) : repeats[scale]);
  const sides = (['ours', ...envList('BENCH_DRIFT_PEERS', 'oursThreads,readCeiling,numpyScipy,evidently')] as Side[]).filter((s, i, all) => all.indexOf(s) === i);
  for (const s of sides) if (!(s in SIDE_LABEL)) throw new Error(`BENCH_DRIFT_PEERS: unknown side ${s} (known: ${Object.keys(SIDE_LABEL).join(', ')})`);
  const timeoutMs = Number(process.env.BENCH_DRIFT_TIMEOUT_MINUTES ?? 20) * 60_000;
  const suiteStarted = Date.now();

  await ensureData(scales);
  const python = sides.some((s) => s === 'numpyScipy' || s === 'evidently') ? await ensureVenv('drift', VENV, REQUIREMENTS, 'BENCH_DRIFT_PYTHON') : '';
  await compileForBench('drift');
  const results = {} as Record<Scale, Record<Side, SideFigures>>;
  for (const scale of scales) {
    await warmPageCache(scale);
    // The streaming side gets the config's drift settings as a caller has them: parsed here, not in the
    // measured child (the activity side, BENCH_DRIFT_OURS=activity, parses the whole config itself).
    const settings = { BENCH_DRIFT_SETTINGS: JSON.stringify(driftSettingsOf(await benchConfig(scale))) };
    const commands: Record<Side, [string, string[], Record<string, string>]> = {
      ours: [...benchChild('drift', 'ours', scale), settings],
      oursThreads: [...benchChild('drift', 'ours', scale), { ...settings, BENCH_DRIFT_THREADS: String(THREADS) }],
      readCeiling: [...benchChild('drift', 'read', scale), {}],
      numpyScipy: [python, [path.join(ROOT, 'bench', 'peers', 'numpy_scipy.py'), ...peerArgs(scale)], { PYTHONDONTWRITEBYTECODE: '1' }],
      evidently: [python, [path.join(ROOT, 'bench', 'peers', 'evidently_preset.py'), ...peerArgs(scale)], { PYTHONDONTWRITEBYTECODE: '1', DO_NOT_TRACK: '1', EVIDENTLY_DISABLE_TELEMETRY: '1' }],
    };
    const runs = Object.fromEntries(sides.map((s) => [s, [] as Measured[]])) as Record<Side, Measured[]>;
    const failed = new Map<Side, string>();
    // Repeats interleave the sides, so a slow minute on the machine does not land on one side alone.
    for (let r = 0; r < repeats[scale]; r++) {
      for (const side of sides) {
        if (failed.has(side) || r >= runsOf(scale, side)) continue;
        process.stderr.write(`drift: ${scale} records, ${SIDE_LABEL[side]}, run ${r + 1}/${runsOf(scale, side)}\n`);
        const [command, args, env] = commands[side];
        // Every run reads through a local S3 of its own, started before the clock and stopped after it.
        const s3 = await startBenchS3(s3Dir(), [BUCKET], REGION);
        const m = await measure<SideResult>({ label: `${scale}-${side}-${r + 1}`, command, args, env: { ...s3.env, ...env }, timeoutMs, logDir: path.join(DATA_DIR, 'logs') }).finally(() => s3.close());
        runs[side].push(m);
        if (m.failure) {
          failed.set(side, m.failure);
          process.stderr.write(`drift:   ${SIDE_LABEL[side]} ${m.failure}\n`);
        } else {
          process.stderr.write(
            `drift:   ${(m.result!.records / m.wallSeconds).toFixed(0)} records/s (${m.wallSeconds.toFixed(1)} s), peak RSS ${m.peakRssMiB.toFixed(0)} MiB, ` +
              `verdict ${m.result!.verdict}, drifted [${m.result!.drifted.join(', ')}], phases ${JSON.stringify(m.result!.phases)}\n`,
          );
          if (m.result!.records !== SCALES[scale]) throw new Error(`${SIDE_LABEL[side]} read ${m.result!.records} records at ${scale}, expected ${SCALES[scale]}`);
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
            recordsPerSecond: failure ? null : median(done.map((m) => m.result!.records / m.wallSeconds)),
            peakRssMiB: failure ? null : median(done.map((m) => m.peakRssMiB)),
            ...(failure ? { failure } : {}),
            runs: runs[side],
          },
        ];
      }),
    ) as Record<Side, SideFigures>;
  }
  process.stderr.write(`drift: suite took ${((Date.now() - suiteStarted) / 60_000).toFixed(1)} min\n`);
  return figuresFrom(scales, sides, results, runsOf);
}

function peerArgs(scale: Scale): string[] {
  return [
    '--capture-dir',
    captureDir(scale),
    '--reference',
    s3rverPath(REFERENCE_KEY),
    '--numerical',
    DRIFT_BENCH_FEATURES.filter((f) => f.type === 'numerical').map((f) => f.name).join(','),
    '--categorical',
    DRIFT_BENCH_FEATURES.filter((f) => f.type === 'categorical').map((f) => f.name).join(','),
  ];
}

/** Reads every object once so no side pays for a cold page cache that the next side would not. */
async function warmPageCache(scale: Scale): Promise<void> {
  const files = await listFiles(captureDir(scale));
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

function figuresFrom(scales: Scale[], sides: Side[], results: Record<Scale, Record<Side, SideFigures>>, runsOf: (scale: Scale, side: Side) => number): Figure[] {
  const figures: Figure[] = [];
  const round = (n: number | null, digits = 0) => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a / b, 2));
  const why = (scale: Scale, side: Side) => {
    const f = results[scale][side];
    return f.failure ? `${SIDE_LABEL[side]} ${f.failure}` : undefined;
  };
  const noteOf = (...notes: (string | undefined)[]) => {
    const text = notes.filter(Boolean).join('; ');
    return text ? { note: text } : {};
  };
  for (const scale of scales) {
    const r = results[scale];
    const runsNoteOf = (side: Side) => `median of ${runsOf(scale, side)} run${runsOf(scale, side) === 1 ? '' : 's'}`;
    const runsNote = runsNoteOf('ours');
    const ours = r.ours;
    const np = r.numpyScipy;
    const ev = r.evidently;
    figures.push({ name: `recordsPerSecond${scale}`, value: round(ours.recordsPerSecond), unit: 'records/s', target: null, peer: round(np?.recordsPerSecond ?? null), ...noteOf(np ? `peer: numpy-scipy; ${runsNote}` : runsNote, why(scale, 'ours'), np && why(scale, 'numpyScipy')) });
    if (np) figures.push({ name: `speedupVsNumpyScipy${scale}`, value: ratio(ours.recordsPerSecond, np.recordsPerSecond), unit: 'x', target: '>= 3', peer: null, ...noteOf(why(scale, 'ours'), why(scale, 'numpyScipy')) });
    if (ev) {
      figures.push({ name: `evidentlyRecordsPerSecond${scale}`, value: round(ev.recordsPerSecond), unit: 'records/s', target: null, peer: null, ...noteOf(runsNoteOf('evidently'), why(scale, 'evidently')) });
      figures.push({ name: `speedupVsEvidently${scale}`, value: ratio(ours.recordsPerSecond, ev.recordsPerSecond), unit: 'x', target: null, peer: null, ...noteOf(why(scale, 'ours'), why(scale, 'evidently')) });
    }
    figures.push({ name: `peakRssMiB${scale}`, value: round(ours.peakRssMiB), unit: 'MiB', target: null, peer: round(np?.peakRssMiB ?? null), ...noteOf(np ? 'peer: numpy-scipy' : undefined, why(scale, 'ours'), np && why(scale, 'numpyScipy')) });
    if (ev) figures.push({ name: `evidentlyPeakRssMiB${scale}`, value: round(ev.peakRssMiB), unit: 'MiB', target: null, peer: null, ...noteOf(why(scale, 'evidently')) });
    const threaded = r.oursThreads;
    if (threaded) {
      figures.push({
        name: `recordsPerSecondThreads${scale}`,
        value: round(threaded.recordsPerSecond),
        unit: 'records/s',
        target: null,
        peer: round(np?.recordsPerSecond ?? null),
        ...noteOf(`ours with drift.profilingThreads = ${THREADS} (the default, 'auto', is every core but one for windows of 32 MiB or more: ${Math.max(1, THREADS - 1)} here)${np ? '; peer: numpy-scipy' : ''}; ${runsNote}`, why(scale, 'oursThreads')),
      });
      if (np) figures.push({ name: `speedupThreadsVsNumpyScipy${scale}`, value: ratio(threaded.recordsPerSecond, np.recordsPerSecond), unit: 'x', target: null, peer: null, ...noteOf(why(scale, 'oursThreads'), why(scale, 'numpyScipy')) });
      figures.push({ name: `peakRssMiBThreads${scale}`, value: round(threaded.peakRssMiB), unit: 'MiB', target: null, peer: null, ...noteOf(why(scale, 'oursThreads')) });
    }
    const ceiling = r.readCeiling;
    if (ceiling) {
      figures.push({
        name: `s3ReadCeilingRecordsPerSecond${scale}`,
        value: round(ceiling.recordsPerSecond),
        unit: 'records/s',
        target: null,
        peer: null,
        ...noteOf(`list + GET of the same objects from the local S3, ${READ_CONCURRENCY} in flight, bodies counted not parsed: the most ours can reach here`, why(scale, 'readCeiling')),
      });
    }
    // Ours picks methods as Evidently does, so the two should call the same features drifted.
    const oursDrifted = lastResult(ours)?.drifted;
    const evDrifted = ev && lastResult(ev)?.drifted;
    if (oursDrifted && evDrifted) {
      const disagree = [...oursDrifted.filter((f) => !evDrifted.includes(f)), ...evDrifted.filter((f) => !oursDrifted.includes(f))].sort();
      figures.push({
        name: `featuresDisagreeingWithEvidently${scale}`,
        value: disagree.length,
        unit: 'features',
        target: null,
        peer: null,
        note: `ours drifted [${oursDrifted.join(', ')}]; evidently [${evDrifted.join(', ')}]; numpy-scipy (p-values) [${lastResult(np)?.drifted.join(', ') ?? 'n/a'}]`,
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
      peer: sides.includes('numpyScipy') ? growth('numpyScipy') : null,
      ...noteOf('peak RSS at 10M / at 1M; peer: numpy-scipy', why('10M', 'ours')),
    });
  }
  return figures;
}

function lastResult(side: SideFigures | undefined): SideResult | undefined {
  return side?.runs.filter((m) => m.result).at(-1)?.result;
}

// ---------------------------------------------------------------------------------------------------
// Our side, as the measured child: `node --import tsx bench/drift.ts ours <scale>`. BENCH_DRIFT_OURS picks
// the entry point: `streaming` (the default: profileCapturedTraffic + profileDatasetSplit + compareProfiles,
// as a caller outside Temporal uses them) or `activity` (the whole detectDrift activity, run outside a worker).

/** Objects the read ceiling fetches at once. */
const READ_CONCURRENCY = 4;

async function oursChild(scale: Scale): Promise<void> {
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const window = windowOf(scale);
  const started = performance.now();
  const mode = process.env.BENCH_DRIFT_OURS ?? 'streaming';
  if (mode !== 'streaming' && mode !== 'activity') throw new Error(`BENCH_DRIFT_OURS must be streaming or activity, got ${mode}`);
  const result = mode === 'activity' ? await activityDrift(s3, scale, window) : await streamingDrift(s3, scale, window);
  printResult({ ...result, phases: { ...result.phases, totalSeconds: (performance.now() - started) / 1000 } });
}

/** The ceiling the local S3 sets: list and GET every object of the window, count lines, parse nothing. */
async function readCeilingChild(scale: Scale): Promise<void> {
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const started = performance.now();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${CAPTURE_PREFIX}/${endpointFor(scale)}/${VARIANT}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const listed = performance.now();
  const records = await countLinesThroughS3(s3, BUCKET, keys, READ_CONCURRENCY);
  printResult({ records, verdict: '', drifted: [], methods: {}, phases: { listSeconds: (listed - started) / 1000, readSeconds: (performance.now() - listed) / 1000 } });
}

/** Ours as a caller outside Temporal uses it: both sides profiled from S3 at once, then compared. */
async function streamingDrift(s3: S3Client, scale: Scale, window: { from: string; to: string }): Promise<Omit<SideResult, 'vmHwmKiB'>> {
  const { profileCapturedTraffic, profileDatasetSplit } = await import('../activities/drift-profiling');
  const { compareProfiles } = await import('../domain/drift');
  const drift = process.env.BENCH_DRIFT_SETTINGS ? (JSON.parse(process.env.BENCH_DRIFT_SETTINGS) as DriftSettings) : driftSettingsOf(await benchConfig(scale));
  const features = DRIFT_BENCH_FEATURES;
  // Unset, the config's default ('auto'); Number('auto') would be NaN, which the fold reads as one thread.
  const threads = process.env.BENCH_DRIFT_THREADS ? Number(process.env.BENCH_DRIFT_THREADS) : drift.profilingThreads;
  const started = performance.now();
  const [reference, current] = await Promise.all([
    profileDatasetSplit(s3, { uri: `s3://${BUCKET}/${REFERENCE_KEY}`, features, concurrency: drift.readConcurrency }),
    profileCapturedTraffic(s3, {
      captureS3Uri: `s3://${BUCKET}/${CAPTURE_PREFIX}`,
      endpoint: endpointFor(scale),
      variant: VARIANT,
      from: new Date(window.from),
      to: new Date(window.to),
      features,
      concurrency: drift.readConcurrency,
      threads,
    }),
  ]);
  const profiled = performance.now();
  const report = compareProfiles({
    features,
    reference: reference.profile,
    current: current.profile,
    options: { pValueThreshold: drift.pValueThreshold, psiThreshold: drift.psiThreshold, driftShare: drift.driftShare, minSamples: drift.minSamples },
  });
  if (current.stats.malformedRecords > 0) throw new Error(`${current.stats.malformedRecords} malformed records, e.g. ${current.stats.malformedExamples[0]}`);
  return {
    records: current.stats.rows,
    verdict: report.verdict,
    drifted: report.driftedFeatures,
    methods: Object.fromEntries(report.features.map((f) => [f.name, f.method])),
    phases: { profileSeconds: (profiled - started) / 1000, compareSeconds: (performance.now() - profiled) / 1000 },
  };
}

/** What of the pipeline config's drift section the streaming side uses. */
type DriftSettings = Pick<PipelineConfig['drift'], 'readConcurrency' | 'profilingThreads' | 'pValueThreshold' | 'psiThreshold' | 'driftShare' | 'minSamples'>;

function driftSettingsOf({ drift }: PipelineConfig): DriftSettings {
  const { readConcurrency, profilingThreads, pValueThreshold, psiThreshold, driftShare, minSamples } = drift;
  return { readConcurrency, profilingThreads, pValueThreshold, psiThreshold, driftShare, minSamples };
}

/** The pipeline's config for this bench's endpoint, with the product's defaults for everything drift. */
async function benchConfig(scale: Scale) {
  const { parsePipelineConfig } = await import('../domain/config');
  return parsePipelineConfig({
    model: 'drift-bench',
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: endpointFor(scale), variant: VARIANT, captureS3Uri: `s3://${BUCKET}/${CAPTURE_PREFIX}` },
    drift: { windowHours: windowOf(scale).hours },
    dataset: {
      rootS3Uri: `s3://${BUCKET}/datasets`,
      newDataS3Uri: `s3://${BUCKET}/labels`,
      schema: { label: { name: 'label', classes: 2 }, features: DRIFT_BENCH_FEATURES },
    },
    training: { image: 'bench', outputS3Uri: `s3://${BUCKET}/training` },
    evaluation: { image: 'bench', outputS3Uri: `s3://${BUCKET}/evaluation`, metric: 'accuracy' },
    reportsS3Uri: `s3://${BUCKET}/reports`,
  });
}

/** The whole detectDrift activity (it also reads the manifest and writes the report), outside a worker. */
async function activityDrift(s3: S3Client, scale: Scale, window: { to: string }): Promise<Omit<SideResult, 'vmHwmKiB'>> {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  const { detectDrift } = await import('../activities/drift');
  const config = await benchConfig(scale);
  const summary: DriftSummary = await new MockActivityEnvironment().run(detectDrift, s3, {
    config,
    champion: {
      modelPackageArn: 'arn:aws:sagemaker:us-east-1:000000000000:model-package/drift-bench/1',
      modelPackageVersion: 1,
      modelDataUrl: `s3://${BUCKET}/model.tar.gz`,
      image: 'bench',
      trainingJobName: null,
      datasetVersion: 'drift-bench-reference',
      datasetManifestUri: `s3://${BUCKET}/${REFERENCE_MANIFEST_KEY}`,
      endpointConfigName: 'drift-bench',
      modelName: 'drift-bench',
      captureS3Uri: `s3://${BUCKET}/${CAPTURE_PREFIX}`,
    },
    windowEnd: window.to,
  });
  return {
    records: summary.currentCount,
    verdict: summary.verdict,
    drifted: summary.driftedFeatures,
    methods: Object.fromEntries(summary.features.map((f) => [f.name, f.method])),
    phases: {},
  };
}

if (require.main === module) {
  const [mode, scale] = process.argv.slice(2);
  if ((mode !== 'ours' && mode !== 'read') || !scale || !(scale in SCALES)) {
    console.error('usage: node --import tsx bench/drift.ts ours|read <1M|10M> (run by `npm run bench -- drift`)');
    process.exit(2);
  }
  (mode === 'ours' ? oursChild(scale as Scale) : readCeilingChild(scale as Scale)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

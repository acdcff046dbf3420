// Drift processing job: profiles the baseline split and the captured traffic of a window with the very
// code the worker runs (activities/drift.ts over domain/drift), reading the job's inputs from disk, and
// writes <output>/profiles.json ({ reference, current }: profiles and read statistics). The activity that
// started the job compares the two and writes the report.
// Usage: profile.ts --spec <dir> --capture <dir> --baseline <dir> --output <dir>
//   spec:     spec.json (activities/drift.ts DriftJobSpec): features, window, limits, read concurrency
//   capture:  the window's capture objects at their paths relative to the capture prefix (a ManifestFile
//             input); absent when the window is empty
//   baseline: the champion's training split
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { profileCaptureObjects, profileDatasetObjects, type DriftJobSpec, type DriftProfilesJson, type ObjectRef, type ObjectSource } from '../../../activities/drift-profiling';
import { ClientError, log, runEntryPoint } from '../container';
import { containerPaths } from '../opt-ml';

const paths = containerPaths();
const ARGUMENTS = ['spec', 'capture', 'baseline', 'output'] as const;
type Arguments = Record<(typeof ARGUMENTS)[number], string>;

function parseArguments(argv: readonly string[]): Arguments {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(spec|capture|baseline|output)(?:=(.*))?$/.exec(argv[i]!);
    if (!match) throw new ClientError(`unexpected argument "${argv[i]}"; usage: --spec <dir> --capture <dir> --baseline <dir> --output <dir>`);
    const value = match[2] ?? argv[++i];
    if (!value) throw new ClientError(`--${match[1]} needs a directory`);
    values.set(match[1]!, value);
  }
  for (const name of ARGUMENTS) if (!values.has(name)) throw new ClientError(`--${name} is required`);
  return Object.fromEntries(values) as Arguments;
}

/** Regular files under a directory (none if it does not exist), relative, in code-point order, dotfiles skipped. */
async function filesUnder(dir: string): Promise<{ relative: string; size: number }[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (relative.split('/').some((part) => part.startsWith('.'))) continue;
    files.push({ relative, size: (await stat(path.join(dir, relative))).size });
  }
  return files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
}

function readSpec(json: unknown): DriftJobSpec {
  const spec = json as DriftJobSpec;
  if (!Array.isArray(spec?.features) || spec.features.some((f) => typeof f?.name !== 'string' || (f.type !== 'numerical' && f.type !== 'categorical'))) {
    throw new ClientError('spec.json: "features" must be a list of {name, type: numerical|categorical}');
  }
  if (Number.isNaN(Date.parse(spec.window?.from)) || Number.isNaN(Date.parse(spec.window?.to))) throw new ClientError('spec.json: "window" needs ISO "from" and "to"');
  if (typeof spec.captureS3Uri !== 'string' || typeof spec.baselineUri !== 'string') throw new ClientError('spec.json: "captureS3Uri" and "baselineUri" are required');
  return spec;
}

async function profile(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const specFiles = await filesUnder(args.spec);
  if (specFiles.length !== 1) throw new ClientError(`the spec input must hold exactly one file (spec.json), found ${specFiles.length}`);
  let specJson: unknown;
  try {
    specJson = JSON.parse(await readFile(path.join(args.spec, specFiles[0]!.relative), 'utf8'));
  } catch (err) {
    throw new ClientError(`spec.json is not valid JSON: ${(err as Error).message}`);
  }
  const spec = readSpec(specJson);

  // Objects keep their S3 names, so examples in the report read the same as when the worker profiles.
  const files = new Map<string, string>();
  const captureRoot = spec.captureS3Uri.replace(/\/+$/, '');
  const capture: ObjectRef[] = (await filesUnder(args.capture)).map((f) => {
    const uri = `${captureRoot}/${f.relative}`;
    files.set(uri, path.join(args.capture, f.relative));
    return { uri, size: f.size };
  });
  const baselineFiles = await filesUnder(args.baseline);
  if (baselineFiles.length === 0) throw new ClientError('the baseline input holds no files');
  const baseline: ObjectRef[] = baselineFiles.map((f) => {
    const uri = baselineFiles.length === 1 ? spec.baselineUri : `${spec.baselineUri}/${f.relative}`;
    files.set(uri, path.join(args.baseline, f.relative));
    return { uri, size: f.size };
  });
  const source: ObjectSource = { open: async (uri) => createReadStream(files.get(uri)!) };
  log(`profiling ${baseline.length} baseline file(s) and ${capture.length} capture file(s) for ${spec.features.length} features`);


  let lastLog = 0;
  const onProgress = (p: { phase: string; objectsRead: number; objects: number; rows: number }) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log(`${p.phase}: ${p.objectsRead}/${p.objects} objects, ${p.rows} rows`);
  };
  const options = { features: spec.features, limits: spec.limits, concurrency: spec.readConcurrency, onProgress };
  // The instance is the job's alone: fold on every core but one, which reads.
  const threads = Math.max(1, availableParallelism() - 1);
  const [reference, current] = await Promise.all([
    profileDatasetObjects(source, baseline, options),
    profileCaptureObjects(source, capture, { ...options, threads, window: { from: new Date(spec.window.from), to: new Date(spec.window.to) } }),
  ]);
  const output: DriftProfilesJson = { reference: reference.toJSON(), current: current.toJSON() };
  await mkdir(args.output, { recursive: true });
  await writeFile(path.join(args.output, 'profiles.json'), JSON.stringify(output));

  const s = current.stats;
  const message = `baseline: ${reference.stats.rows} rows (${reference.stats.unreadableRows} unreadable); window: ${s.rows} rows from ${s.records} records in ${s.objects} objects (${s.malformedRecords} malformed, ${s.outsideWindow} outside the window)`;
  log(message);
  try {
    await mkdir(path.dirname(paths.messageFile), { recursive: true });
    await writeFile(paths.messageFile, `${message}\n`);
  } catch (err) {
    log(`could not write ${paths.messageFile}: ${(err as Error).message}`, 'WARNING');
  }
}

void runEntryPoint(profile, [paths.messageFile, paths.failureFile]);

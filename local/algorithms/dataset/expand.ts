// Dataset processing job: builds a dataset version's objects with the very code the worker runs
// (activities/dataset.ts mergeVersionObjects), reading the job's inputs from disk and writing the
// objects where SageMaker uploads them to the version's prefix. result.json says what was written and
// counted; the activity that started the job writes the version's manifest from it, last.
// Usage: expand.ts --spec <dir> --sources <dir> --parent <dir> --version <dir> --result <dir>
//   spec:    spec.json (activities/dataset.ts DatasetJobSpec): the merge plan and the inputs' S3 prefixes
//   sources: the new objects, at their paths relative to the sources prefix (a ManifestFile input)
//   parent:  the parent version's row objects, relative to the parent's prefix (a ManifestFile input)
//   version: the version's objects, at their paths relative to the version's prefix
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileObjectIo, mergeVersionObjects, type DatasetJobSpec } from '../../../activities/dataset';
import { ClientError, log, runEntryPoint } from '../container';
import { containerPaths } from '../opt-ml';

const paths = containerPaths();
const ARGUMENTS = ['spec', 'sources', 'parent', 'version', 'result'] as const;
type Arguments = Record<(typeof ARGUMENTS)[number], string>;

function parseArguments(argv: readonly string[]): Arguments {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(spec|sources|parent|version|result)(?:=(.*))?$/.exec(argv[i]!);
    if (!match) throw new ClientError(`unexpected argument "${argv[i]}"; usage: --spec <dir> --sources <dir> --parent <dir> --version <dir> --result <dir>`);
    const value = match[2] ?? argv[++i];
    if (!value) throw new ClientError(`--${match[1]} needs a directory`);
    values.set(match[1]!, value);
  }
  for (const name of ARGUMENTS) if (!values.has(name)) throw new ClientError(`--${name} is required`);
  return Object.fromEntries(values) as Arguments;
}

async function readSpec(dir: string): Promise<DatasetJobSpec> {
  const files = (await readdir(dir)).filter((f) => !f.startsWith('.'));
  if (files.length !== 1) throw new ClientError(`the spec input must hold exactly one file (spec.json), found ${files.length}`);
  let spec: DatasetJobSpec;
  try {
    spec = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8')) as DatasetJobSpec;
  } catch (err) {
    throw new ClientError(`spec.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof spec?.plan?.versionUri !== 'string' || !Array.isArray(spec.plan.sources) || typeof spec.sourcesPrefix !== 'string') {
    throw new ClientError('spec.json: "plan" (with versionUri and sources) and "sourcesPrefix" are required');
  }
  return spec;
}

async function expand(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const spec = await readSpec(args.spec);
  const versionPrefix = `${spec.plan.versionUri.replace(/\/+$/, '')}/`;
  // Inputs and outputs keep their S3 names in the plan; here each name maps to its place on the volume.
  const io = fileObjectIo((uri, purpose) => {
    const under = (prefix: string | null, dir: string) => (prefix && uri.startsWith(prefix) ? path.join(dir, uri.slice(prefix.length)) : null);
    const file = purpose === 'write' ? under(versionPrefix, args.version) : (under(spec.parentPrefix, args.parent) ?? under(spec.sourcesPrefix, args.sources));
    if (!file) throw new ClientError(`${uri} is not among the job's ${purpose === 'write' ? 'outputs' : 'inputs'}`);
    return file;
  });
  log(`merging ${spec.plan.sources.length} new object(s)${spec.plan.parent ? ` into parent ${spec.plan.parent.versionId}` : ''} as dataset version ${spec.plan.versionId}`);
  let lastLog = 0;
  const result = await mergeVersionObjects(io, { ...spec.plan, workDir: path.join(tmpdir(), 'dataset-merge') }, {
    heartbeat: (p) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      log(`${p.phase}: ${p.objectsRead}/${p.objects} objects, ${p.linesRead} lines`);
    },
  });
  await mkdir(args.result, { recursive: true });
  await writeFile(path.join(args.result, 'result.json'), JSON.stringify(result));
  const c = result.counts;
  const message = `version ${spec.plan.versionId}: ${c.total} rows (${c.new} new), ${c.duplicates} duplicates, ${c.quarantined} quarantined, ${c.retired.byAge + c.retired.byRowCap} retired`;
  log(message);
  try {
    await mkdir(path.dirname(paths.messageFile), { recursive: true });
    await writeFile(paths.messageFile, `${message}\n`);
  } catch (err) {
    log(`could not write ${paths.messageFile}: ${(err as Error).message}`, 'WARNING');
  }
}

void runEntryPoint(expand, [paths.messageFile, paths.failureFile]);

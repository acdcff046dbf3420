// Drift stage I/O: stream the baseline (the champion's training split, or read a Model Monitor baseline's
// files) and the endpoint's captured traffic into constant-memory feature profiles
// (domain/drift/profile.ts), decide (domain/drift/stage.ts), and write beside the run drift-report.json,
// drift-report.html, the window's statistics.json and the stage's constraint_violations.json. Past
// `drift.processingJobAboveBytes` the same profiling runs as a SageMaker Processing job
// (local/algorithms/drift/profile.ts) and the activity reads its output.
//
// Profiling from S3 on its own (no Temporal Context, no SageMaker client) is activities/drift-profiling.ts,
// re-exported here; decideDrift({ features, mode, reference, current, options }) in domain/drift/stage.ts
// turns two profiles into the report.
//
//   detectDrift(s3, input, jobs?): the activity; `jobs` ({ sagemaker, polling }) enables the processing-job path.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CreateProcessingJobCommandInput, ProcessingInput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { S3_URI, type PipelineConfig } from '../domain/config';
import {
  DatasetProfile,
  DEFAULT_PROFILE_LIMITS,
  type CaptureWindowStats,
  type DatasetSplitStats,
  type ProfiledFeature,
  type ProfileLimits,
} from '../domain/drift';
import { baselineProfileIdentity, baselineProfileKey, keptBaselineProfile, readKeptBaselineProfile, type BaselineProfileIdentity } from '../domain/drift/baseline-profile';
import { decideDrift, type StageReference } from '../domain/drift/stage';
import { driftReportHtml } from '../domain/drift/report-html';
import type { DriftStageReport } from '../domain/drift/stage-report';
import {
  ModelMonitorFormatError,
  modelMonitorReferenceProfile,
  parseConstraints,
  parseStatistics,
  parseViolations,
  readModelMonitorVerdict,
  writeConstraints,
  writeStatistics,
  writeViolations,
  type ModelMonitorCheckResult,
} from '../domain/model-monitor';
import { isCurrentManifest, type DatasetVersionManifest, type LegacyManifest } from '../domain/dataset-merge/manifest';
import { sageMakerName } from '../domain/job-names';
import { runTags } from '../domain/sagemaker-events';
import { getJson, getText, putJson, putText, s3Join } from './s3-objects';
import { manifestFile, processingInput, runProcessingJob } from './processing-jobs';
import { currentRun, type JobPolling } from './sagemaker-jobs';
import { foldThreadsFor } from './drift-fold';
import {
  listCaptureObjects,
  objectSize,
  profileCaptureObjects,
  profileDatasetObjects,
  s3ObjectSource,
  type CaptureWindow,
  type DriftJobSpec,
  type DriftProfilesJson,
  type ObjectRef,
  type ProfilingProgress,
} from './drift-profiling';
import type { Champion, DriftSummary } from './types';

export * from './drift-profiling';

// --- The activity -------------------------------------------------------------------------------------

export interface DetectDriftInput {
  config: PipelineConfig;
  champion: Champion;
  /** The end of the capture window, fixed by the workflow so retries read the same window. */
  windowEnd: string;
  /**
   * A monitoring execution's constraint_violations.json (e.g. from the alert that started the run): counted
   * as evidence beside the stage's own statistics, and as drifted features with drift.trustModelMonitor.
   */
  modelMonitorViolationsS3Uri?: string;
}

/** What the processing-job path needs beyond S3; without it every window is profiled in the worker. */
export interface DriftJobDependencies {
  sagemaker: SageMakerClient;
  polling: JobPolling;
}

interface ProfiledSides {
  reference: { profile: DatasetProfile; stats: DatasetSplitStats };
  current: { profile: DatasetProfile; stats: CaptureWindowStats };
}

/** The baseline as read: a dataset version's training split (profiled), or a Model Monitor baseline's files (already a profile). */
type Baseline =
  | { kind: 'dataset'; manifest: DatasetVersionManifest | LegacyManifest; split: TrainSplit; features: ProfiledFeature[] }
  | { kind: 'model-monitor'; statisticsUri: string; constraintsUri: string; reference: StageReference & { kind: 'model-monitor' } };

/** A dataset version's training split: its first object's URI (the report names it) and every object, in order. */
interface TrainSplit {
  uri: string;
  objects: ObjectRef[];
}

const PROCESSING = '/opt/ml/processing';
const GIB = 1024 ** 3;

export async function detectDrift(s3: S3Client, input: DetectDriftInput, jobs?: DriftJobDependencies): Promise<DriftSummary> {
  const { config, champion } = input;
  const context = Context.current();
  const signal = context.cancellationSignal;
  const features = config.dataset.schema.features;
  if (!champion.captureS3Uri) {
    throw ApplicationFailure.nonRetryable(`endpoint ${config.endpoint.name} does not capture data (DataCaptureConfig is off), so drift cannot be measured`, 'LineageMissing');
  }
  const captureS3Uri = champion.captureS3Uri;
  const { workflowId, runId } = currentRun();
  const runUri = s3Join(config.reportsS3Uri, config.model, workflowId, runId);
  const limits: ProfileLimits = { ...DEFAULT_PROFILE_LIMITS, categories: config.drift.maxCategories };

  // Model Monitor's files first: a missing or malformed one fails the stage before anything is streamed.
  const baseline = await readBaseline(s3, config, champion, limits);
  const givenVerdict = input.modelMonitorViolationsS3Uri ? await readModelMonitorFile(s3, input.modelMonitorViolationsS3Uri, parseViolations) : undefined;

  // Current: captured requests in the window, under {capture}/{endpoint}/{variant}/yyyy/mm/dd/hh/.
  const to = new Date(input.windowEnd);
  const from = new Date(to.getTime() - config.drift.windowHours * 3600_000);
  const window: CaptureWindow = { captureS3Uri, endpoint: config.endpoint.name, variant: config.endpoint.variant, from, to };
  const captureObjects = await listCaptureObjects(s3, { ...window, concurrency: config.drift.readConcurrency, signal });
  // The split's profile from an earlier run, when one was kept for exactly this split, columns and limits.
  const keeping = baseline.kind === 'dataset' && config.drift.keepBaselineProfile ? keptProfileLocation(config, baseline, limits) : null;
  const kept = keeping ? await readKeptProfile(s3, keeping) : null;
  const split = baseline.kind === 'dataset' && !kept ? baseline.split : null;
  const bytes = (split?.objects ?? []).reduce((n, o) => n + o.size, 0) + captureObjects.reduce((n, o) => n + o.size, 0);
  const threshold = config.drift.processingJobAboveBytes;
  const image = config.drift.processingJob.image;
  const heartbeat = throttled((progress: ProfilingProgress) => context.heartbeat(progress), 1000);
  const options = { features, limits, concurrency: config.drift.readConcurrency, signal, onProgress: heartbeat };
  // The job profiles the split only when it is to be read at all (no kept profile) and its columns are the
  // window's (spec.json has one feature list); otherwise it gets an empty baseline, and the worker reads the
  // split or has its kept profile (or the baseline is Model Monitor's).
  const splitOnJob = split !== null && baseline.kind === 'dataset' && sameFeatures(baseline.features, features);
  const profileSplitHere = (): Promise<ProfiledSides['reference'] | null> =>
    kept ? Promise.resolve(kept) : split && baseline.kind === 'dataset' ? profileDatasetObjects(s3ObjectSource(s3), split.objects, { ...options, features: baseline.features }) : Promise.resolve(null);

  let current: ProfiledSides['current'];
  let splitProfile: ProfiledSides['reference'] | null;
  let processing: Record<string, unknown>;
  if (bytes > threshold && image && jobs) {
    const jobName = sageMakerName({ model: config.model, kind: 'drift', workflowId, runId });
    const jobUri = s3Join(runUri, 'drift-job');
    const jobBaseline: ObjectRef[] = splitOnJob ? split!.objects : [{ uri: s3Join(jobUri, 'empty-baseline', 'empty.csv'), size: 0 }];
    const [job, here] = await Promise.all([
      profileInProcessingJob(s3, jobs, {
        config,
        image,
        jobName,
        jobUri,
        spec: { features, window: { from: from.toISOString(), to: to.toISOString() }, limits, readConcurrency: config.drift.readConcurrency, captureS3Uri, baselineUri: jobBaseline.length === 1 ? jobBaseline[0]!.uri : sharedPrefix(jobBaseline).replace(/\/+$/, '') },
        captureObjects,
        baseline: jobBaseline,
        emptyBaseline: !splitOnJob,
        bytes,
        tags: runTags({ model: config.model, workflowId, runId, datasetVersion: baseline.kind === 'dataset' ? baseline.manifest.versionId : (champion.datasetVersion ?? 'unknown') }),
      }),
      splitOnJob ? Promise.resolve(null) : profileSplitHere(),
    ]);
    current = job.sides.current;
    splitProfile = splitOnJob ? job.sides.reference : here;
    processing = {
      mode: 'processing_job',
      bytes,
      thresholdBytes: threshold,
      jobName,
      reattached: job.reattached,
      outputUri: job.outputUri,
      ...(split && !splitOnJob ? { note: "the baseline split's columns differ from the window's: the worker profiled the split" } : {}),
    };
  } else {
    const [splitHere, windowProfile] = await Promise.all([
      profileSplitHere(),
      profileCaptureObjects(s3ObjectSource(s3), captureObjects, { ...options, threads: config.drift.profilingThreads, window: { from, to } }),
    ]);
    current = windowProfile;
    splitProfile = splitHere;
    processing = {
      mode: 'worker',
      bytes,
      thresholdBytes: threshold,
      readConcurrency: config.drift.readConcurrency,
      threads: foldThreadsFor(config.drift.profilingThreads, captureObjects),
      ...(bytes > threshold ? { note: `above the processing-job threshold, but ${image ? 'no SageMaker client was given' : 'drift.processingJob.image is not set'}: profiled in the worker` } : {}),
    };
  }

  if (keeping && !kept && splitProfile) await keepProfile(s3, keeping, splitProfile);
  const reference: StageReference = baseline.kind === 'dataset' ? { kind: 'dataset', profile: splitProfile!.profile } : baseline.reference;
  const decided = decideDrift({
    features,
    mode: config.drift.mode,
    reference,
    current: current.profile,
    options: {
      pValueThreshold: config.drift.pValueThreshold,
      psiThreshold: config.drift.psiThreshold,
      driftShare: config.drift.driftShare,
      minSamples: config.drift.minSamples,
    },
    ...(givenVerdict ? { modelMonitorVerdict: { violations: givenVerdict, uri: input.modelMonitorViolationsS3Uri!, trust: config.drift.trustModelMonitor } } : {}),
  });

  // Beside the run: the report (JSON and HTML), the window's statistics and the stage's violations, in Model Monitor's formats.
  const reportUri = s3Join(runUri, 'drift-report.json');
  const htmlReportUri = s3Join(runUri, 'drift-report.html');
  const statisticsUri = s3Join(runUri, 'statistics.json');
  const violationsUri = s3Join(runUri, 'constraint_violations.json');
  let suggestedBaseline: DriftStageReport['suggestedBaseline'];
  if (decided.suggestedBaseline) {
    suggestedBaseline = { statisticsUri: s3Join(runUri, 'baseline', 'statistics.json'), constraintsUri: s3Join(runUri, 'baseline', 'constraints.json') };
    await putText(s3, suggestedBaseline.statisticsUri, writeStatistics(decided.suggestedBaseline.statistics), JSON_TYPE);
    await putText(s3, suggestedBaseline.constraintsUri, writeConstraints(decided.suggestedBaseline.constraints), JSON_TYPE);
  }
  const report: DriftStageReport = {
    model: config.model,
    endpoint: config.endpoint.name,
    variant: config.endpoint.variant,
    window: { from: from.toISOString(), to: to.toISOString() },
    mode: config.drift.mode,
    baseline:
      baseline.kind === 'dataset'
        ? { kind: 'dataset', datasetVersion: baseline.manifest.versionId, uri: baseline.split.uri, ...splitProfile!.stats, ...(keeping ? { keptProfile: { uri: keeping.uri, reused: kept !== null } } : {}) }
        : { kind: 'model-monitor', statisticsUri: baseline.statisticsUri, constraintsUri: baseline.constraintsUri, rows: baseline.reference.statistics.dataset.item_count, skipped: baseline.reference.baseline.skipped },
    capture: { uri: captureS3Uri, ...current.stats },
    processing,
    profileLimits: limits,
    statisticsUri,
    violationsUri,
    htmlReportUri,
    ...(suggestedBaseline ? { suggestedBaseline } : {}),
    ...(decided.checks ? { modelMonitorChecks: checksRecord(decided.checks) } : {}),
    ...(decided.evidence ? { modelMonitor: decided.evidence } : {}),
    ...decided.report,
  };
  await putText(s3, statisticsUri, writeStatistics(decided.currentStatistics), JSON_TYPE);
  await putText(s3, violationsUri, writeViolations(decided.violations), JSON_TYPE);
  await putText(s3, htmlReportUri, driftReportHtml(report), 'text/html; charset=utf-8');
  await putJson(s3, reportUri, report);
  return {
    verdict: report.verdict,
    detected: report.verdict === 'drift',
    score: report.score,
    driftedFeatures: report.driftedFeatures,
    features: report.features.map((f) => ({ name: f.name, method: f.method, statistic: f.statistic, pValue: f.pValue, threshold: f.threshold, drifted: f.drifted, verdict: f.verdict })),
    reportUri,
    htmlReportUri,
    statisticsUri,
    violationsUri,
    mode: config.drift.mode,
    currentCount: report.currentCount,
    referenceCount: report.referenceCount,
    modelMonitor: decided.evidence ?? null,
  };
}

const JSON_TYPE = 'application/json';

interface KeptProfileLocation {
  uri: string;
  identity: BaselineProfileIdentity;
}

/** Where the split's profile is kept: one file per dataset version and identity (domain/drift/baseline-profile.ts). */
function keptProfileLocation(config: PipelineConfig, baseline: Baseline & { kind: 'dataset' }, limits: ProfileLimits): KeptProfileLocation {
  const identity = baselineProfileIdentity({ datasetVersion: baseline.manifest.versionId, objects: baseline.split.objects, features: baseline.features, limits });
  return { uri: s3Join(config.reportsS3Uri, config.model, 'baseline-profiles', baseline.manifest.versionId, `${baselineProfileKey(identity)}.json`), identity };
}

/**
 * The kept profile, or null when there is none to reuse: none yet (the usual first run for a champion),
 * or one that cannot be read or is for something else, which is said in the log and then written anew.
 */
async function readKeptProfile(s3: S3Client, at: KeptProfileLocation): Promise<ProfiledSides['reference'] | null> {
  let text: string;
  try {
    text = await getText(s3, at.uri);
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name !== 'NoSuchKey' && e.name !== 'NotFound' && e.$metadata?.httpStatusCode !== 404) {
      Context.current().log.warn('the kept baseline profile could not be read: the split is profiled instead', { uri: at.uri, error: `${e.name}: ${e.message}` });
    }
    return null;
  }
  const read = readKeptBaselineProfile(text, at.identity, at.uri);
  if ('reason' in read) {
    Context.current().log.warn('the kept baseline profile is not reused: the split is profiled and the profile written anew', { uri: at.uri, reason: read.reason });
    return null;
  }
  return read.reference;
}

/** Keeps the split's profile for the next runs; a failure to write it costs only those runs' reading the split again. */
async function keepProfile(s3: S3Client, at: KeptProfileLocation, reference: ProfiledSides['reference']): Promise<void> {
  try {
    await putJson(s3, at.uri, keptBaselineProfile(at.identity, reference));
  } catch (err) {
    const e = err as { name?: string; message?: string };
    Context.current().log.warn('the baseline profile could not be kept: the next run profiles the split again', { uri: at.uri, error: `${e.name}: ${e.message}` });
  }
}

function sameFeatures(a: readonly ProfiledFeature[], b: readonly ProfiledFeature[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.type === b[i]!.type);
}

function checksRecord(checks: ModelMonitorCheckResult): NonNullable<DriftStageReport['modelMonitorChecks']> {
  const verdict = readModelMonitorVerdict(checks.violations);
  const byCheck = Object.fromEntries(Object.entries({ ...verdict.byCheck, ...verdict.otherChecks }).filter(([, list]) => list.length > 0));
  return { violationCount: verdict.violationCount, byCheck, notCompared: checks.notCompared };
}

/**
 * The baseline drift.baseline names. A dataset version's training split, read with the columns the version
 * was written with (its manifest's schema; the config's when the manifest has none), so a feature the
 * version lacks is a missing column rather than unreadable rows. Or a Model Monitor baseline's
 * statistics.json and constraints.json, read into reference profiles.
 */
async function readBaseline(s3: S3Client, config: PipelineConfig, champion: Champion, limits: ProfileLimits): Promise<Baseline> {
  const setting = config.drift.baseline;
  if (setting.kind === 'model-monitor') {
    const [statistics, constraints] = await Promise.all([
      readModelMonitorFile(s3, setting.statisticsS3Uri, parseStatistics),
      readModelMonitorFile(s3, setting.constraintsS3Uri, parseConstraints),
    ]);
    const { profile, baseline } = asFormatFailure(() =>
      modelMonitorReferenceProfile(statistics, constraints, { statistics: setting.statisticsS3Uri, constraints: setting.constraintsS3Uri }, limits),
    );
    return { kind: 'model-monitor', statisticsUri: setting.statisticsS3Uri, constraintsUri: setting.constraintsS3Uri, reference: { kind: 'model-monitor', profile, statistics, constraints, baseline } };
  }
  if (!champion.datasetManifestUri) {
    throw ApplicationFailure.nonRetryable(`champion ${champion.modelPackageArn} records no DatasetManifestUri, so there is no baseline to compare with`, 'LineageMissing');
  }
  const manifest = await getJson<DatasetVersionManifest | LegacyManifest>(s3, champion.datasetManifestUri);
  const train = manifest.splits.train;
  // A version written as dataset-version/2 lists every CSV object of the split (a large split is written
  // as several); an older one has one object per split.
  const listed = isCurrentManifest(manifest) && Array.isArray(manifest.splits.train.objects) && manifest.splits.train.objects.length > 0 ? manifest.splits.train.objects : null;
  const objects: ObjectRef[] = listed ? listed.map((o) => ({ uri: o.uri, size: o.bytes })) : [{ uri: train.uri, size: await objectSize(s3, train.uri) }];
  const schema = (manifest as { schema?: { features?: ProfiledFeature[] } }).schema;
  return { kind: 'dataset', manifest, split: { uri: train.uri, objects }, features: schema?.features ?? config.dataset.schema.features };
}

/** A Model Monitor file from S3, parsed; a missing object or a malformed file fails the stage for good, naming the file. */
async function readModelMonitorFile<T>(s3: S3Client, uri: string, parse: (text: string, file: string) => T): Promise<T> {
  if (!S3_URI.test(uri) || uri.endsWith('/')) throw ApplicationFailure.nonRetryable(`"${uri}" is not an s3:// object URI of a Model Monitor file`, 'ModelMonitorFileMissing');
  let text: string;
  try {
    text = await getText(s3, uri);
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
      throw ApplicationFailure.nonRetryable(`${uri} does not exist: the Model Monitor file cannot be read`, 'ModelMonitorFileMissing');
    }
    throw err;
  }
  return asFormatFailure(() => parse(text, uri));
}

function asFormatFailure<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ModelMonitorFormatError) throw ApplicationFailure.nonRetryable(err.message, 'ModelMonitorFormatError', { file: err.file, issues: err.issues });
    throw err;
  }
}

/**
 * The same profiling as a SageMaker Processing job: capture objects through a manifest, the baseline
 * split and a spec as inputs, profiles.json as output. The name derives from the run, so a retried
 * activity (or a restarted worker) finds the job and waits on it instead of starting another.
 */
async function profileInProcessingJob(
  s3: S3Client,
  deps: DriftJobDependencies,
  job: {
    config: PipelineConfig;
    image: string;
    jobName: string;
    jobUri: string;
    spec: DriftJobSpec;
    captureObjects: ObjectRef[];
    /** The split's objects: one is the input itself, several go in through a manifest (baseline.manifest). */
    baseline: ObjectRef[];
    /** The baseline input is an empty object, written with the other inputs: the job profiles the window only. */
    emptyBaseline: boolean;
    bytes: number;
    tags: { Key: string; Value: string }[];
  },
): Promise<{ sides: ProfiledSides; reattached: boolean; outputUri: string }> {
  const { sagemaker } = deps;
  const { config, jobName, jobUri, spec } = job;
  const settings = config.drift.processingJob;
  const manifestUri = s3Join(jobUri, 'capture.manifest');
  const specUri = s3Join(jobUri, 'spec', 'spec.json');
  const outputUri = s3Join(jobUri, 'output');
  const capturePrefix = `${spec.captureS3Uri.replace(/\/+$/, '')}/`;

  const baselineManifestUri = s3Join(jobUri, 'baseline.manifest');
  const baselinePrefix = sharedPrefix(job.baseline);
  const inputs: ProcessingInput[] = [
    processingInput('spec', specUri, 'S3Prefix', `${PROCESSING}/input/spec`),
    job.baseline.length === 1
      ? processingInput('baseline', job.baseline[0]!.uri, 'S3Prefix', `${PROCESSING}/input/baseline`)
      : processingInput('baseline', baselineManifestUri, 'ManifestFile', `${PROCESSING}/input/baseline`),
  ];
  // An empty window has nothing to download (SageMaker refuses an input with no objects).
  if (job.captureObjects.length > 0) inputs.push(processingInput('capture', manifestUri, 'ManifestFile', `${PROCESSING}/input/capture`));
  const request: CreateProcessingJobCommandInput = {
    ProcessingJobName: jobName,
    RoleArn: config.roleArn,
    AppSpecification: {
      ImageUri: job.image,
      ContainerArguments: [
        '--spec', `${PROCESSING}/input/spec`,
        '--capture', `${PROCESSING}/input/capture`,
        '--baseline', `${PROCESSING}/input/baseline`,
        '--output', `${PROCESSING}/output/drift`,
      ],
    },
    ProcessingInputs: inputs,
    ProcessingOutputConfig: { Outputs: [{ OutputName: 'drift', S3Output: { S3Uri: outputUri, LocalPath: `${PROCESSING}/output/drift`, S3UploadMode: 'EndOfJob' } }] },
    ProcessingResources: {
      ClusterConfig: {
        InstanceCount: 1,
        InstanceType: settings.instanceType as never,
        // File mode copies the inputs onto the volume first.
        VolumeSizeInGB: Math.min(16_384, Math.max(settings.volumeSizeInGB, Math.ceil((job.bytes * 1.2) / GIB) + 1)),
      },
    },
    StoppingCondition: { MaxRuntimeInSeconds: settings.maxRuntimeInSeconds },
    Tags: job.tags,
  };

  const { reattached } = await runProcessingJob(sagemaker, {
    label: 'drift processing job',
    request,
    // Written only when the job does not exist yet: a job already running keeps the inputs it was given.
    writeInputs: async () => {
      await putJson(s3, manifestUri, manifestFile(capturePrefix, job.captureObjects.map((o) => o.uri)));
      await putJson(s3, specUri, spec);
      if (job.emptyBaseline) await putText(s3, job.baseline[0]!.uri, '');
      if (job.baseline.length > 1) await putJson(s3, baselineManifestUri, manifestFile(baselinePrefix, job.baseline.map((o) => o.uri)));
    },
    polling: deps.polling,
    failureType: 'DriftJobFailed',
  });
  const output = await getJson<DriftProfilesJson>(s3, s3Join(outputUri, 'profiles.json'));
  return {
    reattached,
    outputUri,
    sides: {
      reference: { profile: DatasetProfile.fromJSON(output.reference.profile, 'profiles.json reference'), stats: output.reference.stats },
      current: { profile: DatasetProfile.fromJSON(output.current.profile, 'profiles.json current'), stats: output.current.stats },
    },
  };
}

/** The longest prefix ending in '/' that every object's URI starts with. */
function sharedPrefix(objects: readonly ObjectRef[]): string {
  let prefix = objects[0]!.uri.slice(0, objects[0]!.uri.lastIndexOf('/') + 1);
  for (const o of objects) while (!o.uri.startsWith(prefix)) prefix = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
  return prefix;
}

/** At most one call per `ms`; the latest value wins. Heartbeats need no more, and each one costs a conversion. */
function throttled<T>(fn: (value: T) => void, ms: number): (value: T) => void {
  let last = 0;
  return (value) => {
    const now = Date.now();
    if (now - last < ms) return;
    last = now;
    fn(value);
  };
}

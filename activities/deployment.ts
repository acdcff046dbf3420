// Promotion: deploy an approved package to the endpoint (create it for the first model, otherwise a
// blue/green UpdateEndpoint with the configured DeploymentConfig), keeping the endpoint's data capture;
// then a smoke test against the evaluation's predictions, and a rollback that puts the champion back.
//
// Every step survives activity retries and a worker killed mid-way: names are deterministic, existing
// models and configs are re-used, and an update already in progress is re-attached to. Before issuing
// UpdateEndpoint the activity tags the target endpoint config with its intent and the endpoint's
// LastModifiedTime, so a retry can tell "my update never went out" (the time is unchanged: issue it)
// from "my update went out and SageMaker rolled it back" (the time moved on: report the rollback).
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListTagsCommand,
  UpdateEndpointCommand,
  type DataCaptureConfig,
  type DeploymentConfig,
  type DescribeEndpointCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DeploymentSettings, PipelineConfig } from '../domain/config';
import { sageMakerName } from '../domain/job-names';
import { isAlreadyExists, isNotFound, seconds, waitForSageMaker, type JobPolling } from './sagemaker-jobs';
import { listObjects, parseS3Uri, readLines } from './s3-objects';
import type { Champion, DatasetVersionSummary, Deployment, EndpointRollback, ServingCheck, SmokeMismatch, SmokeTestOutcome } from './types';

/** The tag on an endpoint config that records an UpdateEndpoint this pipeline meant to issue to it. */
export const UPDATE_INTENT_TAG = 'retraining:update-intent';

const SETTLING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

// ---- Deploying a candidate ---------------------------------------------------------------------

export interface DeployCandidateInput {
  config: PipelineConfig;
  modelPackageArn: string;
  champion: Champion | null;
  modelName: string;
  endpointConfigName: string;
}

/**
 * CreateModel from the package, CreateEndpointConfig carrying the serving config's DataCaptureConfig,
 * then CreateEndpoint (first model) or UpdateEndpoint with the configured DeploymentConfig, and waits
 * until the endpoint is InService. A rolled-back update is an outcome, not an error: `rolled_back`
 * with SageMaker's FailureReason and the config still serving. A first endpoint that fails is `failed`.
 */
export async function deployCandidate(sagemaker: SageMakerClient, polling: JobPolling, input: DeployCandidateInput): Promise<Deployment> {
  const { config, champion, modelName, endpointConfigName } = input;
  const endpointName = config.endpoint.name;
  const started = new Date();

  await createModelOnce(sagemaker, config, modelName, input.modelPackageArn);

  const endpoint = await describeEndpoint(sagemaker, endpointName);
  const serving = endpoint?.EndpointConfigName;
  const pending = endpoint?.PendingDeploymentSummary?.EndpointConfigName;
  // Re-check the champion just before promotion, so a concurrent manual change is not overwritten.
  const ours = serving === endpointConfigName || pending === endpointConfigName;
  if (serving && !ours && serving !== champion?.endpointConfigName && endpoint?.EndpointStatus !== 'Failed') {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${endpointName} now serves ${serving}, not the champion's ${champion?.endpointConfigName ?? '(no endpoint)'} this run started from; not overwriting a change made meanwhile`,
      'ChampionChanged',
    );
  }
  if (pending && pending !== endpointConfigName) {
    throw ApplicationFailure.nonRetryable(`endpoint ${endpointName} is being updated to ${pending} by someone else; not overwriting a change in progress`, 'ChampionChanged');
  }

  const capture = serving && endpoint?.EndpointStatus !== 'Failed' ? await captureOf(sagemaker, serving) : undefined;
  await createEndpointConfigOnce(sagemaker, config, endpointConfigName, modelName, capture ?? defaultCapture(config));

  const result = await ensureServing(sagemaker, polling, {
    endpointName,
    target: endpointConfigName,
    intent: `deploy ${endpointConfigName}`,
    deploymentConfig: deploymentConfigOf(config.endpoint.deployment),
    mayCreate: true,
  });
  return {
    status: result.status,
    endpointName,
    endpointConfigName,
    modelName,
    created: result.created,
    reattached: result.reattached,
    servingConfig: result.servingConfig,
    ...(result.reason ? { reason: result.reason } : {}),
    sageMakerSeconds: seconds(started, result.lastModified ?? new Date()),
  };
}

// ---- Putting a config in service, once ----------------------------------------------------------

interface EnsureServingInput {
  endpointName: string;
  target: string;
  /** Who wants the target in service, and why: a retry with the same intent re-attaches. */
  intent: string;
  deploymentConfig: DeploymentConfig;
  /** Create the endpoint when it does not exist (the first model); otherwise that is an error. */
  mayCreate: boolean;
}

interface EnsureServingResult {
  status: 'deployed' | 'rolled_back' | 'failed';
  servingConfig: string | null;
  reason?: string;
  created: boolean;
  reattached: boolean;
  lastModified?: Date;
}

/**
 * Brings the endpoint to serve `target`, issuing at most one CreateEndpoint or UpdateEndpoint for the
 * intent however often it is called, and waits for SageMaker to settle.
 */
async function ensureServing(sagemaker: SageMakerClient, polling: JobPolling, input: EnsureServingInput): Promise<EnsureServingResult> {
  const { endpointName, target } = input;
  let created = false;
  let reattached = false;
  let issued = false;
  for (;;) {
    const endpoint = await describeEndpoint(sagemaker, endpointName);
    if (!endpoint) {
      if (!input.mayCreate) throw ApplicationFailure.nonRetryable(`endpoint ${endpointName} does not exist: there is nothing to put ${target} back on`, 'ClientError');
      try {
        await sagemaker.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: target }));
        created = true;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      continue;
    }
    const status = endpoint.EndpointStatus ?? 'InService';
    const pending = endpoint.PendingDeploymentSummary?.EndpointConfigName;
    if (SETTLING.has(status)) {
      const toTarget = (status === 'Creating' && endpoint.EndpointConfigName === target) || pending === target;
      if (!toTarget && status !== 'SystemUpdating' && status !== 'RollingBack') {
        throw ApplicationFailure.nonRetryable(
          `endpoint ${endpointName} is ${status} towards ${pending ?? endpoint.EndpointConfigName}, not ${target}; not overwriting a change in progress`,
          'ChampionChanged',
        );
      }
      if (toTarget && !issued && !created) reattached = true;
      await waitUntilSettled(sagemaker, polling, endpointName);
      continue;
    }
    if (status === 'Failed') {
      if (endpoint.EndpointConfigName === target) {
        return {
          status: 'failed',
          servingConfig: null,
          reason: endpoint.FailureReason ?? 'SageMaker gave no FailureReason',
          created,
          reattached: reattached || !created,
          lastModified: endpoint.LastModifiedTime,
        };
      }
      // A Failed endpoint serves nothing and takes no update; DeleteEndpoint is the only way forward.
      if (!input.mayCreate) {
        throw ApplicationFailure.nonRetryable(`endpoint ${endpointName} is Failed (${endpoint.FailureReason ?? 'no reason given'}); nothing serves to roll back on`, 'DeploymentFailed');
      }
      Context.current().log.warn(`endpoint ${endpointName} is Failed on ${endpoint.EndpointConfigName}; deleting it to create it anew with ${target}`);
      await sagemaker.send(new DeleteEndpointCommand({ EndpointName: endpointName })).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      await waitUntilGone(sagemaker, polling, endpointName);
      continue;
    }
    if (endpoint.EndpointConfigName === target) {
      // Nothing issued by this call: an earlier attempt's create or update had already done it.
      return { status: 'deployed', servingConfig: target, created, reattached: reattached || (!issued && !created), lastModified: endpoint.LastModifiedTime };
    }
    // In service on another config: either our update has not gone out yet, or it went out and ended here.
    const lastModified = endpoint.LastModifiedTime?.getTime() ?? 0;
    const intent = intentHash(input.intent);
    const recorded = await readIntent(sagemaker, target);
    if (recorded?.intent === intent && recorded.lastModified !== lastModified) {
      return {
        status: 'rolled_back',
        servingConfig: endpoint.EndpointConfigName ?? null,
        reason: endpoint.FailureReason ?? `SageMaker ended the update to ${target} with ${endpoint.EndpointConfigName} still serving, and gave no FailureReason`,
        created,
        reattached: reattached || !issued,
        lastModified: endpoint.LastModifiedTime,
      };
    }
    if (issued) {
      // Our UpdateEndpoint was accepted but the endpoint does not show it yet: look again, never re-issue.
      await Context.current().sleep(polling.firstMs);
      continue;
    }
    await writeIntent(sagemaker, target, intent, lastModified);
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: target, DeploymentConfig: input.deploymentConfig }));
    issued = true;
  }
}

async function waitUntilSettled(sagemaker: SageMakerClient, polling: JobPolling, endpointName: string): Promise<void> {
  await waitForSageMaker({
    describe: () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
    isFinished: (e) => !SETTLING.has(e.EndpointStatus ?? 'InService'),
    progress: (e) => ({
      endpointName,
      status: e.EndpointStatus,
      serving: e.EndpointConfigName,
      pending: e.PendingDeploymentSummary?.EndpointConfigName,
      rollout: e.PendingDeploymentSummary?.ProductionVariants?.map((v) => v.VariantStatus?.map((s) => `${s.Status}: ${s.StatusMessage ?? ''}`).join('; ')),
    }),
    polling,
  });
}

async function waitUntilGone(sagemaker: SageMakerClient, polling: JobPolling, endpointName: string): Promise<void> {
  await waitForSageMaker({
    describe: () => describeEndpoint(sagemaker, endpointName),
    isFinished: (e) => e === null,
    progress: (e) => ({ endpointName, status: e?.EndpointStatus ?? 'deleted' }),
    polling,
  });
}

function intentHash(intent: string): string {
  return createHash('sha256').update(intent).digest('hex').slice(0, 32);
}

async function readIntent(sagemaker: SageMakerClient, configName: string): Promise<{ intent: string; lastModified: number } | null> {
  const arn = (await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).EndpointConfigArn!;
  for (let token: string | undefined; ; ) {
    const page = await sagemaker.send(new ListTagsCommand({ ResourceArn: arn, NextToken: token }));
    const tag = page.Tags?.find((t) => t.Key === UPDATE_INTENT_TAG);
    if (tag) {
      const [intent, time] = (tag.Value ?? '').split(' ');
      return intent && time ? { intent, lastModified: Number(time) } : null;
    }
    token = page.NextToken;
    if (!token) return null;
  }
}

async function writeIntent(sagemaker: SageMakerClient, configName: string, intent: string, lastModified: number): Promise<void> {
  const arn = (await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).EndpointConfigArn!;
  await sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: UPDATE_INTENT_TAG, Value: `${intent} ${lastModified}` }] }));
}

/** endpoint.deployment as SageMaker's DeploymentConfig. */
export function deploymentConfigOf(d: DeploymentSettings): DeploymentConfig {
  const size = (s: DeploymentSettings['canarySize']) => s && { Type: s.type, Value: s.value };
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: d.trafficRouting,
        WaitIntervalInSeconds: d.waitIntervalSeconds,
        ...(d.canarySize ? { CanarySize: size(d.canarySize) } : {}),
        ...(d.linearStepSize ? { LinearStepSize: size(d.linearStepSize) } : {}),
      },
      TerminationWaitInSeconds: d.bakingSeconds,
      ...(d.maximumExecutionTimeoutSeconds !== undefined ? { MaximumExecutionTimeoutInSeconds: d.maximumExecutionTimeoutSeconds } : {}),
    },
    ...(d.rollbackAlarms.length > 0 ? { AutoRollbackConfiguration: { Alarms: d.rollbackAlarms.map((AlarmName) => ({ AlarmName })) } } : {}),
  };
}

/**
 * A rollback moves all traffic back at once (the candidate is known bad, so a gradual shift would only
 * prolong it), still blue/green: the champion's fleet must answer /ping before traffic moves, and the
 * configured alarms still guard it.
 */
function rollbackDeploymentConfig(d: DeploymentSettings): DeploymentConfig {
  return deploymentConfigOf({ ...d, trafficRouting: 'ALL_AT_ONCE', canarySize: undefined, linearStepSize: undefined, waitIntervalSeconds: 0, bakingSeconds: 0, maximumExecutionTimeoutSeconds: undefined });
}

// ---- Smoke test ---------------------------------------------------------------------------------

export interface SmokeTestInput {
  config: PipelineConfig;
  dataset: DatasetVersionSummary;
  /**
   * The evaluation's holdout-predictions.jsonl: one line per holdout row, in holdout order,
   * `{"candidate": <the serving container's answer for the row>, "champion": ..., "label": ...}`.
   * Null: the rows are only checked to be answered.
   */
  predictionsUri: string | null;
  /** Where to roll back to when the smoke test fails; null for the first model. */
  champion: Champion | null;
  /** The config deployCandidate put in service. */
  candidateConfigName: string;
}

/**
 * Sends the first `endpoint.smokeTest.rows` holdout rows through InvokeEndpoint and compares each
 * answer with the evaluation's prediction for the row. A mismatch or an invocation error puts the
 * champion's config back (`rolled_back`); with no champion there is nothing to go back to (`failed`).
 */
export async function smokeTestCandidate(
  clients: { sagemaker: SageMakerClient; runtime: SageMakerRuntimeClient; s3: S3Client },
  polling: JobPolling,
  input: SmokeTestInput,
): Promise<SmokeTestOutcome> {
  const { config, champion, candidateConfigName } = input;
  const endpointName = config.endpoint.name;
  const endpoint = await describeEndpoint(clients.sagemaker, endpointName);
  const serving = endpoint?.EndpointConfigName ?? null;
  if (serving !== candidateConfigName || endpoint?.PendingDeploymentSummary) {
    // A retry after this activity decided to roll back: finish that instead of testing the champion.
    const earlier = Context.current().info.heartbeatDetails as { rollingBack?: string } | undefined;
    const towardsChampion = champion && (serving === champion.endpointConfigName || endpoint?.PendingDeploymentSummary?.EndpointConfigName === champion.endpointConfigName);
    if (!towardsChampion) {
      throw ApplicationFailure.nonRetryable(`endpoint ${endpointName} serves ${serving ?? 'nothing'}, not the candidate's ${candidateConfigName}; nothing to smoke-test`, 'ChampionChanged');
    }
    const reason = earlier?.rollingBack ?? `an earlier attempt of this smoke test failed and began putting ${champion.endpointConfigName} back`;
    return rollBackAfterSmokeTest(clients.sagemaker, polling, input, champion, reason, [], 0, null);
  }

  const rows = await holdoutRows(clients.s3, input.dataset, config.endpoint.smokeTest.rows);
  const expected = input.predictionsUri ? await firstLines(clients.s3, input.predictionsUri, rows.length) : null;
  if (expected && expected.length < rows.length) {
    throw ApplicationFailure.nonRetryable(
      `${input.predictionsUri} has ${expected.length} prediction(s) but the holdout's first ${rows.length} rows were asked for; the evaluation wrote fewer lines than the holdout has rows`,
      'SmokeTestInputMismatch',
    );
  }
  const mismatches: SmokeMismatch[] = [];
  let answeredBy: string | null = null;
  for (const [index, features] of rows.entries()) {
    Context.current().heartbeat({ smokeTestRow: index + 1 });
    let actual: unknown;
    try {
      const response = await clients.runtime.send(
        new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode(features) }),
      );
      answeredBy = /(?:^|[;,\s])training_job_name=([^;,\s]+)/.exec(response.CustomAttributes ?? '')?.[1] ?? answeredBy;
      actual = predictionOf(JSON.parse(new TextDecoder().decode(response.Body)));
    } catch (err) {
      mismatches.push({ row: index + 1, expected: expected?.[index] ?? null, actual: null, detail: `InvokeEndpoint failed: ${(err as Error).name}: ${(err as Error).message}` });
      continue;
    }
    if (expected) {
      const differences = compareAnswers(expected[index], actual, config.endpoint.smokeTest.tolerance);
      if (differences.length) mismatches.push({ row: index + 1, expected: expected[index], actual, detail: differences.join('; ') });
    }
  }
  if (mismatches.length === 0) {
    return { status: rows.length ? 'passed' : 'skipped', rows: rows.length, mismatches, servingConfig: serving, answeredBy };
  }
  const shown = mismatches.slice(0, 5).map((m) => `row ${m.row}: ${m.detail}`);
  const reason =
    `smoke test: ${mismatches.length} of ${rows.length} holdout row(s) did not match the evaluation's predictions ` +
    `(${shown.join(' | ')}${mismatches.length > shown.length ? ` | and ${mismatches.length - shown.length} more` : ''})`;
  if (!champion) {
    return { status: 'failed', rows: rows.length, mismatches, reason: `${reason}; this is the first model, so there is no champion to roll back to`, servingConfig: serving, answeredBy };
  }
  Context.current().heartbeat({ rollingBack: reason });
  return rollBackAfterSmokeTest(clients.sagemaker, polling, input, champion, reason, mismatches, rows.length, answeredBy);
}

async function rollBackAfterSmokeTest(
  sagemaker: SageMakerClient,
  polling: JobPolling,
  input: SmokeTestInput,
  champion: Champion,
  reason: string,
  mismatches: SmokeMismatch[],
  rows: number,
  answeredBy: string | null,
): Promise<SmokeTestOutcome> {
  const back = await ensureServing(sagemaker, polling, {
    endpointName: input.config.endpoint.name,
    target: champion.endpointConfigName,
    intent: `smoke-test rollback of ${input.candidateConfigName}`,
    deploymentConfig: rollbackDeploymentConfig(input.config.endpoint.deployment),
    mayCreate: false,
  });
  if (back.status !== 'deployed') {
    return {
      status: 'failed',
      rows,
      mismatches,
      reason: `${reason}; putting the champion's ${champion.endpointConfigName} back did not take: ${back.reason ?? back.status}`,
      servingConfig: back.servingConfig,
      answeredBy,
    };
  }
  return { status: 'rolled_back', rows, mismatches, reason, servingConfig: champion.endpointConfigName, answeredBy };
}

/** The first `count` holdout rows' features (label first, as the dataset writes them), in the evaluation's order. */
async function holdoutRows(s3: S3Client, dataset: DatasetVersionSummary, count: number): Promise<string[]> {
  if (count === 0) return [];
  const holdout = dataset.channels.holdout;
  const prefix = holdout.slice(0, holdout.lastIndexOf('/') + 1);
  const { bucket } = parseS3Uri(holdout);
  // The evaluation reads every file of the holdout prefix in code-point order of their names.
  const objects = (await listObjects(s3, prefix)).map((o) => o.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rows: string[] = [];
  for (const key of objects) {
    for await (const { line } of readLines(s3, `s3://${bucket}/${key}`)) {
      if (!line.trim()) continue;
      rows.push(line.split(',').slice(1).join(','));
      if (rows.length === count) return rows;
    }
  }
  if (rows.length === 0) throw ApplicationFailure.nonRetryable(`holdout ${prefix} is empty: nothing to smoke-test the endpoint with`, 'ClientError');
  return rows;
}

async function firstLines(s3: S3Client, uri: string, count: number): Promise<unknown[]> {
  const predictions: unknown[] = [];
  if (count === 0) return predictions;
  for await (const { line, number } of readLines(s3, uri)) {
    if (!line.trim()) continue;
    let record: { candidate?: unknown };
    try {
      record = JSON.parse(line) as { candidate?: unknown };
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`${uri} line ${number} is not JSON: ${(err as Error).message}`, 'SmokeTestInputMismatch');
    }
    if (record === null || typeof record !== 'object' || !('candidate' in record)) {
      throw ApplicationFailure.nonRetryable(`${uri} line ${number} has no "candidate" prediction`, 'SmokeTestInputMismatch');
    }
    predictions.push(record.candidate);
    if (predictions.length === count) break;
  }
  return predictions;
}

/** The container answers one row as `{"predictions": [p]}` (SageMaker's built-in JSON) or as `p` itself. */
function predictionOf(body: unknown): unknown {
  const predictions = (body as { predictions?: unknown })?.predictions;
  return Array.isArray(predictions) && predictions.length === 1 ? predictions[0] : body;
}

/** Where two answers differ: numbers within a relative tolerance, everything else exactly. */
export function compareAnswers(expected: unknown, actual: unknown, tolerance: number, path = ''): string[] {
  const at = path || 'answer';
  if (typeof expected === 'number' && typeof actual === 'number') {
    const gap = Math.abs(expected - actual);
    return gap <= 1e-12 || gap <= tolerance * Math.max(Math.abs(expected), Math.abs(actual)) ? [] : [`${at} ${actual} != expected ${expected}`];
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return [`${at} has ${actual.length} item(s), expected ${expected.length}`];
    return expected.flatMap((e, i) => compareAnswers(e, actual[i], tolerance, `${at}[${i}]`));
  }
  if (isRecord(expected) && isRecord(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap((k) => {
      const where = path ? `${path}.${k}` : k;
      if (!(k in actual)) return [`${where} missing, expected ${JSON.stringify(expected[k])}`];
      if (!(k in expected)) return [`${where} ${JSON.stringify(actual[k])} not in the evaluation's prediction`];
      return compareAnswers(expected[k], actual[k], tolerance, where);
    });
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [`${at} ${JSON.stringify(actual)} != expected ${JSON.stringify(expected)}`];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---- The rollback command --------------------------------------------------------------------

export interface RollbackEndpointInput {
  config: PipelineConfig;
  /** An endpoint config that served before, or a model package to deploy afresh. */
  to: { endpointConfigName: string } | { modelPackageArn: string };
  /** Names this rollback for idempotence; default: the calling workflow run. */
  requestId?: string;
}

/**
 * Puts a previous champion back on the endpoint with the same blue/green UpdateEndpoint (all traffic
 * at once, the configured alarms watching), and waits. Idempotent like deployCandidate: a retry with
 * the same request attaches to the update it issued. From a model package, the model and endpoint
 * config get names derived from the package, so asking twice re-uses them.
 */
export async function rollbackEndpoint(sagemaker: SageMakerClient, polling: JobPolling, input: RollbackEndpointInput): Promise<EndpointRollback> {
  const { config } = input;
  const endpointName = config.endpoint.name;
  const started = new Date();
  const endpoint = await describeEndpoint(sagemaker, endpointName);
  if (!endpoint) throw ApplicationFailure.nonRetryable(`endpoint ${endpointName} does not exist: there is nothing to roll back`, 'ClientError');
  const previousConfig = endpoint.EndpointConfigName ?? null;
  let target: string;
  if ('endpointConfigName' in input.to) {
    target = input.to.endpointConfigName;
    try {
      await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: target }));
    } catch (err) {
      if (isNotFound(err)) throw ApplicationFailure.nonRetryable(`endpoint config ${target} does not exist (deleted?); roll back to its model package instead`, 'ClientError');
      throw err;
    }
  } else {
    const arn = input.to.modelPackageArn;
    const pkg = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    if (pkg.ModelApprovalStatus !== 'Approved') {
      throw ApplicationFailure.nonRetryable(`model package ${arn} is ${pkg.ModelApprovalStatus}, not Approved; only an approved package can serve`, 'ClientError');
    }
    const modelName = sageMakerName({ model: config.model, kind: 'model', workflowId: 'rollback', runId: pkg.ModelPackageArn ?? arn });
    target = sageMakerName({ model: config.model, kind: 'config', workflowId: 'rollback', runId: pkg.ModelPackageArn ?? arn });
    await createModelOnce(sagemaker, config, modelName, pkg.ModelPackageArn ?? arn);
    const capture = previousConfig && endpoint.EndpointStatus !== 'Failed' ? await captureOf(sagemaker, previousConfig) : undefined;
    await createEndpointConfigOnce(sagemaker, config, target, modelName, capture ?? defaultCapture(config));
  }
  const execution = Context.current().info.workflowExecution;
  const requestId = input.requestId ?? `${execution?.workflowId ?? ''}/${execution?.runId ?? ''}`;
  const result = await ensureServing(sagemaker, polling, {
    endpointName,
    target,
    intent: `rollback to ${target} for ${requestId}`,
    deploymentConfig: rollbackDeploymentConfig(config.endpoint.deployment),
    mayCreate: false,
  });
  return {
    status: result.status === 'deployed' ? 'rolled_back' : 'failed',
    endpointName,
    endpointConfigName: target,
    previousConfig,
    servingConfig: result.servingConfig,
    ...(result.reason ? { reason: result.reason } : {}),
    reattached: result.reattached,
    sageMakerSeconds: seconds(started, result.lastModified ?? new Date()),
  };
}

// ---- Shared steps -------------------------------------------------------------------------------

async function createModelOnce(sagemaker: SageMakerClient, config: PipelineConfig, modelName: string, modelPackageArn: string): Promise<void> {
  await createUnlessExists(
    () => sagemaker.send(new DescribeModelCommand({ ModelName: modelName })),
    () =>
      sagemaker.send(
        new CreateModelCommand({ ModelName: modelName, ExecutionRoleArn: config.roleArn, PrimaryContainer: { ModelPackageName: modelPackageArn }, Tags: hostingTags(config) }),
      ),
  );
}

/** endpoint.tags, on every model and endpoint config the pipeline creates, beside its own retraining:model. */
function hostingTags(config: PipelineConfig): { Key: string; Value: string }[] {
  return [{ Key: 'retraining:model', Value: config.model }, ...Object.entries(config.endpoint.tags).map(([Key, Value]) => ({ Key, Value }))];
}

async function createEndpointConfigOnce(sagemaker: SageMakerClient, config: PipelineConfig, name: string, modelName: string, capture: DataCaptureConfig): Promise<void> {
  await createUnlessExists(
    () => sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })),
    () =>
      sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: name,
          ProductionVariants: [
            {
              VariantName: config.endpoint.variant,
              ModelName: modelName,
              InstanceType: config.endpoint.instanceType as never,
              InitialInstanceCount: config.endpoint.initialInstanceCount,
              InitialVariantWeight: 1,
            },
          ],
          DataCaptureConfig: capture,
          Tags: hostingTags(config),
        }),
      ),
  );
}

async function captureOf(sagemaker: SageMakerClient, configName: string): Promise<DataCaptureConfig | undefined> {
  return (await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }))).DataCaptureConfig;
}

export interface VerifyServingInput {
  config: PipelineConfig;
  expectedTrainingJob: string;
  dataset: DatasetVersionSummary;
}

/** Sends one holdout row through InvokeEndpoint and reads which training job's model answered. */
export async function verifyServing(runtime: SageMakerRuntimeClient, s3: S3Client, input: VerifyServingInput): Promise<ServingCheck> {
  let features: string | undefined;
  for await (const { line } of readLines(s3, input.dataset.channels.holdout)) {
    if (line.trim()) {
      features = line.split(',').slice(1).join(',');
      break;
    }
  }
  if (!features) throw ApplicationFailure.nonRetryable(`holdout ${input.dataset.channels.holdout} is empty: nothing to verify the endpoint with`, 'ClientError');
  const response = await runtime.send(
    new InvokeEndpointCommand({ EndpointName: input.config.endpoint.name, ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode(features) }),
  );
  const answeredBy = /(?:^|[;,\s])training_job_name=([^;,\s]+)/.exec(response.CustomAttributes ?? '')?.[1] ?? null;
  return { servingNewModel: answeredBy === input.expectedTrainingJob, answeredBy };
}

async function describeEndpoint(sagemaker: SageMakerClient, name: string): Promise<DescribeEndpointCommandOutput | null> {
  try {
    return await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function createUnlessExists(describe: () => Promise<unknown>, create: () => Promise<unknown>): Promise<void> {
  try {
    await describe();
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await create();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

function defaultCapture(config: PipelineConfig): DataCaptureConfig {
  return {
    EnableCapture: true,
    InitialSamplingPercentage: 100,
    DestinationS3Uri: config.endpoint.captureS3Uri,
    CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
    CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
  };
}

// The deployment activities against the local SageMaker and S3, through the unmodified AWS SDK:
// first deployment, a blue/green update SageMaker rolls back, the smoke test against the evaluation's
// predictions (and the rollback it triggers), the rollback command, and an attempt killed with
// SIGKILL mid-update whose retry issues no second UpdateEndpoint.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  type DescribeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { MockActivityEnvironment } from '@temporalio/testing';
import { create as createTar } from 'tar';
import { deployCandidate, rollbackEndpoint, smokeTestCandidate, type DeployCandidateInput } from '../activities/deployment';
import type { JobPolling } from '../activities/sagemaker-jobs';
import type { Champion, DatasetVersionSummary, Deployment, SmokeTestOutcome } from '../activities/types';
import { parsePipelineConfig, type PipelineConfig } from '../domain/config';
import { demoConfig } from '../local/demo-data';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker, type ObservedCall } from '../local/sagemaker';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUCKET = 'deployment-test';
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/test-scorer:latest`;
const POLLING: JobPolling = { firstMs: 50, maxMs: 200, factor: 2 };
const ROOT = path.resolve(__dirname, '..');

// Scores a CSV row as version/10 + (sum of features)/1000, as the linear learner answers: one prediction.
const SCORER = `
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const model = JSON.parse(readFileSync(path.join(root, 'model', 'model.json'), 'utf8'));
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ping') { res.writeHead(200); res.end(); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const features = Buffer.concat(chunks).toString('utf8').trim().split(',').map(Number);
    const score = model.version / 10 + features.reduce((a, b) => a + b, 0) / 1000;
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'training_job_name=job-v' + model.version });
    res.end(JSON.stringify({ predictions: [{ score, predicted_label: score > 0.5 ? 1 : 0 }] }));
  });
}).listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const HOLDOUT_ROWS = [
  [1, 3, 5, 7],
  [0, 2, 4, 6],
  [1, 10, 20, 30],
  [0, 1, 1, 1],
  [1, 50, 60, 70],
  [0, 9, 9, 9],
];
const score = (version: number, row: number[]) => version / 10 + row.slice(1).reduce((a, b) => a + b, 0) / 1000;

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
let local: LocalSageMaker;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;
const calls: ObservedCall[] = [];
/** When set, the next call it matches kills the attempt running in a child process. */
let killWhen: ((call: ObservedCall) => boolean) | undefined;
let attempt: ChildProcess | undefined;
const packages: Record<number, string> = {};
let dataset: DatasetVersionSummary;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'deployment-test-'));
  await writeFile(path.join(workDir, 'scorer.ts'), SCORER);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  local = await startLocalSageMaker({
    dataDir: path.join(workDir, 'sagemaker'),
    s3,
    stopGraceSeconds: 1,
    timeScale: 10,
    endpointStartupTimeoutMs: 1500,
    images: { 'test-scorer': { serve: path.join(workDir, 'scorer.ts') } },
    observeCall: async (call) => {
      calls.push(call);
      if (!killWhen?.(call) || !attempt) return;
      killWhen = undefined;
      const exited = once(attempt, 'exit');
      attempt.kill('SIGKILL');
      await exited; // dead before the caller hears back, as a crashed worker is
    },
  });
  sagemaker = new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  runtime = new SageMakerRuntimeClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  await sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'churn-propensity' }));
  for (const version of [1, 2, 3, 4]) {
    const dir = path.join(workDir, `v${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ version }));
    await createTar({ gzip: true, file: path.join(dir, 'model.tar.gz'), cwd: dir }, ['model.json']);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `models/v${version}/model.tar.gz`, Body: await readFile(path.join(dir, 'model.tar.gz')) }));
    const pkg = await sagemaker.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'churn-propensity',
        ModelApprovalStatus: 'Approved',
        InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/v${version}/model.tar.gz` }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['application/json'] },
      }),
    );
    packages[version] = pkg.ModelPackageArn!;
  }
  // The holdout in two files, read in name order, as the evaluation reads it.
  const csv = (rows: number[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'datasets/v1/holdout/part-0000.csv', Body: csv(HOLDOUT_ROWS.slice(0, 4)) }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'datasets/v1/holdout/part-0001.csv', Body: csv(HOLDOUT_ROWS.slice(4)) }));
  dataset = {
    versionId: 'v1',
    parent: null,
    manifestUri: `s3://${BUCKET}/datasets/v1/manifest.json`,
    rows: 100,
    newRows: 100,
    duplicates: 0,
    conflicts: 0,
    quarantined: 0,
    quarantinedByReason: {},
    quarantineUri: null,
    channels: { train: `s3://${BUCKET}/datasets/v1/train/part-0000.csv`, validation: `s3://${BUCKET}/datasets/v1/validation/part-0000.csv`, holdout: `s3://${BUCKET}/datasets/v1/holdout/part-0000.csv` },
    reused: false,
  };
});

after(async () => {
  if (attempt && attempt.exitCode === null) attempt.kill('SIGKILL');
  await local?.close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---- Helpers -------------------------------------------------------------------------------------

let endpoints = 0;

function pipelineConfig(endpointName: string, deployment: Record<string, unknown> = {}): PipelineConfig {
  const base = demoConfig();
  return parsePipelineConfig({ ...base, endpoint: { name: endpointName, captureS3Uri: `s3://${BUCKET}/capture`, deployment, smokeTest: { rows: 5 } } });
}

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

function deployInput(config: PipelineConfig, version: number, champion: Champion | null, runName: string): DeployCandidateInput {
  return { config, modelPackageArn: packages[version], champion, modelName: `${config.endpoint.name}-model-${runName}`, endpointConfigName: `${config.endpoint.name}-config-${runName}` };
}

function championOf(deployment: Deployment, version: number): Champion {
  return {
    modelPackageArn: packages[version],
    modelPackageVersion: version,
    modelDataUrl: `s3://${BUCKET}/models/v${version}/model.tar.gz`,
    image: IMAGE,
    trainingJobName: `job-v${version}`,
    datasetVersion: 'v1',
    datasetManifestUri: dataset.manifestUri,
    endpointConfigName: deployment.endpointConfigName,
    modelName: deployment.modelName,
    captureS3Uri: `s3://${BUCKET}/capture`,
  };
}

/** A new endpoint serving `version`, deployed by the activity as a first model. */
async function endpointServing(version: number, deployment: Record<string, unknown> = {}): Promise<{ config: PipelineConfig; champion: Champion }> {
  const config = pipelineConfig(`churn-${++endpoints}`, deployment);
  const first = await run(deployCandidate, sagemaker, POLLING, deployInput(config, version, null, 'first'));
  assert.equal(first.status, 'deployed', first.reason);
  return { config, champion: championOf(first, version) };
}

async function answers(endpointName: string, count = 3): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: 'text/csv', Body: Buffer.from('0,0,0') }));
    out.push(Math.round((JSON.parse(Buffer.from(response.Body).toString('utf8')) as { predictions: { score: number }[] }).predictions[0].score * 10));
  }
  return out;
}

/** The evaluation's holdout-predictions.jsonl for a candidate of `version` (the contract with activities/evaluation). */
async function predictionsFor(version: number, name: string, tweak?: (row: number, prediction: { score: number; predicted_label: number }) => void): Promise<string> {
  const lines = HOLDOUT_ROWS.map((row, i) => {
    const s = score(version, row);
    const candidate = { score: s, predicted_label: s > 0.5 ? 1 : 0 };
    tweak?.(i + 1, candidate);
    return JSON.stringify({ candidate, champion: { score: score(1, row), predicted_label: 0 }, label: row[0] });
  });
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `evaluation/${name}/holdout-predictions.jsonl`, Body: lines.join('\n') + '\n' }));
  return `s3://${BUCKET}/evaluation/${name}/holdout-predictions.jsonl`;
}

const count = (operation: string, endpointName?: string) =>
  calls.filter((c) => c.operation === operation && !c.error && (!endpointName || (c.input as { EndpointName?: string }).EndpointName === endpointName)).length;

async function settledEndpoint(name: string): Promise<DescribeEndpointCommandOutput> {
  for (;;) {
    const e = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (e.EndpointStatus === 'InService' || e.EndpointStatus === 'Failed') return e;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ---- Tests ---------------------------------------------------------------------------------------

describe('deployCandidate', () => {
  test('the first model creates the endpoint; a blue/green update replaces it; running it again changes nothing', async () => {
    const { config, champion } = await endpointServing(1);
    assert.deepEqual(await answers(config.endpoint.name), [1, 1, 1]);
    const input = deployInput(config, 2, champion, 'run2');
    const deployed = await run(deployCandidate, sagemaker, POLLING, input);
    assert.equal(deployed.status, 'deployed', deployed.reason);
    assert.equal(deployed.created, false);
    assert.equal(deployed.reattached, false, 'this call issued the update');
    assert.equal(deployed.servingConfig, input.endpointConfigName);
    assert.deepEqual(await answers(config.endpoint.name), [2, 2, 2]);

    const updates = count('UpdateEndpoint', config.endpoint.name);
    const again = await run(deployCandidate, sagemaker, POLLING, input);
    assert.equal(again.status, 'deployed');
    assert.equal(again.reattached, true, 'found done, not issued');
    assert.equal(count('UpdateEndpoint', config.endpoint.name), updates, 'a re-run issues no second update');
  });

  test('an alarm during baking: SageMaker rolls back, the outcome says rolled_back and the champion still answers', async () => {
    const { config, champion } = await endpointServing(1, { bakingSeconds: 60, rollbackAlarms: ['churn-5xx'] });
    local.setAlarmState('churn-5xx', 'OK');
    const deployment = run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, champion, 'run2'));
    // Trip the alarm once the new fleet has all traffic and bakes.
    for (;;) {
      const e = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: config.endpoint.name }));
      if (e.PendingDeploymentSummary?.ProductionVariants?.[0]?.VariantStatus?.[0]?.Status === 'Baking') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    local.setAlarmState('churn-5xx', 'ALARM');
    try {
      const outcome = await deployment;
      assert.equal(outcome.status, 'rolled_back');
      assert.equal(outcome.servingConfig, champion.endpointConfigName, 'the champion serves');
      assert.equal(outcome.reason, 'Deployment was rolled back because the following CloudWatch alarm(s) went into ALARM state: churn-5xx.');
      assert.deepEqual(await answers(config.endpoint.name), [1, 1, 1], 'the champion still answers');
    } finally {
      local.setAlarmState('churn-5xx', 'OK');
    }
  });

  test('a first model that never gets healthy: failed, nothing serves; the next deployment replaces the Failed endpoint', async () => {
    const config = pipelineConfig(`churn-${++endpoints}`);
    const input = deployInput(config, 1, null, 'first');
    await sagemaker.send(
      new CreateModelCommand({ ModelName: input.modelName, ExecutionRoleArn: config.roleArn, PrimaryContainer: { ModelPackageName: packages[1] }, Tags: [{ Key: 'local-sagemaker:faults', Value: 'unhealthy' }] }),
    );
    const failed = await run(deployCandidate, sagemaker, POLLING, input);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.created, true);
    assert.equal(failed.servingConfig, null);
    assert.match(failed.reason!, /did not pass the ping health check/);
    assert.equal((await run(deployCandidate, sagemaker, POLLING, input)).status, 'failed', 'a retry reports the same, creating nothing');
    assert.equal(count('CreateEndpoint', config.endpoint.name), 1);

    const next = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, null, 'second'));
    assert.equal(next.status, 'deployed', next.reason);
    assert.equal(count('DeleteEndpoint', config.endpoint.name), 1);
    assert.deepEqual(await answers(config.endpoint.name), [2, 2, 2]);
  });

  test('the DeploymentConfig sent is the configured one', async () => {
    const { config, champion } = await endpointServing(1, {
      trafficRouting: 'LINEAR',
      linearStepSize: { type: 'CAPACITY_PERCENT', value: 50 },
      waitIntervalSeconds: 5,
      bakingSeconds: 5,
      maximumExecutionTimeoutSeconds: 600,
      rollbackAlarms: ['a', 'b'],
    });
    const outcome = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, champion, 'run2'));
    assert.equal(outcome.status, 'deployed', outcome.reason);
    const update = calls.filter((c) => c.operation === 'UpdateEndpoint' && (c.input as { EndpointName: string }).EndpointName === config.endpoint.name).at(-1)!;
    assert.deepEqual((update.input as { DeploymentConfig: unknown }).DeploymentConfig, {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'LINEAR', WaitIntervalInSeconds: 5, LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 50 } },
        TerminationWaitInSeconds: 5,
        MaximumExecutionTimeoutInSeconds: 600,
      },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'a' }, { AlarmName: 'b' }] },
    });
  });
});

describe('smoke test', () => {
  test('answers that match the evaluation pass', async () => {
    const { config, champion } = await endpointServing(1);
    const deployed = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, champion, 'run2'));
    const outcome = await run(smokeTestCandidate, { sagemaker, runtime, s3 }, POLLING, {
      config,
      dataset,
      predictionsUri: await predictionsFor(2, 'pass'),
      champion,
      candidateConfigName: deployed.endpointConfigName,
    });
    assert.equal(outcome.status, 'passed', outcome.reason);
    assert.equal(outcome.rows, 5, 'endpoint.smokeTest.rows, across both holdout files');
    assert.equal(outcome.answeredBy, 'job-v2');
    assert.equal(outcome.servingConfig, deployed.endpointConfigName);
  });

  test('a mismatch rolls the champion back and names each differing row', async () => {
    const { config, champion } = await endpointServing(1);
    const deployed = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 3, champion, 'run2'));
    assert.deepEqual(await answers(config.endpoint.name), [3, 3, 3]);
    // The evaluation scored a version-3 model, but rows 2 and 5 of what it wrote differ from what the endpoint says.
    const predictionsUri = await predictionsFor(3, 'mismatch', (row, p) => {
      if (row === 2) p.score += 0.01;
      if (row === 5) p.predicted_label = 1 - p.predicted_label;
    });
    const outcome = await run(smokeTestCandidate, { sagemaker, runtime, s3 }, POLLING, { config, dataset, predictionsUri, champion, candidateConfigName: deployed.endpointConfigName });
    assert.equal(outcome.status, 'rolled_back');
    assert.deepEqual(outcome.mismatches.map((m) => m.row), [2, 5]);
    assert.match(outcome.mismatches[0].detail, /^score 0\.312 != expected 0\.322$/);
    assert.match(outcome.mismatches[1].detail, /^predicted_label 0 != expected 1$/);
    assert.match(outcome.reason!, /^smoke test: 2 of 5 holdout row\(s\) did not match the evaluation's predictions \(row 2: score .* \| row 5: predicted_label 0 != expected 1\)$/);
    assert.equal(outcome.servingConfig, champion.endpointConfigName);
    assert.equal((await settledEndpoint(config.endpoint.name)).EndpointConfigName, champion.endpointConfigName);
    assert.deepEqual(await answers(config.endpoint.name), [1, 1, 1], 'the champion answers again');

    // A retry of the same activity finishes the same rollback: no second UpdateEndpoint.
    const updates = count('UpdateEndpoint', config.endpoint.name);
    const retried: SmokeTestOutcome = await new MockActivityEnvironment({ heartbeatDetails: { rollingBack: outcome.reason } }).run(smokeTestCandidate, { sagemaker, runtime, s3 }, POLLING, {
      config,
      dataset,
      predictionsUri,
      champion,
      candidateConfigName: deployed.endpointConfigName,
    });
    assert.equal(retried.status, 'rolled_back');
    assert.equal(retried.reason, outcome.reason);
    assert.equal(count('UpdateEndpoint', config.endpoint.name), updates);
  });

  test('the first model has nothing to roll back to: failed, and it keeps serving', async () => {
    const config = pipelineConfig(`churn-${++endpoints}`);
    const first = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, null, 'first'));
    const outcome = await run(smokeTestCandidate, { sagemaker, runtime, s3 }, POLLING, {
      config,
      dataset,
      predictionsUri: await predictionsFor(4, 'first-model'),
      champion: null,
      candidateConfigName: first.endpointConfigName,
    });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.mismatches.length, 5);
    assert.match(outcome.reason!, /; this is the first model, so there is no champion to roll back to$/);
  });
});

describe('rollbackEndpoint', () => {
  test('puts a previous endpoint config back, or a model package, once', async () => {
    const { config, champion } = await endpointServing(1);
    const deployed = await run(deployCandidate, sagemaker, POLLING, deployInput(config, 2, champion, 'run2'));
    assert.equal(deployed.status, 'deployed');

    const back = await run(rollbackEndpoint, sagemaker, POLLING, { config, to: { endpointConfigName: champion.endpointConfigName }, requestId: 'rollback-1' });
    assert.equal(back.status, 'rolled_back', back.reason);
    assert.equal(back.previousConfig, deployed.endpointConfigName);
    assert.equal(back.servingConfig, champion.endpointConfigName);
    assert.deepEqual(await answers(config.endpoint.name), [1, 1, 1]);

    const fromPackage = { config, to: { modelPackageArn: packages[4] }, requestId: 'rollback-2' };
    const toPackage = await run(rollbackEndpoint, sagemaker, POLLING, fromPackage);
    assert.equal(toPackage.status, 'rolled_back', toPackage.reason);
    assert.deepEqual(await answers(config.endpoint.name), [4, 4, 4]);
    const before = { update: count('UpdateEndpoint', config.endpoint.name), models: count('CreateModel'), configs: count('CreateEndpointConfig') };
    const again = await run(rollbackEndpoint, sagemaker, POLLING, fromPackage);
    assert.equal(again.endpointConfigName, toPackage.endpointConfigName, 'the same derived names');
    assert.deepEqual({ update: count('UpdateEndpoint', config.endpoint.name), models: count('CreateModel'), configs: count('CreateEndpointConfig') }, before, 'asking twice changes nothing');
  });
});

describe('a deployment attempt killed with SIGKILL mid-update', () => {
  function startAttempt(input: DeployCandidateInput): ChildProcess {
    const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'fixtures', 'deployment-attempt.ts')], {
      cwd: ROOT,
      env: {
        ...env,
        DEPLOY_INPUT: JSON.stringify(input),
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_SAGEMAKER: local.endpoint,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.resume();
    child.stdout!.resume();
    return child;
  }

  async function killedAtUpdate(input: DeployCandidateInput): Promise<void> {
    killWhen = (call) => call.operation === 'UpdateEndpoint' && !call.error && (call.input as { EndpointName: string }).EndpointName === input.config.endpoint.name;
    attempt = startAttempt(input);
    const [code, signal] = (await once(attempt, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL', `the attempt was killed, not ended (exit code ${code})`);
  }

  test('the retry attaches to the update in progress: one model, one config, one UpdateEndpoint', async () => {
    const { config, champion } = await endpointServing(1, { bakingSeconds: 20 });
    const input = deployInput(config, 2, champion, 'run2');
    await killedAtUpdate(input);
    const outcome = await run(deployCandidate, sagemaker, POLLING, input);
    assert.equal(outcome.status, 'deployed', outcome.reason);
    assert.equal(outcome.reattached, true);
    assert.equal(count('UpdateEndpoint', config.endpoint.name), 1, 'one UpdateEndpoint across both attempts');
    assert.equal(calls.filter((c) => c.operation === 'CreateModel' && !c.error && (c.input as { ModelName: string }).ModelName === input.modelName).length, 1);
    assert.equal(calls.filter((c) => c.operation === 'CreateEndpointConfig' && !c.error && (c.input as { EndpointConfigName: string }).EndpointConfigName === input.endpointConfigName).length, 1);
    assert.deepEqual(await answers(config.endpoint.name), [2, 2, 2]);
  });

  test('an update SageMaker rolled back while no attempt was running is reported as rolled back, not issued again', async () => {
    const { config, champion } = await endpointServing(1);
    // The candidate's fleet never gets healthy, so SageMaker rolls the update back on its own.
    const input = deployInput(config, 2, champion, 'run2');
    const unhealthy = { ...input, modelName: `${input.modelName}-x`, endpointConfigName: `${input.endpointConfigName}-x` };
    await sagemaker.send(
      new CreateModelCommand({
        ModelName: unhealthy.modelName,
        ExecutionRoleArn: config.roleArn,
        PrimaryContainer: { ModelPackageName: packages[2] },
        Tags: [{ Key: 'local-sagemaker:faults', Value: 'unhealthy' }],
      }),
    );
    await killedAtUpdate(unhealthy);
    const settled = await settledEndpoint(config.endpoint.name);
    assert.equal(settled.EndpointConfigName, champion.endpointConfigName, 'rolled back before the retry');
    const outcome = await run(deployCandidate, sagemaker, POLLING, unhealthy);
    assert.equal(outcome.status, 'rolled_back');
    assert.equal(outcome.reattached, true);
    assert.equal(outcome.servingConfig, champion.endpointConfigName);
    assert.match(outcome.reason!, /did not pass the ping health check/);
    assert.equal(count('UpdateEndpoint', config.endpoint.name), 1, 'the retry did not try the update again');
    assert.deepEqual(await answers(config.endpoint.name), [1, 1, 1]);
  });
});

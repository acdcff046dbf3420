// Blue/green updates in the local SageMaker, seen only through the AWS SDK: the old fleet answers
// until the new one is healthy, CANARY and LINEAR traffic shifting with their waits (time-scaled),
// the baking period with its alarms, rollbacks on a failed health check or an alarm, the hosting
// faults, and UpdateEndpoint's DeploymentConfig checks.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  type DeploymentConfig,
  type DescribeEndpointCommandOutput,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { create as createTar } from 'tar';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../local/sagemaker';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUCKET = 'hosting-test';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/test-serve:latest`;
/** Ten simulated seconds per real second: a 20 s wait interval takes 2 s. */
const TIME_SCALE = 10;

// A container that answers every row with the version of the model it loaded.
const SERVE = `
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
const root = process.env.OPT_ML ?? '/opt/ml';
const model = JSON.parse(readFileSync(path.join(root, 'model', 'model.json'), 'utf8'));
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ping') { res.writeHead(200); res.end(); return; }
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ version: model.version })); });
}).listen(Number(process.env.SAGEMAKER_BIND_TO_PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

let workDir: string;
let s3Server: LocalS3;
let s3: S3Client;
let local: LocalSageMaker;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'local-hosting-test-'));
  await writeFile(path.join(workDir, 'serve.ts'), SERVE);
  s3Server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: REGION, endpoint: s3Server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  local = await startLocalSageMaker({
    dataDir: path.join(workDir, 'sagemaker'),
    s3,
    stopGraceSeconds: 1,
    timeScale: TIME_SCALE,
    endpointStartupTimeoutMs: 1500,
    images: { 'test-serve': { serve: path.join(workDir, 'serve.ts') } },
  });
  sagemaker = new SageMakerClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  runtime = new SageMakerRuntimeClient({ region: REGION, endpoint: local.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  for (const version of [1, 2, 3]) {
    const dir = path.join(workDir, `v${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ version }));
    await createTar({ gzip: true, file: path.join(dir, 'model.tar.gz'), cwd: dir }, ['model.json']);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `models/v${version}/model.tar.gz`, Body: await readFile(path.join(dir, 'model.tar.gz')) }));
  }
});

after(async () => {
  await local?.close();
  await s3Server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---- Helpers -------------------------------------------------------------------------------------

let names = 0;

async function model(version: number, faults?: string): Promise<string> {
  const name = `model-v${version}-${++names}`;
  const tags: Tag[] | undefined = faults ? [{ Key: 'local-sagemaker:faults', Value: faults }] : undefined;
  await sagemaker.send(
    new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/v${version}/model.tar.gz` }, Tags: tags }),
  );
  return name;
}

async function endpointConfig(modelName: string, instances = 4, variant = 'AllTraffic'): Promise<string> {
  const name = `config-${++names}`;
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: name,
      ProductionVariants: [{ VariantName: variant, ModelName: modelName, InitialInstanceCount: instances, InstanceType: 'ml.m5.large' }],
    }),
  );
  return name;
}

const describeEndpoint = (name: string) => sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));

async function until(name: string, done: (e: DescribeEndpointCommandOutput) => boolean, what: string, timeoutMs = 30_000): Promise<DescribeEndpointCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const endpoint = await describeEndpoint(name);
    if (done(endpoint)) return endpoint;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(endpoint)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settled = (e: DescribeEndpointCommandOutput) => e.EndpointStatus === 'InService' || e.EndpointStatus === 'Failed';
const pendingStatus = (e: DescribeEndpointCommandOutput) => e.PendingDeploymentSummary?.ProductionVariants?.[0]?.VariantStatus?.[0]?.Status;

/** An endpoint serving `version` on 4 instances. */
async function servingEndpoint(version: number): Promise<{ name: string; config: string }> {
  const name = `ep-${++names}`;
  const config = await endpointConfig(await model(version));
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: config }));
  const created = await until(name, settled, 'the endpoint');
  assert.equal(created.EndpointStatus, 'InService', created.FailureReason);
  return { name, config };
}

async function versions(endpointName: string, count: number): Promise<number[]> {
  const answers: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpointName, Body: Buffer.from('1,2'), ContentType: 'text/csv' }));
    answers.push((JSON.parse(Buffer.from(response.Body).toString('utf8')) as { version: number }).version);
  }
  return answers;
}

function blueGreen(routing: NonNullable<DeploymentConfig['BlueGreenUpdatePolicy']>['TrafficRoutingConfiguration'], extra: { baking?: number; alarms?: string[]; timeout?: number } = {}): DeploymentConfig {
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: extra.baking ?? 0,
      ...(extra.timeout ? { MaximumExecutionTimeoutInSeconds: extra.timeout } : {}),
    },
    ...(extra.alarms ? { AutoRollbackConfiguration: { Alarms: extra.alarms.map((AlarmName) => ({ AlarmName })) } } : {}),
  };
}

async function rejectsWith(call: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.equal(err.name, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

// ---- Traffic shifting ------------------------------------------------------------------------------

describe('traffic shifting', () => {
  test('CANARY: the old fleet answers while the new one starts, then the canary share, then everything after the wait', async () => {
    const { name, config } = await servingEndpoint(1);
    const next = await endpointConfig(await model(2));
    await sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: next,
        DeploymentConfig: blueGreen({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 }, WaitIntervalInSeconds: 30 }, { baking: 20 }),
      }),
    );
    const starting = await describeEndpoint(name);
    assert.equal(starting.EndpointStatus, 'Updating');
    assert.equal(starting.EndpointConfigName, config, 'the old config serves until the update ends');
    assert.equal(starting.PendingDeploymentSummary?.EndpointConfigName, next);
    assert.equal(pendingStatus(starting), 'Creating');
    assert.deepEqual(await versions(name, 4), [1, 1, 1, 1], 'the new fleet takes no traffic before it is healthy');

    const canary = await until(name, (e) => pendingStatus(e) === 'ActivatingTraffic', 'the canary');
    assert.equal(canary.PendingDeploymentSummary!.ProductionVariants![0].CurrentWeight, 0.25, '1 of 4 instances');
    assert.equal(canary.ProductionVariants![0].CurrentWeight, 0.75);
    const split = await versions(name, 8);
    assert.equal(split.filter((v) => v === 2).length, 2, `a quarter of requests reach the canary: ${split}`);
    assert.equal(split.filter((v) => v === 1).length, 6);

    const baking = await until(name, (e) => pendingStatus(e) === 'Baking', 'the baking period');
    assert.equal(baking.EndpointStatus, 'Updating');
    assert.equal(baking.EndpointConfigName, config, 'the old fleet is kept through the baking period');
    assert.equal(baking.PendingDeploymentSummary!.ProductionVariants![0].CurrentWeight, 1);
    assert.deepEqual(await versions(name, 4), [2, 2, 2, 2]);
    // The canary waited 30 simulated seconds (3 real ones) before all traffic moved.
    const canaryStarted = canary.PendingDeploymentSummary!.ProductionVariants![0].VariantStatus![0].StartTime!.getTime();
    const bakingStarted = baking.PendingDeploymentSummary!.ProductionVariants![0].VariantStatus![0].StartTime!.getTime();
    assert.ok(bakingStarted - canaryStarted >= 2900, `the canary lasted ${bakingStarted - canaryStarted} ms`);

    const done = await until(name, settled, 'the update');
    assert.equal(done.EndpointStatus, 'InService');
    assert.equal(done.EndpointConfigName, next);
    assert.equal(done.FailureReason, undefined);
    assert.equal(done.PendingDeploymentSummary, undefined);
    assert.deepEqual(await versions(name, 3), [2, 2, 2]);
  });

  test('LINEAR: traffic moves in equal steps, each held for the wait interval', async () => {
    const { name } = await servingEndpoint(1);
    const next = await endpointConfig(await model(3));
    await sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: next,
        DeploymentConfig: blueGreen({ Type: 'LINEAR', LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 }, WaitIntervalInSeconds: 10 }, { baking: 10 }),
      }),
    );
    const weights: number[] = [];
    const shares: Record<string, number> = {};
    for (;;) {
      const e = await describeEndpoint(name);
      if (e.EndpointStatus !== 'Updating') break;
      const weight = e.PendingDeploymentSummary?.ProductionVariants?.[0]?.CurrentWeight;
      if (weight !== undefined && weight > 0 && weights[weights.length - 1] !== weight) {
        weights.push(weight);
        if (weight < 1) {
          const answers = await versions(name, 4);
          shares[weight] = answers.filter((v) => v === 3).length / answers.length;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(weights, [0.25, 0.5, 0.75, 1], 'four steps of 25%');
    assert.deepEqual(shares, { 0.25: 0.25, 0.5: 0.5, 0.75: 0.75 }, 'each step routes its share of requests to the new fleet');
    const done = await describeEndpoint(name);
    assert.equal(done.EndpointConfigName, next);
    assert.deepEqual(await versions(name, 2), [3, 3]);
  });
});

// ---- Rollbacks -----------------------------------------------------------------------------------

describe('rollbacks', () => {
  test('a new model that never passes /ping (fault "unhealthy") is rolled back; the old model keeps answering', async () => {
    const { name, config } = await servingEndpoint(1);
    const broken = await endpointConfig(await model(2, 'unhealthy'));
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: broken, DeploymentConfig: blueGreen({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }) }));
    assert.deepEqual(await versions(name, 3), [1, 1, 1], 'the old fleet answers while the new one fails its health check');
    const done = await until(name, settled, 'the failed update');
    assert.equal(done.EndpointStatus, 'InService');
    assert.equal(done.EndpointConfigName, config);
    assert.equal(done.FailureReason, 'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.');
    assert.deepEqual(await versions(name, 3), [1, 1, 1]);
  });

  test('an alarm that goes into ALARM during the baking period (fault "alarm:...@S") rolls all traffic back', async () => {
    const { name, config } = await servingEndpoint(1);
    // 15 simulated seconds after traffic moves, inside the 40-second baking period.
    const next = await endpointConfig(await model(2, 'alarm:churn-5xx@15;alarm:not-watched@0'));
    await sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: next,
        DeploymentConfig: blueGreen({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { baking: 40, alarms: ['churn-5xx'] }),
      }),
    );
    await until(name, (e) => pendingStatus(e) === 'Baking', 'the baking period');
    assert.deepEqual(await versions(name, 2), [2, 2], 'all traffic is on the new fleet while it bakes');
    const done = await until(name, settled, 'the rollback');
    assert.equal(done.EndpointStatus, 'InService');
    assert.equal(done.EndpointConfigName, config, 'the old config serves again');
    assert.equal(done.FailureReason, 'Deployment was rolled back because the following CloudWatch alarm(s) went into ALARM state: churn-5xx.');
    assert.deepEqual(await versions(name, 3), [1, 1, 1]);
  });

  test('setAlarmState: an alarm tripped during the canary rolls back; an alarm the update does not watch changes nothing', async () => {
    const { name, config } = await servingEndpoint(1);
    local.setAlarmState('unrelated', 'ALARM');
    const next = await endpointConfig(await model(2));
    await sagemaker.send(
      new UpdateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: next,
        DeploymentConfig: blueGreen({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 50 }, WaitIntervalInSeconds: 600 }, { alarms: ['latency-p99'] }),
      }),
    );
    await until(name, (e) => pendingStatus(e) === 'ActivatingTraffic', 'the canary');
    local.setAlarmState('latency-p99', 'ALARM');
    try {
      const done = await until(name, settled, 'the rollback', 5000);
      assert.equal(done.EndpointConfigName, config);
      assert.equal(done.FailureReason, 'Deployment was rolled back because the following CloudWatch alarm(s) went into ALARM state: latency-p99.');
    } finally {
      local.setAlarmState('latency-p99', 'OK');
      local.setAlarmState('unrelated', 'OK');
    }
  });

  test('a rollout still running past MaximumExecutionTimeoutInSeconds is rolled back', async () => {
    // A server of its own at 1000 simulated seconds per real one: the shortest timeout SageMaker allows is 600 s.
    const fast = await startLocalSageMaker({
      dataDir: path.join(workDir, 'sagemaker-fast'),
      s3,
      stopGraceSeconds: 1,
      timeScale: 1000,
      images: { 'test-serve': { serve: path.join(workDir, 'serve.ts') } },
    });
    try {
      const client = new SageMakerClient({ region: REGION, endpoint: fast.endpoint, credentials: LOCAL_S3_CREDENTIALS });
      for (const version of [1, 2]) {
        await client.send(new CreateModelCommand({ ModelName: `m${version}`, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/v${version}/model.tar.gz` } }));
        await client.send(
          new CreateEndpointConfigCommand({ EndpointConfigName: `c${version}`, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: `m${version}`, InitialInstanceCount: 4, InstanceType: 'ml.m5.large' }] }),
        );
      }
      const describe = () => client.send(new DescribeEndpointCommand({ EndpointName: 'ep' }));
      const settle = async () => {
        for (let e = await describe(); ; e = await describe()) {
          if (settled(e)) return e;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await client.send(new CreateEndpointCommand({ EndpointName: 'ep', EndpointConfigName: 'c1' }));
      assert.equal((await settle()).EndpointStatus, 'InService');
      // The waits (20 s + 580 s) fit under 601 s; with the fleet's provisioning before them, the rollout does not.
      await client.send(
        new UpdateEndpointCommand({
          EndpointName: 'ep',
          EndpointConfigName: 'c2',
          DeploymentConfig: blueGreen({ Type: 'CANARY', CanarySize: { Type: 'INSTANCE_COUNT', Value: 2 }, WaitIntervalInSeconds: 20 }, { baking: 580, timeout: 601 }),
        }),
      );
      const done = await settle();
      assert.equal(done.EndpointStatus, 'InService');
      assert.equal(done.EndpointConfigName, 'c1');
      assert.equal(done.FailureReason, 'Deployment was rolled back because it did not complete within MaximumExecutionTimeoutInSeconds (601 seconds).');
    } finally {
      await fast.close();
    }
  });

  test('DeleteEndpoint during a rollout abandons it and deletes the endpoint', async () => {
    const { name } = await servingEndpoint(1);
    const next = await endpointConfig(await model(2));
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: next, DeploymentConfig: blueGreen({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { baking: 3600 }) }));
    await until(name, (e) => pendingStatus(e) === 'Baking', 'the baking period');
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }));
    const statuses = new Set<string>();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const state = await describeEndpoint(name).then((e) => e.EndpointStatus!, (err: Error) => err.name);
      statuses.add(state);
      if (state === 'ValidationException') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual([...statuses], ['Deleting', 'ValidationException'], 'Deleting until gone, never back InService');
  });

  test('fault "invocation-errors": the new model answers /invocations with 500', async () => {
    const { name } = await servingEndpoint(1);
    const next = await endpointConfig(await model(2, 'invocation-errors'));
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: next }));
    assert.equal((await until(name, settled, 'the update')).EndpointConfigName, next, 'it is healthy, so the update goes through');
    await assert.rejects(versions(name, 1), (err: Error & { OriginalStatusCode?: number }) => {
      assert.equal(err.name, 'ModelError');
      assert.match(err.message, /^Received server error \(500\) from primary with message "Internal Server Error \(local-sagemaker fault invocation-errors\)"/);
      assert.equal(err.OriginalStatusCode, 500);
      return true;
    });
  });
});

// ---- Validation ------------------------------------------------------------------------------------

describe('DeploymentConfig validation', () => {
  let endpoint: { name: string; config: string };
  let next: string;
  before(async () => {
    endpoint = await servingEndpoint(1);
    next = await endpointConfig(await model(2));
  });
  const update = (deploymentConfig: DeploymentConfig, configName = next) =>
    sagemaker.send(new UpdateEndpointCommand({ EndpointName: endpoint.name, EndpointConfigName: configName, DeploymentConfig: deploymentConfig }));

  test('ranges and enums, as the API reference gives them', async () => {
    await rejectsWith(
      update(blueGreen({ Type: 'LINEAR', WaitIntervalInSeconds: 3601, LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 0 } }, { baking: 3601, timeout: 599 })),
      'ValidationException',
      '4 validation errors detected: ' +
        "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600; " +
        "Value '0' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.linearStepSize.value' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.terminationWaitInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600; " +
        "Value '599' at 'deploymentConfig.blueGreenUpdatePolicy.maximumExecutionTimeoutInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 600",
    );
    await rejectsWith(
      update({ BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'GRADUAL' as never, WaitIntervalInSeconds: 0 } }, AutoRollbackConfiguration: { Alarms: [] } }),
      'ValidationException',
      /^2 validation errors detected: Value 'GRADUAL' at 'deploymentConfig\.blueGreenUpdatePolicy\.trafficRoutingConfiguration\.type' failed to satisfy constraint: Member must satisfy enum value set: \[ALL_AT_ONCE, CANARY, LINEAR\]; Value '\[\]' at 'deploymentConfig\.autoRollbackConfiguration\.alarms' failed to satisfy constraint: Member must have length greater than or equal to 1$/,
    );
  });

  test('canary and step sizes against the variant, the timeout against the waits, and the variant names', async () => {
    await rejectsWith(update(blueGreen({ Type: 'CANARY', WaitIntervalInSeconds: 60 })), 'ValidationException', 'CanarySize must be specified for CANARY traffic routing.');
    await rejectsWith(update(blueGreen({ Type: 'LINEAR', WaitIntervalInSeconds: 60 })), 'ValidationException', 'LinearStepSize must be specified for LINEAR traffic routing.');
    await rejectsWith(
      update(blueGreen({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0, CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 } })),
      'ValidationException',
      'CanarySize can only be specified for CANARY traffic routing, not ALL_AT_ONCE.',
    );
    await rejectsWith(
      update(blueGreen({ Type: 'CANARY', WaitIntervalInSeconds: 60, CanarySize: { Type: 'INSTANCE_COUNT', Value: 3 } })),
      'ValidationException',
      "Invalid CanarySize for production variant AllTraffic: Value must be less than or equal to 50% of the variant's total instance count (4).",
    );
    await rejectsWith(
      update(blueGreen({ Type: 'LINEAR', WaitIntervalInSeconds: 60, LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 5 } })),
      'ValidationException',
      "Invalid LinearStepSize for production variant AllTraffic: Value must be 10-50% of the variant's total instance count (4).",
    );
    await rejectsWith(
      update(blueGreen({ Type: 'LINEAR', WaitIntervalInSeconds: 300, LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 1 } }, { baking: 600, timeout: 1500 })),
      'ValidationException',
      'MaximumExecutionTimeoutInSeconds (1500) must be larger than the total waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds (1500).',
    );
    const renamed = await endpointConfig(await model(2), 4, 'Blue');
    await rejectsWith(
      update(blueGreen({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }), renamed),
      'ValidationException',
      `The production variant names of endpoint config ${renamed} (Blue) must match the endpoint's current production variants (AllTraffic) for a blue/green deployment.`,
    );
    const unchanged = await describeEndpoint(endpoint.name);
    assert.equal(unchanged.EndpointStatus, 'InService', 'a refused update changes nothing');
    assert.equal(unchanged.EndpointConfigName, endpoint.config);
  });

  test('a malformed hosting fault is refused at CreateModel, naming the tag', async () => {
    await rejectsWith(
      sagemaker.send(
        new CreateModelCommand({
          ModelName: 'typo',
          ExecutionRoleArn: ROLE,
          PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/v1/model.tar.gz` },
          Tags: [{ Key: 'local-sagemaker:faults', Value: 'unhealty' }],
        }),
      ),
      'ValidationException',
      "Invalid value for tag local-sagemaker:faults: unknown fault 'unhealty'; expected one of unhealthy, invocation-errors, alarm:<AlarmName>[@<seconds>].",
    );
  });
});

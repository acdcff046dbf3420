// endpoint.deployment and endpoint.smokeTest in the pipeline config: SageMaker's DeploymentConfig rules
// checked before any job starts, each bad field named by path; and the smoke test's answer comparison.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAnswers, deploymentConfigOf } from '../activities/deployment';
import { InvalidConfigError, parsePipelineConfig } from '../domain/config';
import { demoConfig } from '../local/demo-data';

function withDeployment(deployment: Record<string, unknown>, initialInstanceCount = 1) {
  const base = demoConfig();
  return { ...base, endpoint: { ...base.endpoint, initialInstanceCount, deployment } };
}

function issues(input: unknown): { path: string; message: string }[] {
  try {
    parsePipelineConfig(input);
  } catch (err) {
    if (err instanceof InvalidConfigError) return err.issues;
    throw err;
  }
  return [];
}

test('defaults: all at once, no waits, no alarms; a smoke test of 20 rows', () => {
  const config = parsePipelineConfig(demoConfig());
  assert.deepEqual(config.endpoint.deployment, { trafficRouting: 'ALL_AT_ONCE', waitIntervalSeconds: 0, bakingSeconds: 0, rollbackAlarms: [] });
  assert.deepEqual(config.endpoint.smokeTest, { rows: 20, tolerance: 1e-6 });
  assert.deepEqual(deploymentConfigOf(config.endpoint.deployment), {
    BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, TerminationWaitInSeconds: 0 },
  });
});

test('a canary becomes CanarySize, alarms become AutoRollbackConfiguration', () => {
  const config = parsePipelineConfig(
    withDeployment({ trafficRouting: 'CANARY', canarySize: { type: 'INSTANCE_COUNT', value: 2 }, waitIntervalSeconds: 300, bakingSeconds: 600, maximumExecutionTimeoutSeconds: 3600, rollbackAlarms: ['churn-5xx'] }, 4),
  );
  assert.deepEqual(deploymentConfigOf(config.endpoint.deployment), {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: 300, CanarySize: { Type: 'INSTANCE_COUNT', Value: 2 } },
      TerminationWaitInSeconds: 600,
      MaximumExecutionTimeoutInSeconds: 3600,
    },
    AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'churn-5xx' }] },
  });
});

test('combinations SageMaker would refuse are config errors naming the path', () => {
  assert.deepEqual(issues(withDeployment({ trafficRouting: 'CANARY' })), [{ path: 'endpoint.deployment.canarySize', message: 'CANARY traffic routing needs a canarySize' }]);
  assert.deepEqual(issues(withDeployment({ trafficRouting: 'CANARY', canarySize: { type: 'INSTANCE_COUNT', value: 1 } })), [
    { path: 'endpoint.deployment.canarySize', message: "must be at most 50% of the variant's 1 instance(s) (endpoint.initialInstanceCount), as SageMaker requires" },
  ]);
  assert.deepEqual(issues(withDeployment({ trafficRouting: 'LINEAR', linearStepSize: { type: 'CAPACITY_PERCENT', value: 60 } })), [
    { path: 'endpoint.deployment.linearStepSize', message: "must be 10-50% of the variant's 1 instance(s) (endpoint.initialInstanceCount), as SageMaker requires" },
  ]);
  assert.deepEqual(issues(withDeployment({ trafficRouting: 'ALL_AT_ONCE', linearStepSize: { type: 'CAPACITY_PERCENT', value: 20 } })), [
    { path: 'endpoint.deployment.linearStepSize', message: 'applies to LINEAR traffic routing only, not ALL_AT_ONCE' },
  ]);
  // Four steps of 25%: three waits of 300 s, then 600 s of baking.
  assert.deepEqual(
    issues(withDeployment({ trafficRouting: 'LINEAR', linearStepSize: { type: 'CAPACITY_PERCENT', value: 25 }, waitIntervalSeconds: 300, bakingSeconds: 600, maximumExecutionTimeoutSeconds: 1500 })),
    [{ path: 'endpoint.deployment.maximumExecutionTimeoutSeconds', message: "must be larger than the rollout's waits (1500 s of wait intervals and baking), as SageMaker requires" }],
  );
  assert.deepEqual(
    issues(withDeployment({ waitIntervalSeconds: 3601, bakingSeconds: -1, maximumExecutionTimeoutSeconds: 100, rollbackAlarms: ['  '], canarySize: { type: 'INSTANCES', value: 0 } })).map((i) => i.path),
    [
      'endpoint.deployment.canarySize.type',
      'endpoint.deployment.canarySize.value',
      'endpoint.deployment.waitIntervalSeconds',
      'endpoint.deployment.bakingSeconds',
      'endpoint.deployment.maximumExecutionTimeoutSeconds',
      'endpoint.deployment.rollbackAlarms[0]',
    ],
  );
});

test('answers compare numbers within a relative tolerance and everything else exactly', () => {
  assert.deepEqual(compareAnswers({ score: 0.73, predicted_label: 1 }, { score: 0.73 * (1 + 1e-9), predicted_label: 1 }, 1e-6), []);
  assert.deepEqual(compareAnswers({ score: 0.73, predicted_label: 1 }, { score: 0.74, predicted_label: 0 }, 1e-6), ['predicted_label 0 != expected 1', 'score 0.74 != expected 0.73']);
  assert.deepEqual(compareAnswers({ score: 0 }, { score: 1e-13 }, 0), [], 'numbers this close to zero are equal');
  assert.deepEqual(compareAnswers({ scores: [0.1, 0.9] }, { scores: [0.1] }, 1e-6), ['scores has 1 item(s), expected 2']);
  assert.deepEqual(compareAnswers({ label: 'yes' }, { label: 'no', extra: true }, 1e-6), ['extra true not in the evaluation\'s prediction', 'label "no" != expected "yes"']);
  assert.deepEqual(compareAnswers({ score: 0.5 }, {}, 1e-6), ['score missing, expected 0.5']);
});

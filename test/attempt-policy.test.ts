// The attempt policy: which early ends start a new training attempt, when, where and from what.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeAttempts, nextAttempt, type AttemptRecord } from '../domain/attempt-policy';
import { parsePipelineConfig } from '../domain/config';
import { demoConfig } from '../local/demo-data';

const training = parsePipelineConfig(demoConfig()).training;
const attempt = (n: number, outcome: AttemptRecord['outcome'], instanceType = 'ml.m5.large'): AttemptRecord => ({
  jobName: `job-a${n}`,
  attempt: n,
  instanceType,
  outcome,
  reason: outcome === 'completed' ? '' : `reason ${n}`,
  seconds: 10 * n,
});

test('a job SageMaker stopped resumes from its checkpoint at once, up to the policy', () => {
  const first = nextAttempt([attempt(1, 'stopped_by_sagemaker')], training);
  assert.deepEqual(first, {
    retry: true,
    backoffSeconds: 0,
    resumeFromCheckpoint: true,
    instanceType: 'ml.m5.large',
    why: 'attempt 1 ended with stopped by sagemaker; attempt 2 follows in 0s, resuming from the checkpoint',
  });
  const third = nextAttempt([1, 2, 3].map((n) => attempt(n, 'stopped_by_sagemaker')), training);
  assert.equal(third.retry, false);
  assert.match(third.why, /3 attempt\(s\) ended with stopped by sagemaker, and failurePolicy\.stoppedBySageMaker\.attempts allows 3/);
});

test('capacity backs off exponentially and moves down the fallback instance types', () => {
  const withFallbacks = { ...training, fallbackInstanceTypes: ['ml.m5.xlarge', 'ml.c5.xlarge'] };
  const second = nextAttempt([attempt(1, 'capacity')], withFallbacks);
  assert.ok(second.retry);
  assert.equal(second.backoffSeconds, 300);
  assert.equal(second.instanceType, 'ml.m5.xlarge');
  const third = nextAttempt([attempt(1, 'capacity'), attempt(2, 'capacity', 'ml.m5.xlarge')], withFallbacks);
  assert.ok(third.retry);
  assert.equal(third.backoffSeconds, 600);
  assert.equal(third.instanceType, 'ml.c5.xlarge');
  // Without fallbacks the same type is tried again.
  const same = nextAttempt([attempt(1, 'quota')], training);
  assert.ok(same.retry);
  assert.equal(same.instanceType, 'ml.m5.large');
});

test('a job SageMaker failed internally is tried again after a minute', () => {
  const next = nextAttempt([attempt(1, 'service_fault')], training);
  assert.ok(next.retry);
  assert.equal(next.backoffSeconds, 60);
  assert.equal(next.resumeFromCheckpoint, true);
});

test('classes are counted separately', () => {
  const mixed = [attempt(1, 'capacity'), attempt(2, 'stopped_by_sagemaker'), attempt(3, 'capacity')];
  const next = nextAttempt(mixed, training);
  assert.ok(next.retry, 'two capacity failures are within the default three');
});

test('operator stops, client and algorithm errors are never retried, and say why', () => {
  for (const [outcome, why] of [
    ['stopped_by_operator', /an operator stopped the job/],
    ['client_error', /ClientError/],
    ['algorithm_error', /AlgorithmError/],
    ['throttling', /throttling is not retried as a new attempt/],
  ] as const) {
    const next = nextAttempt([attempt(1, outcome)], training);
    assert.equal(next.retry, false);
    assert.match(next.why, why);
  }
});

test('a policy may start afresh instead of resuming', () => {
  const fresh = { ...training, failurePolicy: { ...training.failurePolicy, capacity: { attempts: 2, backoffSeconds: 5, resume: false } } };
  const next = nextAttempt([attempt(1, 'capacity')], fresh);
  assert.ok(next.retry);
  assert.equal(next.resumeFromCheckpoint, false);
  assert.match(next.why, /starting afresh/);
});

test('the final report lists every attempt with its class, reason and duration', () => {
  assert.equal(
    describeAttempts([attempt(1, 'capacity'), attempt(2, 'algorithm_error', 'ml.c5.xlarge')]),
    'attempt 1: job-a1 on ml.m5.large, capacity after 10s — reason 1\nattempt 2: job-a2 on ml.c5.xlarge, algorithm error after 20s — reason 2',
  );
});

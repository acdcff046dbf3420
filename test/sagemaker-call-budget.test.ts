// The per-worker budget of SageMaker calls, on a virtual clock (no timing in tests), and on a real client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerCallBudget, spendCallBudget, type CallBudgetClock } from '../activities/sagemaker-call-budget';

function virtualClock(): CallBudgetClock & { slept: number } {
  let now = 0;
  return {
    slept: 0,
    now: () => now,
    async sleep(ms) {
      this.slept += ms;
      now += ms;
    },
  };
}

test('a burst is free, then calls are paced at the rate', async () => {
  const clock = virtualClock();
  const budget = new SageMakerCallBudget(10, 10, clock);
  await Promise.all(Array.from({ length: 10 }, () => budget.take()));
  assert.equal(clock.slept, 0, 'the first ten calls use the burst');
  await Promise.all(Array.from({ length: 20 }, () => budget.take()));
  assert.ok(clock.slept >= 2000 && clock.slept <= 2100, `20 more calls at 10/s wait about 2 s, waited ${clock.slept} ms`);
});

test('an idle budget refills, but never beyond its burst', async () => {
  const clock = virtualClock();
  const budget = new SageMakerCallBudget(5, 5, clock);
  await Promise.all(Array.from({ length: 5 }, () => budget.take()));
  await clock.sleep(60_000);
  const before = clock.slept;
  await Promise.all(Array.from({ length: 6 }, () => budget.take()));
  assert.ok(clock.slept - before >= 200 && clock.slept - before <= 250, `5 calls from the refilled burst, the 6th waits 200 ms; waited ${clock.slept - before} ms`);
});

test('a zero or negative rate is refused with a clear error', () => {
  assert.throws(() => new SageMakerCallBudget(0), /must allow more than 0 calls per second, got 0/);
});

test('the budget is spent by every call through the client, and added once', async () => {
  const client = new SageMakerClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  let taken = 0;
  const budget = { take: async () => void taken++ } as unknown as SageMakerCallBudget;
  spendCallBudget(client, budget);
  spendCallBudget(client, budget);
  await assert.rejects(client.send(new ListTrainingJobsCommand({})));
  assert.equal(taken, 1);
});

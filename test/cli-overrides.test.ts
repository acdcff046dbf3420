// `retrain start --set` and `retrain list`'s filters, pure: overrides are applied and validated by the
// pipeline config schema, unknown paths are refused by name, and list filters build the visibility query.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidConfigError } from '../domain/config';
import { applyConfigOverrides, readOverride } from '../domain/config-overrides';
import { InvalidRunFilterError, runListQuery } from '../domain/run-filters';
import { demoConfig } from '../local/demo-data';

function refused(sets: string[]): string {
  try {
    applyConfigOverrides(demoConfig(), sets.map(readOverride), 'churn.json');
  } catch (err) {
    assert.ok(err instanceof InvalidConfigError, String(err));
    return err.message;
  }
  assert.fail('the overrides were accepted');
}

describe('config overrides', () => {
  test('values are JSON when they parse, strings otherwise; defaults and new record keys are fine', () => {
    const { input, parsed } = applyConfigOverrides(demoConfig(), [
      readOverride('training.hyperparameters.epochs=5'),
      readOverride('drift.minSamples=50'),
      readOverride('approval.mode=manual'),
      readOverride('endpoint.tags.team="growth"'),
      readOverride('gate.minImprovement={"relative":0.02}'),
    ]);
    assert.equal(parsed.training.hyperparameters.epochs, 5);
    assert.equal(parsed.drift.minSamples, 50);
    assert.equal(parsed.approval.mode, 'manual');
    assert.deepEqual(parsed.endpoint.tags, { team: 'growth' });
    assert.deepEqual(input.gate?.minImprovement, { relative: 0.02 });
    assert.equal(demoConfig().drift?.minSamples, 200, 'the file’s config is not changed');
  });

  test('bad overrides are refused naming the path', () => {
    assert.match(refused(['training.epochs=5']), /training\.epochs: is not a field of the pipeline config/);
    assert.match(refused(['drift.minSamples=many']), /drift\.minSamples: .*number/i);
    assert.match(refused(['model=churn_propensity']), /model: must match/);
    assert.match(refused(['model.name=x']), /model: is "churn-propensity", not an object, so it has no field name/);
    assert.throws(() => readOverride('training.epochs'), /a --set is key\.path=value/);
    assert.throws(() => readOverride('training..epochs=1'), /empty segment/);
  });
});

describe('list filters', () => {
  test('each filter becomes a clause of the visibility query', () => {
    assert.equal(runListQuery({}), "WorkflowType = 'retrainingPipeline'");
    assert.equal(
      runListQuery({ model: 'churn-propensity', status: 'failed', stage: 'awaiting-approval', trigger: 'schedule', decision: 'reject' }),
      "WorkflowType = 'retrainingPipeline' AND RetrainingModel = 'churn-propensity' AND ExecutionStatus = 'Failed' AND RetrainingStage = 'awaiting-approval' AND RetrainingTrigger = 'schedule' AND GateDecision = 'reject'",
    );
    assert.equal(runListQuery({ status: 'cancelled' }), "WorkflowType = 'retrainingPipeline' AND ExecutionStatus = 'Canceled'");
    assert.equal(runListQuery({ model: 'churn', query: 'DriftScore > 0.3 OR GateDecision = \'reject\'' }), "WorkflowType = 'retrainingPipeline' AND RetrainingModel = 'churn' AND (DriftScore > 0.3 OR GateDecision = 'reject')");
  });

  test('a value outside its set is refused naming the flag', () => {
    assert.throws(() => runListQuery({ model: "x' OR 1=1" }), (err: Error) => err instanceof InvalidRunFilterError && /--model "x' OR 1=1" is not a model name/.test(err.message));
    assert.throws(() => runListQuery({ stage: 'approval' }), /--stage approval is not one of starting, drift/);
    assert.throws(() => runListQuery({ trigger: 'cron' }), /--trigger cron is not one of manual, schedule, alert/);
    assert.throws(() => runListQuery({ decision: 'promoted' }), /--decision promoted is not one of promote, reject, skipped/);
    assert.throws(() => runListQuery({ query: '  ' }), /--query is empty/);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- the tests break the config on purpose */
// The pipeline config is validated at the edge; errors name every bad field by its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidConfigError, parsePipelineConfig } from '../domain/config';
import { demoConfig } from '../local/demo-data';

test('the demo config is valid and gets its defaults', () => {
  const config = parsePipelineConfig(demoConfig());
  assert.equal(config.endpoint.variant, 'AllTraffic');
  assert.equal(config.drift.driftShare, 0.5);
  assert.equal(config.dataset.holdoutShare, 0.2);
  assert.equal(config.training.instanceCount, 1);
});

test('every bad field is named by its path', () => {
  const input = demoConfig() as Record<string, any>;
  input.model = 'churn_model';
  input.roleArn = 'arn:aws:iam::123:user/bob';
  input.dataset.schema.features.push({ name: 'monthly_spend', type: 'numerical' });
  input.dataset.holdoutShare = 0.95;
  input.training.instanceCount = 0;
  assert.throws(
    () => parsePipelineConfig(input),
    (err: unknown) => {
      assert.ok(err instanceof InvalidConfigError);
      const paths = err.issues.map((i) => i.path);
      assert.ok(paths.includes('model'), paths.join());
      assert.ok(paths.includes('roleArn'), paths.join());
      assert.ok(paths.includes('training.instanceCount'), paths.join());
      // Cross-field checks run only once the fields themselves parse, so fix the rest and look again.
      return true;
    },
  );
  const second = demoConfig() as Record<string, any>;
  second.dataset.schema.features.push({ name: 'monthly_spend', type: 'numerical' });
  second.dataset.holdoutShare = 0.95;
  second.evaluation.metric = 'rmse';
  assert.throws(
    () => parsePipelineConfig(second),
    (err: unknown) => {
      assert.ok(err instanceof InvalidConfigError);
      assert.match(err.message, /dataset\.schema\.features\[4\]\.name: duplicate feature name "monthly_spend"/);
      assert.match(err.message, /dataset\.holdoutShare: validationShare \+ holdoutShare must leave rows for training/);
      assert.match(err.message, /evaluation\.metric: "rmse" is a regression metric/);
      return true;
    },
  );
});

test('a missing section is reported, not crashed on', () => {
  const input = demoConfig() as Record<string, unknown>;
  delete input.training;
  assert.throws(() => parsePipelineConfig(input), /training: /);
});

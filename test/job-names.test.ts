import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SAGEMAKER_NAME } from '../domain/config';
import { clientToken, isPipelineJobName, sageMakerName, type SageMakerNameParts, type SageMakerResourceKind } from '../domain/job-names';
import { seededRandom } from '../domain/seeded-random';

const KINDS: SageMakerResourceKind[] = ['train', 'eval', 'model', 'config'];
const ALPHABET = 'abcXYZ0189-_. /é€🙂';
const run = { workflowId: 'retrain/churn-prod', runId: '0195a3c4-7d2e-7b9a-9c1f-3e5d7f9a1b2c' };

describe('sageMakerName', () => {
  it('reads as model, kind, run hash and attempt', () => {
    const name = sageMakerName({ model: 'churn-prod', kind: 'train', ...run, attempt: 2 });
    assert.match(name, /^churn-prod-train-[0-9a-f]{12}-a2$/);
    assert.equal(sageMakerName({ model: 'churn-prod', kind: 'train', ...run, attempt: 2 }), name, 'deterministic');
    assert.match(sageMakerName({ model: 'churn-prod', kind: 'eval', ...run }), /^churn-prod-eval-[0-9a-f]{12}$/);
  });

  it('fits a 63-character model name into 63 characters, keeping a readable prefix', () => {
    const model = `m${'x'.repeat(61)}9`;
    const name = sageMakerName({ model, kind: 'config', ...run, attempt: 123456 });
    assert.equal(name.length, 63);
    assert.match(name, SAGEMAKER_NAME);
    assert.ok(name.startsWith('mxxxxxxxxx'));
    assert.match(name, /-config-[0-9a-f]{12}-a123456$/);
  });

  it('does not collide when truncation hides where two model names differ', () => {
    const common = 'customer-lifetime-value-regression-model-for-the-emea-region';
    const a = sageMakerName({ model: `${common}-a`, kind: 'train', ...run });
    const b = sageMakerName({ model: `${common}-b`, kind: 'train', ...run });
    assert.notEqual(a, b);
    assert.equal(a.slice(0, 40), b.slice(0, 40));
  });

  it('cleans names that are not SageMaker-safe', () => {
    assert.match(sageMakerName({ model: '--my_model.v2--', kind: 'model', ...run }), /^my-model-v2-model-[0-9a-f]{12}$/);
    assert.match(sageMakerName({ model: '🙂', kind: 'model', ...run }), /^model-model-[0-9a-f]{12}$/);
  });

  it('refuses an attempt that is not a non-negative integer', () => {
    for (const attempt of [-1, 1.5, NaN, 1e21]) assert.throws(() => sageMakerName({ model: 'm', kind: 'train', ...run, attempt }), RangeError);
  });

  it('property: always valid, ≤ 63 characters, deterministic, and distinct for distinct inputs', () => {
    const random = seededRandom(20240301);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const text = (maxLength: number) => Array.from({ length: Math.floor(random() * maxLength) }, () => pick([...ALPHABET])).join('');
    // A few shared workflow ids and model names so inputs often differ in one field only.
    const models = Array.from({ length: 12 }, (_, i) => (i < 4 ? `model-${'long'.repeat(i * 6)}` : text(120)));
    const workflowIds = Array.from({ length: 8 }, () => `wf-${text(80)}`);
    const names = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const parts: SageMakerNameParts = {
        model: pick(models),
        kind: pick(KINDS),
        workflowId: pick(workflowIds),
        runId: random() < 0.5 ? `run-${Math.floor(random() * 50)}` : text(40),
        ...(random() < 0.5 ? {} : { attempt: Math.floor(random() * (random() < 0.9 ? 10 : 1e9)) }),
      };
      const name = sageMakerName(parts);
      assert.match(name, SAGEMAKER_NAME, JSON.stringify(parts));
      assert.ok(name.length <= 63);
      assert.equal(sageMakerName({ ...parts }), name);
      const input = JSON.stringify([parts.model, parts.kind, parts.workflowId, parts.runId, parts.attempt ?? null]);
      const previous = names.get(name);
      assert.ok(previous === undefined || previous === input, `"${name}" for both ${previous} and ${input}`);
      names.set(name, input);
    }
    assert.ok(names.size > 1200, `enough distinct inputs were generated (${names.size})`);
  });
});

describe('isPipelineJobName', () => {
  it('knows every name sageMakerName derives, and not the names of other jobs', () => {
    for (const kind of KINDS) {
      assert.ok(isPipelineJobName(sageMakerName({ model: 'churn-prod', kind, ...run })), kind);
      assert.ok(isPipelineJobName(sageMakerName({ model: `m${'x'.repeat(61)}9`, kind, ...run, attempt: 123456 })), `${kind}, truncated`);
    }
    for (const other of ['model-monitor-hourly-2026-11-24-10', 'churn-prod-eval', 'churn-prod-eval-0123456789AB', 'churn-prod-eval-0123456789ab-x', 'pipelines-p4jn9xou8a8s-evaluate-tmgxry49ug']) {
      assert.equal(isPipelineJobName(other), false, other);
    }
  });
});

describe('clientToken', () => {
  it('is a deterministic UUID-shaped token of at most 36 characters', () => {
    const token = clientToken({ model: 'churn-prod', ...run });
    assert.match(token, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(token.length, 36);
    assert.equal(clientToken({ model: 'churn-prod', ...run }), token);
  });

  it('differs per run, per model and per purpose', () => {
    const tokens = new Set([
      clientToken({ model: 'churn-prod', ...run }),
      clientToken({ model: 'churn-prod', ...run, runId: 'another-run' }),
      clientToken({ model: 'churn-eu', ...run }),
      clientToken({ model: 'churn-prod', ...run, purpose: 'update-approval' }),
    ]);
    assert.equal(tokens.size, 4);
  });
});

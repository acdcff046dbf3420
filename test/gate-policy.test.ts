/* eslint-disable @typescript-eslint/no-explicit-any -- the tests break the policy and config on purpose */
// The gate policy beyond the primary metric: thresholds on any metric, relative improvement, slice
// regressions, significance, and the config that feeds it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidConfigError, parsePipelineConfig } from '../domain/config';
import { decideGate, gatePolicy, type GateDecision, type GateInput, type PairedStatistics, type SliceMetrics } from '../domain/gate';
import { demoConfig } from '../local/demo-data';

function assertWellFormed(d: GateDecision): void {
  assert.ok(d.reasons.length > 0);
  assert.deepEqual(d.reasons, d.checks.map((c) => c.reason), 'reasons are the checks, in order');
  for (const r of d.reasons) assert.match(r, /^[A-Z].*\.$/, `"${r}" reads as a sentence`);
  const rank = { failed: 0, passed: 1, 'not-gated': 2 };
  d.checks.forEach((c, i) => i > 0 && assert.ok(rank[d.checks[i - 1].outcome] <= rank[c.outcome], 'failed first, then passed, then not gated'));
  assert.equal(d.decision, d.checks.some((c) => c.outcome === 'failed') ? 'reject' : 'promote');
}

function gate(input: GateInput): GateDecision {
  const d = decideGate(input);
  assertWellFormed(d);
  return d;
}

const failed = (d: GateDecision) => d.checks.filter((c) => c.outcome === 'failed').map((c) => c.reason);

describe('thresholds on any metric', () => {
  const policy = { metric: 'accuracy' as const, minImprovement: 0, thresholds: { accuracy: { min: 0.8 }, log_loss: { max: 0.5 }, recall: { min: 0.6, max: 0.95 } } };

  it('promotes when every bound holds, one check per bound', () => {
    const d = gate({ candidate: { accuracy: 0.85, log_loss: 0.4, recall: 0.7 }, champion: { accuracy: 0.84 }, policy });
    assert.equal(d.decision, 'promote');
    assert.deepEqual(
      d.checks.filter((c) => c.check === 'threshold').map((c) => c.reason),
      [
        "The candidate's accuracy 0.85 meets the threshold (at least 0.8).",
        "The candidate's log_loss 0.4 meets the threshold (at most 0.5).",
        "The candidate's recall 0.7 meets the threshold (at least 0.6).",
        "The candidate's recall 0.7 meets the threshold (at most 0.95).",
      ],
    );
  });

  it('rejects on any bound missed, even when the candidate beats the champion', () => {
    const d = gate({ candidate: { accuracy: 0.85, log_loss: 0.55, recall: 0.97 }, champion: { accuracy: 0.8 }, policy });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(failed(d), ["The candidate's log_loss 0.55 misses the threshold (at most 0.5).", "The candidate's recall 0.97 misses the threshold (at most 0.95)."]);
    const miss = d.checks.find((c) => c.metric === 'log_loss')!;
    assert.deepEqual({ candidate: miss.candidate, required: miss.required }, { candidate: 0.55, required: 0.5 });
  });

  it('a bound on a metric the evaluation did not give rejects, naming it', () => {
    const d = gate({ candidate: { accuracy: 0.9, log_loss: 0.2 }, champion: null, policy });
    assert.deepEqual(failed(d), [
      "The candidate's recall is missing, so the threshold (at least 0.6) cannot be checked.",
      "The candidate's recall is missing, so the threshold (at most 0.95) cannot be checked.",
    ]);
  });

  it('the legacy threshold and the thresholds map both apply', () => {
    const d = gate({ candidate: { rmse: 2.5, r2: 0.7 }, champion: null, policy: { metric: 'rmse', minImprovement: 0, threshold: 3, thresholds: { r2: { min: 0.8 } } } });
    assert.deepEqual(d.reasons, [
      "The candidate's r2 0.7 misses the threshold (at least 0.8).",
      'There is no champion yet, so the candidate (rmse 2.5) is judged on the thresholds alone.',
      "The candidate's rmse 2.5 meets the threshold (at most 3).",
    ]);
  });
});

describe('minimum improvement, absolute and relative', () => {
  it('the object form with only absolute is the number form', () => {
    const input = { candidate: { accuracy: 0.9 }, champion: { accuracy: 0.88 } };
    assert.deepEqual(gate({ ...input, policy: { metric: 'accuracy', minImprovement: { absolute: 0.01 } } }).reasons, gate({ ...input, policy: { metric: 'accuracy', minImprovement: 0.01 } }).reasons);
  });

  it('promotes a relative improvement that meets the bar, and says by how much', () => {
    const d = gate({ candidate: { accuracy: 0.9 }, champion: { accuracy: 0.8 }, policy: { metric: 'accuracy', minImprovement: { relative: 0.1 } } });
    assert.equal(d.decision, 'promote');
    assert.ok(Math.abs(d.relativeImprovement! - 0.125) < 1e-12);
    assert.ok(d.reasons.includes("The candidate's accuracy 0.9 against the champion's 0.8 is 12.5% better, meeting the required relative improvement of 10%."));
  });

  it('rejects a relative improvement short of the bar, for an error metric too', () => {
    const d = gate({ candidate: { rmse: 9.8 }, champion: { rmse: 10 }, policy: { metric: 'rmse', minImprovement: { relative: 0.05 } } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(failed(d), ["The candidate's rmse 9.8 against the champion's 10 is only 2% better; the policy requires 5%."]);
    const worse = gate({ candidate: { mae: 1.1 }, champion: { mae: 1 }, policy: { metric: 'mae', minImprovement: { relative: 0 } } });
    assert.ok(failed(worse).includes("The candidate's mae 1.1 against the champion's 1 is 10% worse; the policy requires a relative improvement of 0%."));
  });

  it('absolute and relative together must both hold', () => {
    // +0.02 absolute is 2.5% relative: the absolute bar of 0.01 is met, the relative 5% is not.
    const d = gate({ candidate: { accuracy: 0.82 }, champion: { accuracy: 0.8 }, policy: { metric: 'accuracy', minImprovement: { absolute: 0.01, relative: 0.05 } } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.checks.map((c) => [c.check, c.outcome]), [
      ['relative-improvement', 'failed'],
      ['improvement', 'passed'],
    ]);
  });

  it("a champion's 0 makes the relative bar unmeasurable: reject, not divide by zero", () => {
    const d = gate({ candidate: { f1: 0.3 }, champion: { f1: 0 }, policy: { metric: 'f1', minImprovement: { relative: 0.1 } } });
    assert.equal(d.decision, 'reject');
    assert.equal(d.relativeImprovement, null);
    assert.deepEqual(failed(d), ["The champion's f1 is 0, so a relative improvement of 10% cannot be measured against it."]);
  });
});

function slice(name: string, rows: number, candidate: number | null, champion: number | null, metric = 'accuracy'): SliceMetrics {
  const [feature, value] = name.split(' = ');
  return { feature, slice: value, name, rows, candidate: { [metric]: candidate } as any, champion: { [metric]: champion } as any };
}

describe('slice regressions', () => {
  const overall = { candidate: { accuracy: 0.9 }, champion: { accuracy: 0.85 } };
  const policy = { metric: 'accuracy' as const, minImprovement: 0.01, sliceTolerance: 0.02, minSliceRows: 30 };

  it('rejects a candidate that wins overall but regresses on a slice beyond the tolerance', () => {
    const slices = [slice('region = 0', 400, 0.93, 0.86), slice('region = 1', 250, 0.8, 0.86), slice('region = 2', 100, 0.85, 0.86)];
    const d = gate({ ...overall, slices, policy });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(failed(d), ["On slice region = 1 (250 rows) the candidate's accuracy 0.8 against the champion's 0.86 is worse by 0.06, more than the sliceTolerance of 0.02."]);
    assert.ok(d.reasons.includes("On slice region = 2 (100 rows) the candidate's accuracy 0.85 against the champion's 0.86 is worse by 0.01, within the sliceTolerance of 0.02."));
    assert.ok(d.reasons.includes("On slice region = 0 (400 rows) the candidate's accuracy 0.93 against the champion's 0.86 is better by 0.07."));
    const check = d.checks.find((c) => c.outcome === 'failed')!;
    assert.deepEqual(check.slice, { feature: 'region', slice: '1', name: 'region = 1', rows: 250 });
    assert.ok(Math.abs(check.required! - 0.84) < 1e-12, 'the worst the slice may be');
  });

  it('an error metric regresses upward', () => {
    const d = gate({ candidate: { rmse: 1 }, champion: { rmse: 1.2 }, slices: [slice('tier = 3', 50, 1.5, 1.3, 'rmse')], policy: { metric: 'rmse', minImprovement: 0, sliceTolerance: 0.1 } });
    assert.deepEqual(failed(d), ["On slice tier = 3 (50 rows) the candidate's rmse 1.5 against the champion's 1.3 is worse by 0.2, more than the sliceTolerance of 0.1."]);
  });

  it('small slices are reported, not gated, and come last', () => {
    const d = gate({ ...overall, slices: [slice('region = 9', 12, 0.2, 0.9)], policy });
    assert.equal(d.decision, 'promote');
    assert.equal(d.reasons.at(-1), 'Slice region = 9 has 12 holdout row(s), fewer than minSliceRows (30), so it is reported, not gated.');
    assert.equal(d.checks.at(-1)!.outcome, 'not-gated');
  });

  it('minSliceRows defaults to 30', () => {
    const d = gate({ ...overall, slices: [slice('region = 9', 29, 0.2, 0.9)], policy: { metric: 'accuracy', minImprovement: 0, sliceTolerance: 0 } });
    assert.equal(d.decision, 'promote');
  });

  it('a metric undefined on a slice for both models (AUC on one class) is not gated; for one of them, it rejects', () => {
    const both = gate({ candidate: { auc: 0.9 }, champion: { auc: 0.8 }, slices: [slice('x = 1', 60, null, null, 'auc')], policy: { metric: 'auc', minImprovement: 0, sliceTolerance: 0.05 } });
    assert.equal(both.decision, 'promote');
    assert.equal(both.reasons.at(-1), 'On slice x = 1 (60 rows) auc is undefined for both models (null), so it is not gated.');
    const one = gate({ candidate: { auc: 0.9 }, champion: { auc: 0.8 }, slices: [slice('x = 1', 60, 0.7, null, 'auc')], policy: { metric: 'auc', minImprovement: 0, sliceTolerance: 0.05 } });
    assert.deepEqual(failed(one), ["On slice x = 1 (60 rows) the champion's auc is null, not a finite number, so the slice cannot be judged."]);
  });

  it('without a sliceTolerance, slices are reported in one sentence and not gated', () => {
    const d = gate({ ...overall, slices: [slice('region = 1', 250, 0.5, 0.86), slice('region = 2', 250, 0.9, 0.86)], policy: { metric: 'accuracy', minImprovement: 0 } });
    assert.equal(d.decision, 'promote');
    assert.equal(d.reasons.at(-1), 'The evaluation scored 2 slice(s); the policy sets no sliceTolerance, so they are reported, not gated.');
  });

  it('a tie on a slice with zero tolerance passes', () => {
    const d = gate({ ...overall, slices: [slice('region = 1', 250, 0.86, 0.86)], policy: { ...policy, sliceTolerance: 0 } });
    assert.equal(d.decision, 'promote');
    assert.ok(d.reasons.includes("On slice region = 1 (250 rows) the candidate's accuracy 0.86 against the champion's 0.86 is no worse."));
  });
});

function paired(overrides: Partial<PairedStatistics>): PairedStatistics {
  return { rows: 1000, discordantPairs: null, bootstrap: null, ...overrides };
}

describe('significance', () => {
  const overall = { candidate: { accuracy: 0.9 }, champion: { accuracy: 0.87 } };

  it("McNemar: a significant win promotes, with p and the discordant counts in the reason", () => {
    const d = gate({ ...overall, paired: paired({ discordantPairs: { candidateOnlyCorrect: 60, championOnlyCorrect: 30 } }), policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.05 } } });
    assert.equal(d.decision, 'promote');
    const check = d.checks.find((c) => c.check === 'significance')!;
    assert.ok(check.pValue! > 0.0015 && check.pValue! < 0.0025, `p = ${check.pValue}`);
    assert.match(check.reason, /^McNemar's exact test on the 90 holdout row\(s\) only one model gets right \(candidate 60, champion 30\) gives p = 0\.00\d+, below alpha 0\.05: the candidate is significantly better\.$/);
  });

  it('McNemar: not significant rejects; the exact and chi-square variants can fall either side of alpha', () => {
    // statsmodels: b=12, c=25 gives exact p 0.04703 and chi-square p 0.04852 (test/fixtures/gate-reference).
    const pairs = { candidateOnlyCorrect: 25, championOnlyCorrect: 12 };
    const exact = gate({ ...overall, paired: paired({ discordantPairs: pairs }), policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.048, exact: true } } });
    assert.equal(exact.decision, 'promote');
    const chiSquare = gate({ ...overall, paired: paired({ discordantPairs: pairs }), policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.048, exact: false } } });
    assert.equal(chiSquare.decision, 'reject');
    assert.match(failed(chiSquare)[0], /^McNemar's chi-square test \(continuity-corrected\) on the 37 holdout row\(s\) only one model gets right \(candidate 25, champion 12\) gives p = 0\.0485197, not below alpha 0\.048: the difference may be chance\.$/);
  });

  it('McNemar: a significantly better champion rejects, saying so', () => {
    const d = gate({ ...overall, paired: paired({ discordantPairs: { candidateOnlyCorrect: 10, championOnlyCorrect: 40 } }), policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.05 } } });
    assert.match(failed(d)[0], /the champion is significantly better\.$/);
  });

  it('McNemar without discordant pairs rejects: it cannot judge', () => {
    const d = gate({ ...overall, paired: null, policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.05 } } });
    assert.deepEqual(failed(d), ["McNemar's test needs the evaluation's discordant pairs, which it did not give (a regressor, or an evaluation without paired statistics), so significance cannot be judged."]);
  });

  const interval = (lower: number, upper: number, overrides: object = {}) =>
    paired({ bootstrap: { metric: 'rmse', observed: (lower + upper) / 2, lower, upper, confidence: 0.95, resamples: 1000, usableResamples: 1000, seed: 0, ...overrides } });
  const regression = { candidate: { rmse: 1.9 }, champion: { rmse: 2 } };
  const bootstrapPolicy = { metric: 'rmse' as const, minImprovement: 0, significance: { test: 'paired-bootstrap' as const, alpha: 0.05 } };

  it('paired bootstrap: an interval above 0 promotes', () => {
    const d = gate({ ...regression, paired: interval(0.02, 0.18), policy: bootstrapPolicy });
    assert.equal(d.decision, 'promote');
    const check = d.checks.find((c) => c.check === 'significance')!;
    assert.equal(check.reason, "The paired bootstrap's 95% interval for the candidate's rmse improvement is [0.02, 0.18] (1000 of 1000 resamples, seed 0), above 0: the improvement is significant at alpha 0.05.");
    assert.deepEqual(check.interval, { lower: 0.02, upper: 0.18, confidence: 0.95 });
  });

  it('paired bootstrap: an interval holding 0, or below it, rejects', () => {
    assert.match(failed(gate({ ...regression, paired: interval(-0.01, 0.2), policy: bootstrapPolicy }))[0], /which includes 0: the improvement is not significant at alpha 0\.05\.$/);
    assert.match(failed(gate({ ...regression, paired: interval(-0.3, -0.1), policy: bootstrapPolicy }))[0], /below 0: the candidate is significantly worse\.$/);
  });

  it('paired bootstrap of another metric, at another level, or missing: reject, it cannot judge', () => {
    assert.match(failed(gate({ ...regression, paired: interval(0.1, 0.2, { metric: 'mae' }), policy: bootstrapPolicy }))[0], /is of mae, but the gate's metric is rmse/);
    assert.match(failed(gate({ ...regression, paired: interval(0.1, 0.2, { confidence: 0.9 }), policy: bootstrapPolicy }))[0], /at 90% confidence .* but alpha 0\.05 asks for a finite 95% interval/);
    assert.match(failed(gate({ ...regression, paired: paired({}), policy: bootstrapPolicy }))[0], /gave no paired bootstrap interval for rmse/);
  });
});

describe('first model and unusable input', () => {
  it('a first model is judged on thresholds alone; slices and significance are noted as needing a champion', () => {
    const d = gate({
      candidate: { accuracy: 0.9 },
      champion: null,
      slices: [{ feature: 'region', slice: '1', name: 'region = 1', rows: 100, candidate: { accuracy: 0.5 }, champion: null }],
      paired: null,
      policy: { metric: 'accuracy', minImprovement: 0.05, thresholds: { accuracy: { min: 0.8 } }, sliceTolerance: 0.01, significance: { test: 'mcnemar', alpha: 0.05 } },
    });
    assert.equal(d.decision, 'promote');
    assert.deepEqual(d.reasons, [
      'There is no champion yet, so the candidate (accuracy 0.9) is judged on the threshold alone (slices and significance need a champion to compare with).',
      "The candidate's accuracy 0.9 meets the threshold (at least 0.8).",
    ]);
  });

  it('a policy that slipped past validation rejects with every problem named', () => {
    const d = gate({
      candidate: { accuracy: 0.9 },
      champion: { accuracy: 0.8 },
      policy: { metric: 'accuracy', minImprovement: { relative: -0.1 }, thresholds: { f1: {} as any, auc: { min: NaN } }, sliceTolerance: -1, minSliceRows: 0, significance: { test: 'mcnemar', alpha: 1.5 } },
    });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(failed(d), [
      "The gate policy's relative minImprovement is -0.1; it must be a finite number ≥ 0.",
      "The gate policy's threshold for f1 gives neither min nor max.",
      "The gate policy's min for auc is NaN; it must be a finite number.",
      "The gate policy's sliceTolerance is -1; it must be a finite number ≥ 0.",
      "The gate policy's minSliceRows is 0; it must be a whole number ≥ 1.",
      "The gate policy's significance alpha is 1.5; it must lie strictly between 0 and 1.",
    ]);
  });

  it('never throws on malformed evaluation results', () => {
    const d = gate({ candidate: { accuracy: 0.9 }, champion: { accuracy: 0.8 }, slices: 'nonsense' as any, paired: { discordantPairs: { candidateOnlyCorrect: -3, championOnlyCorrect: 1 } } as any, policy: { metric: 'accuracy', minImprovement: 0, significance: { test: 'mcnemar', alpha: 0.05 } } });
    assert.equal(d.decision, 'reject');
    assert.match(failed(d)[0], /^The evaluation's discordant pairs are unusable \(McNemar's test: candidateOnlyCorrect \(b\) is -3, not a count\), so significance cannot be judged\.$/);
  });
});

describe('the gate config', () => {
  const config = (change: (c: any) => void) => {
    const input = demoConfig() as any;
    change(input);
    return input;
  };
  const issues = (input: unknown) => {
    try {
      parsePipelineConfig(input);
    } catch (err) {
      assert.ok(err instanceof InvalidConfigError);
      return err.message;
    }
    assert.fail('the config was accepted');
  };

  it("today's configs keep working and become the same policy", () => {
    const parsed = parsePipelineConfig(config((c) => (c.gate = { minImprovement: 0.01, threshold: 0.7 })));
    assert.deepEqual(gatePolicy(parsed), { metric: 'accuracy', minImprovement: 0.01, threshold: 0.7, thresholds: {}, sliceTolerance: undefined, minSliceRows: 30, significance: undefined });
    assert.deepEqual(parsePipelineConfig(config((c) => delete c.gate)).gate.minImprovement, 0);
    assert.deepEqual(parsed.evaluation.slices, []);
    assert.deepEqual(parsed.evaluation.bootstrap, { resamples: 1000, seed: 0 });
  });

  it('the full policy parses, with defaults for alpha and the McNemar variant', () => {
    const parsed = parsePipelineConfig(
      config((c) => {
        c.dataset.schema.features.push({ name: 'region', type: 'categorical' });
        c.evaluation.slices = [{ feature: 'region' }, { feature: 'tenure_months', edges: [6, 12, 24] }];
        c.gate = { minImprovement: { absolute: 0.005, relative: 0.01 }, thresholds: { accuracy: { min: 0.8 }, log_loss: { max: 0.5 } }, sliceTolerance: 0.02, minSliceRows: 50, significance: { test: 'mcnemar' } };
      }),
    );
    assert.deepEqual(parsed.gate.significance, { test: 'mcnemar', alpha: 0.05, exact: true });
    assert.equal(gatePolicy(parsed).minSliceRows, 50);
  });

  it('a slice on a feature the schema lacks is an error naming the feature and the path', () => {
    assert.match(issues(config((c) => (c.evaluation.slices = [{ feature: 'cat_0' }]))), /evaluation\.slices\[0\]\.feature: "cat_0" is not a feature of dataset\.schema \(its features: monthly_spend, tenure_months, support_calls, discount_rate\)/);
  });

  it('numerical slices need edges, strictly increasing; categorical slices take none', () => {
    const message = issues(
      config((c) => {
        c.dataset.schema.features.push({ name: 'region', type: 'categorical' });
        c.evaluation.slices = [{ feature: 'tenure_months' }, { feature: 'region', edges: [1] }, { feature: 'monthly_spend', edges: [10, 10] }, { feature: 'support_calls', edges: [1] }, { feature: 'support_calls', edges: [2] }];
      }),
    );
    assert.match(message, /evaluation\.slices\[0\]\.edges: "tenure_months" is numerical: give bucket edges/);
    assert.match(message, /evaluation\.slices\[1\]\.edges: "region" is categorical: it gets one slice per value, so edges do not apply/);
    assert.match(message, /evaluation\.slices\[2\]\.edges\[1\]: must be larger than the edge before it \(10\)/);
    assert.match(message, /evaluation\.slices\[4\]\.feature: "support_calls" is sliced twice/);
  });

  it('thresholds and tests must fit the predictor type', () => {
    assert.match(issues(config((c) => (c.gate = { thresholds: { rmse: { max: 3 } } }))), /gate\.thresholds\.rmse: a binary_classifier's evaluation has no rmse; its metrics are accuracy, f1, auc, log_loss, precision, recall/);
    assert.match(issues(config((c) => (c.gate = { thresholds: { accuracy: {} } }))), /gate\.thresholds\.accuracy: needs min, max or both/);
    assert.match(issues(config((c) => (c.gate = { thresholds: { accuracy: { min: 0.9, max: 0.8 } } }))), /gate\.thresholds\.accuracy: min must not exceed max/);
    const regressor = config((c) => {
      c.predictorType = 'regressor';
      c.evaluation.metric = 'rmse';
      c.gate = { significance: { test: 'mcnemar' } };
    });
    assert.match(issues(regressor), /gate\.significance\.test: McNemar's test compares classifiers' right and wrong answers; gate a regressor with paired-bootstrap/);
    assert.match(issues(config((c) => (c.gate = { significance: { test: 'wilcoxon' } }))), /gate\.significance/);
  });
});

describe('never throws', () => {
  it('judges a thousand random, malformed inputs without throwing', async () => {
    const { seededRandom } = await import('../domain/seeded-random');
    const random = seededRandom(42);
    const pick = <T>(values: T[]): T => values[Math.floor(random() * values.length)];
    const junk = (): any => pick([undefined, null, NaN, Infinity, -1, 0, 0.5, 2, 'x', {}, [], { min: 'a' }, { accuracy: 0.9 }, true]);
    const metrics = (): any => pick([{ accuracy: random(), f1: junk(), rmse: junk() }, {}, null, junk()]);
    for (let i = 0; i < 1000; i++) {
      const input: any = {
        candidate: metrics(),
        champion: pick([null, metrics()]),
        slices: pick([undefined, junk(), [null, { name: 's', rows: junk(), candidate: metrics(), champion: metrics() }], [slice('a = 1', 100, random(), random())]]),
        paired: pick([undefined, null, junk(), { discordantPairs: { candidateOnlyCorrect: junk(), championOnlyCorrect: 3 }, bootstrap: { metric: 'accuracy', lower: junk(), upper: junk(), confidence: junk() } }]),
        policy: pick([
          undefined,
          junk(),
          { metric: pick(['accuracy', 'rmse', 'nonsense', junk()]), minImprovement: pick([junk(), { relative: junk() }]), threshold: junk(), thresholds: pick([junk(), { accuracy: junk() }]), sliceTolerance: junk(), minSliceRows: junk(), significance: pick([junk(), { test: pick(['mcnemar', 'paired-bootstrap', 'x']), alpha: junk() }]) },
        ]),
      };
      let d: GateDecision;
      try {
        d = decideGate(input);
      } catch (err) {
        assert.fail(`threw on ${JSON.stringify(input)}: ${(err as Error).stack}`);
      }
      assert.ok(d.decision === 'promote' || d.decision === 'reject');
      assert.ok(d.reasons.length > 0, `no reason for ${JSON.stringify(input)}`);
      assert.deepEqual(d.reasons, d.checks.map((c) => c.reason));
    }
  });
});

it('no policy at all is a reject that says so', () => {
  const d = decideGate({ candidate: { accuracy: 0.9 }, champion: null, policy: undefined as any });
  assert.equal(d.decision, 'reject');
  assert.equal(d.reasons[0], 'The gate was given no policy (undefined), so it cannot judge the candidate.');
});

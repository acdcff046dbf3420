import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideGate, type GateDecision } from '../domain/gate';

function assertSentences(decision: GateDecision): void {
  assert.ok(decision.reasons.length > 0);
  for (const r of decision.reasons) assert.match(r, /^[A-Z].*\.$/, `"${r}" reads as a sentence`);
}

describe('decideGate, higher-is-better metrics', () => {
  it('promotes a candidate that beats the champion by the margin and meets the floor', () => {
    const d = decideGate({ candidate: { accuracy: 0.91, f1: 0.5 }, champion: { accuracy: 0.89 }, policy: { metric: 'accuracy', minImprovement: 0.01, threshold: 0.85 } });
    assert.equal(d.decision, 'promote');
    assert.equal(d.candidate, 0.91);
    assert.equal(d.champion, 0.89);
    assert.ok(Math.abs(d.improvement! - 0.02) < 1e-12);
    assert.deepEqual(d.reasons, [
      "The candidate's accuracy 0.91 against the champion's 0.89 (higher is better) is an improvement of 0.02, meeting the required 0.01.",
      "The candidate's accuracy 0.91 meets the threshold (at least 0.85).",
    ]);
    assertSentences(d);
  });

  it('rejects an improvement smaller than the margin, with both numbers', () => {
    const d = decideGate({ candidate: { auc: 0.895 }, champion: { auc: 0.89 }, policy: { metric: 'auc', minImprovement: 0.01 } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.reasons, ["The candidate's auc 0.895 against the champion's 0.89 (higher is better) is an improvement of only 0.005; the policy requires 0.01."]);
  });

  it('rejects a worse candidate', () => {
    const d = decideGate({ candidate: { f1: 0.7 }, champion: { f1: 0.72 }, policy: { metric: 'f1', minImprovement: 0 } });
    assert.equal(d.decision, 'reject');
    assert.ok(Math.abs(d.improvement! + 0.02) < 1e-12);
    assert.deepEqual(d.reasons, ["The candidate's f1 0.7 against the champion's 0.72 (higher is better) is worse by 0.02; the policy requires an improvement of 0."]);
  });

  it('promotes a tie when no margin is required (a fresher model on more data)', () => {
    assert.equal(decideGate({ candidate: { accuracy: 0.9 }, champion: { accuracy: 0.9 }, policy: { metric: 'accuracy', minImprovement: 0 } }).decision, 'promote');
  });

  it('counts a margin met to within floating-point rounding as met', () => {
    // 0.3 − 0.28 = 0.019999999999999990 in binary floating point.
    const d = decideGate({ candidate: { accuracy: 0.3 }, champion: { accuracy: 0.28 }, policy: { metric: 'accuracy', minImprovement: 0.02 } });
    assert.equal(d.decision, 'promote');
    assert.match(d.reasons[0]!, /improvement of 0\.02, meeting the required 0\.02\./);
  });
});

describe('decideGate, error metrics (lower is better)', () => {
  it('promotes a lower rmse', () => {
    const d = decideGate({ candidate: { rmse: 3.2 }, champion: { rmse: 3.5 }, policy: { metric: 'rmse', minImprovement: 0.1 } });
    assert.equal(d.decision, 'promote');
    assert.ok(Math.abs(d.improvement! - 0.3) < 1e-12);
    assert.deepEqual(d.reasons, ["The candidate's rmse 3.2 against the champion's 3.5 (lower is better) is an improvement of 0.3, meeting the required 0.1."]);
  });

  it('rejects a higher mae', () => {
    const d = decideGate({ candidate: { mae: 1.25 }, champion: { mae: 1.2 }, policy: { metric: 'mae', minImprovement: 0 } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.reasons, ["The candidate's mae 1.25 against the champion's 1.2 (lower is better) is worse by 0.05; the policy requires an improvement of 0."]);
  });

  it('treats the threshold as a ceiling: beating the champion is not enough', () => {
    const d = decideGate({ candidate: { log_loss: 0.45 }, champion: { log_loss: 0.5 }, policy: { metric: 'log_loss', minImprovement: 0.01, threshold: 0.4 } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.reasons, [
      "The candidate's log_loss 0.45 misses the threshold (at most 0.4).",
      "The candidate's log_loss 0.45 against the champion's 0.5 (lower is better) is an improvement of 0.05, meeting the required 0.01.",
    ]);
  });
});

describe('decideGate, first model', () => {
  it('promotes the first model when it meets the threshold', () => {
    const d = decideGate({ candidate: { accuracy: 0.86 }, champion: null, policy: { metric: 'accuracy', minImprovement: 0.01, threshold: 0.85 } });
    assert.deepEqual(d, {
      decision: 'promote',
      metric: 'accuracy',
      candidate: 0.86,
      champion: null,
      improvement: null,
      relativeImprovement: null,
      reasons: [
        'There is no champion yet, so the candidate (accuracy 0.86) is judged on the threshold alone.',
        "The candidate's accuracy 0.86 meets the threshold (at least 0.85).",
      ],
      checks: [
        { check: 'first-model', outcome: 'passed', metric: 'accuracy', candidate: 0.86, reason: 'There is no champion yet, so the candidate (accuracy 0.86) is judged on the threshold alone.' },
        { check: 'threshold', outcome: 'passed', metric: 'accuracy', required: 0.85, candidate: 0.86, reason: "The candidate's accuracy 0.86 meets the threshold (at least 0.85)." },
      ],
    });
  });

  it('rejects the first model below the threshold', () => {
    const d = decideGate({ candidate: { accuracy: 0.8 }, champion: null, policy: { metric: 'accuracy', minImprovement: 0, threshold: 0.85 } });
    assert.equal(d.decision, 'reject');
    assert.equal(d.reasons[0], "The candidate's accuracy 0.8 misses the threshold (at least 0.85).");
  });

  it('promotes the first model when there is no threshold', () => {
    const d = decideGate({ candidate: { rmse: 12.5 }, champion: null, policy: { metric: 'rmse', minImprovement: 0.5 } });
    assert.equal(d.decision, 'promote');
    assert.deepEqual(d.reasons, ['There is no champion yet and no threshold, so the candidate (rmse 12.5) is the first model.']);
  });
});

describe('decideGate, unusable inputs reject instead of throwing', () => {
  it('a missing candidate metric', () => {
    const d = decideGate({ candidate: { accuracy: 0.9 }, champion: { auc: 0.8 }, policy: { metric: 'auc', minImprovement: 0 } });
    assert.equal(d.decision, 'reject');
    assert.ok(Number.isNaN(d.candidate));
    assert.equal(d.improvement, null);
    assert.deepEqual(d.reasons, ["The candidate's auc is missing, so it cannot be judged."]);
  });

  it('a non-finite candidate metric', () => {
    for (const bad of [NaN, Infinity]) {
      const d = decideGate({ candidate: { log_loss: bad }, champion: null, policy: { metric: 'log_loss', minImprovement: 0 } });
      assert.equal(d.decision, 'reject');
      assert.deepEqual(d.reasons, [`The candidate's log_loss is ${bad}, not a finite number, so it cannot be judged.`]);
    }
  });

  it('a champion without the metric', () => {
    const d = decideGate({ candidate: { f1: 0.8 }, champion: {}, policy: { metric: 'f1', minImprovement: 0 } });
    assert.equal(d.decision, 'reject');
    assert.equal(d.champion, null);
    assert.deepEqual(d.reasons, ["The champion's f1 is missing, so the candidate cannot be compared with it; re-evaluate the champion on the holdout."]);
  });

  it('an invalid policy', () => {
    const d = decideGate({ candidate: { f1: 0.8 }, champion: null, policy: { metric: 'f1', minImprovement: -1, threshold: NaN } });
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.reasons.slice(0, 2), [
      "The gate policy's minImprovement is -1; it must be a finite number ≥ 0.",
      "The gate policy's threshold is NaN; it must be a finite number.",
    ]);
    assertSentences(d);
  });
});

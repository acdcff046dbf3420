// The evaluation processing job, run for real as a child process on hand-made models and a holdout
// small enough to check by hand.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import type { LinearLearnerModel } from '../local/algorithms/linear-learner/model';

const EVALUATE = path.resolve(__dirname, '..', 'local', 'algorithms', 'evaluation', 'evaluate.ts');
const TSX = pathToFileURL(require.resolve('tsx')).href;

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'evaluation-test-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function linearModel(overrides: Partial<LinearLearnerModel>): LinearLearnerModel {
  return {
    format: 'linear-learner-local/1',
    predictor_type: 'binary_classifier',
    num_classes: 2,
    feature_dim: 1,
    weights: [[1]],
    bias: [0],
    feature_mean: [0],
    feature_std: [1],
    label_mean: 0,
    label_std: 1,
    training_job_name: 'candidate-job',
    warm_started_from: null,
    rows_seen: 100,
    train_rows: 100,
    epochs: 1,
    hyperparameters: {},
    ...overrides,
  };
}

/** A model.tar.gz at `dir/<archivePath>`, as a processing input downloads it. */
async function modelInput(dir: string, model: LinearLearnerModel, archivePath = 'model.tar.gz'): Promise<string> {
  const staging = path.join(scratch, `staging-${model.training_job_name}-${Math.random().toString(36).slice(2)}`);
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, 'model.json'), JSON.stringify(model));
  const archive = path.join(dir, archivePath);
  await mkdir(path.dirname(archive), { recursive: true });
  await tar.c({ gzip: true, file: archive, cwd: staging }, ['model.json']);
  return dir;
}

async function holdout(dir: string, files: Record<string, string>): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

function evaluate(optMl: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', TSX, EVALUATE, ...args], { cwd: scratch, env: { ...inherited, OPT_ML: optMl }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
const close = (actual: unknown, expected: number, what: string) => {
  assert.equal(typeof actual, 'number', `${what} is ${actual}`);
  assert.ok(Math.abs((actual as number) - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
};
const softplus = (z: number) => Math.log(1 + Math.exp(z));

describe('evaluation job', () => {
  // Six rows, label first. The candidate scores sigmoid(x): it gets x = 2, -1, 0.5, -2 right, calls
  // (0, x=1) positive and (1, x=-0.5) negative. The champion has zero weights: 0.5 everywhere,
  // which is not above the threshold, so it predicts 0 for every row.
  const rows = { 'part-1.csv': '1,2\n0,-1\n1,0.5\n', 'later/part-2.csv': '0,1\n1,-0.5\n0,-2\n' };

  it('scores candidate and champion on the same holdout and writes evaluation.json and both Model Monitor files', async () => {
    const root = path.join(scratch, 'binary');
    const candidate = await modelInput(path.join(root, 'input', 'candidate'), linearModel({}));
    const champion = await modelInput(path.join(root, 'input', 'champion'), linearModel({ weights: [[0]], training_job_name: 'champion-job', rows_seen: 50 }), 'output/model.tar.gz');
    const holdoutDir = await holdout(path.join(root, 'input', 'holdout'), rows);
    const output = path.join(root, 'output', 'evaluation');
    const optMl = path.join(root, 'opt_ml');

    const run = await evaluate(optMl, ['--candidate', candidate, '--champion', champion, '--holdout', holdoutDir, '--output', output]);
    assert.equal(run.code, 0, run.stderr);

    const report = await readJson(path.join(output, 'evaluation.json'));
    assert.equal(report.predictor_type, 'binary_classifier');
    assert.equal(report.holdout_rows, 6);
    assert.equal(report.candidate_training_job, 'candidate-job');
    assert.equal(report.champion_training_job, 'champion-job');

    const summary = report.summary as Record<'candidate' | 'champion', Record<string, number>>;
    close(summary.candidate.accuracy, 4 / 6, 'candidate accuracy');
    close(summary.candidate.precision, 2 / 3, 'candidate precision');
    close(summary.candidate.recall, 2 / 3, 'candidate recall');
    close(summary.candidate.f1, 2 / 3, 'candidate f1');
    // Positives score 2, 0.5, -0.5 against negatives -1, 1, -2: 7 of 9 pairs ranked right.
    close(summary.candidate.auc, 7 / 9, 'candidate auc');
    const candidateLogLoss = (softplus(-2) + softplus(-1) + softplus(-0.5) + softplus(1) + softplus(0.5) + softplus(-2)) / 6;
    close(summary.candidate.log_loss, candidateLogLoss, 'candidate log loss');
    close(summary.champion.accuracy, 0.5, 'champion accuracy');
    close(summary.champion.f1, 0, 'champion f1');
    close(summary.champion.auc, 0.5, 'champion auc (all tied)');
    close(summary.champion.log_loss, Math.LN2, 'champion log loss');

    const candidateStats = await readJson(path.join(output, 'candidate-metrics.json'));
    assert.deepEqual(candidateStats, report.candidate, 'candidate-metrics.json is the report\'s candidate section');
    const binary = candidateStats.binary_classification_metrics as Record<string, { value: number; standard_deviation: number | string }> & { confusion_matrix: unknown };
    assert.deepEqual(binary.confusion_matrix, { '0': { '0': 2, '1': 1 }, '1': { '0': 1, '1': 2 } });
    for (const name of ['accuracy', 'precision', 'recall', 'f1', 'auc']) {
      assert.equal(binary[name].standard_deviation, 'NaN', `${name}: Model Monitor gives no deviation under 200 rows`);
    }
    close(binary.auc.value, 7 / 9, 'monitor auc');
    close(binary.f1.value, 2 / 3, 'monitor f1');
    const championStats = await readJson(path.join(output, 'champion-metrics.json'));
    assert.deepEqual(championStats, report.champion);
    assert.deepEqual((championStats.binary_classification_metrics as { confusion_matrix: unknown }).confusion_matrix, { '0': { '0': 3, '1': 0 }, '1': { '0': 3, '1': 0 } });

    const exitMessage = await readFile(path.join(optMl, 'output', 'message'), 'utf8');
    assert.match(exitMessage, /^candidate candidate-job: accuracy=0\.6667 f1=0\.6667; champion champion-job: accuracy=0\.5000 f1=0\.0000 \(6 holdout rows\)/);
  });

  it('without a champion: regression metrics for the candidate alone, champion null', async () => {
    const root = path.join(scratch, 'regression');
    // y = 2x + 1, scored on rows whose errors are 0, 0, +1, -1.
    const candidate = await modelInput(path.join(root, 'candidate'), linearModel({ predictor_type: 'regressor', num_classes: null, weights: [[2]], bias: [1], training_job_name: 'reg-job' }));
    const holdoutDir = await holdout(path.join(root, 'holdout'), { 'h.csv': '3,1\n1,0\n0,-1\n6,2\n' });
    const output = path.join(root, 'out');
    const run = await evaluate(path.join(root, 'opt_ml'), [`--candidate=${candidate}`, '--holdout', holdoutDir, '--output', output]);
    assert.equal(run.code, 0, run.stderr);

    const report = await readJson(path.join(output, 'evaluation.json'));
    assert.equal(report.champion, null);
    assert.equal(report.champion_training_job, null);
    assert.equal(report.holdout_rows, 4);
    const summary = report.summary as { candidate: Record<string, number>; champion: null };
    assert.equal(summary.champion, null);
    close(summary.candidate.mae, 0.5, 'mae');
    close(summary.candidate.mse, 0.5, 'mse');
    close(summary.candidate.rmse, Math.sqrt(0.5), 'rmse');
    // Labels 3, 1, 0, 6 have mean 2.5 and total sum of squares 21.
    close(summary.candidate.r2, 1 - 2 / 21, 'r2');
    const stats = await readJson(path.join(output, 'candidate-metrics.json'));
    assert.deepEqual(Object.keys(stats.regression_metrics as object).sort(), ['mae', 'mse', 'r2', 'rmse']);
    await assert.rejects(stat(path.join(output, 'champion-metrics.json')), 'no champion file without a champion');
  });

  it('fails with a ClientError when the models cannot be compared or a holdout row is bad', async () => {
    const root = path.join(scratch, 'failures');
    const candidate = await modelInput(path.join(root, 'candidate'), linearModel({}));
    const wideChampion = await modelInput(path.join(root, 'champion'), linearModel({ feature_dim: 2, weights: [[1, 1]], feature_mean: [0, 0], feature_std: [1, 1], training_job_name: 'wide-job' }));
    const goodHoldout = await holdout(path.join(root, 'good'), rows);
    const badHoldout = await holdout(path.join(root, 'bad'), { 'h.csv': '1,2\n0,abc\n' });

    const [mismatch, badRow, noHoldout] = await Promise.all([
      evaluate(path.join(root, 'opt1'), ['--candidate', candidate, '--champion', wideChampion, '--holdout', goodHoldout, '--output', path.join(root, 'out1')]),
      evaluate(path.join(root, 'opt2'), ['--candidate', candidate, '--holdout', badHoldout, '--output', path.join(root, 'out2')]),
      evaluate(path.join(root, 'opt3'), ['--candidate', candidate, '--output', path.join(root, 'out3')]),
    ]);
    assert.notEqual(mismatch.code, 0);
    assert.match(await readFile(path.join(root, 'opt1', 'output', 'message'), 'utf8'), /^ClientError: the champion \(training job wide-job\) takes 2 features but the candidate takes 1/);
    assert.notEqual(badRow.code, 0);
    assert.match(await readFile(path.join(root, 'opt2', 'output', 'failure'), 'utf8'), /^ClientError: holdout\/h\.csv line 2: feature 1 is "abc", not a finite number/);
    assert.notEqual(noHoldout.code, 0);
    assert.match(await readFile(path.join(root, 'opt3', 'output', 'message'), 'utf8'), /^ClientError: --holdout is required/);
    await assert.rejects(stat(path.join(root, 'out1', 'evaluation.json')), 'no report from a failed evaluation');
  });
});

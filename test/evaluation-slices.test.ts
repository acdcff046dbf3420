/* eslint-disable @typescript-eslint/no-explicit-any -- evaluation.json is read as the container wrote it */
// The evaluation job's slices, paired statistics and holdout-predictions.jsonl, run for real as a child
// process on hand-made models and a holdout small enough to check by hand; the predictions are compared
// with what serve.ts answers for the same rows. The slicing itself is pure and tested first.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { holdoutSlices, parseSliceArgument, sliceArgument, sliceColumns } from '../domain/evaluation-slices';
import type { LinearLearnerModel } from '../local/algorithms/linear-learner/model';

const ALGORITHMS = path.resolve(__dirname, '..', 'local', 'algorithms');
const TSX = pathToFileURL(require.resolve('tsx')).href;

describe('holdout slices (pure)', () => {
  const values = [5, -1, 0, 10, 10, 99, 100, 250, 7];
  const valueOf = (row: number) => values[row];

  it('buckets are left-closed between the edges, with one below and one above, empty ones listed', () => {
    const slices = holdoutSlices({ feature: 'num_3', column: 3, edges: [0, 10, 100, 1000] }, values.length, valueOf, 50);
    assert.deepEqual(
      slices.map((s) => [s.name, s.lower, s.upper, s.rows]),
      [
        ['num_3 < 0', null, 0, [1]],
        ['num_3 in [0, 10)', 0, 10, [0, 2, 8]],
        ['num_3 in [10, 100)', 10, 100, [3, 4, 5]],
        ['num_3 in [100, 1000)', 100, 1000, [6, 7]],
        ['num_3 >= 1000', 1000, null, []],
      ],
    );
  });

  it('one slice per categorical value in ascending order; past maxValues the rarest share one', () => {
    const categories = [2, 0, 2, 1, 2, 3, 0, 2, 4];
    const all = holdoutSlices({ feature: 'cat_0', column: 0 }, categories.length, (r) => categories[r], 50);
    assert.deepEqual(all.map((s) => [s.name, s.value, s.rows.length]), [['cat_0 = 0', 0, 2], ['cat_0 = 1', 1, 1], ['cat_0 = 2', 2, 4], ['cat_0 = 3', 3, 1], ['cat_0 = 4', 4, 1]]);
    const capped = holdoutSlices({ feature: 'cat_0', column: 0 }, categories.length, (r) => categories[r], 2);
    assert.deepEqual(capped.map((s) => [s.name, s.slice, s.rows]), [['cat_0 = 0', '0', [1, 6]], ['cat_0 = 2', '2', [0, 2, 4, 7]], ['cat_0: other (3 values)', 'other (3 values)', [3, 5, 8]]]);
  });

  it('a slice reaches the container as one argument, and bad ones are refused with the reason', () => {
    const [column] = sliceColumns([{ feature: 'b', edges: [1, 2] }], { features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] });
    assert.equal(sliceArgument(column), '--slice={"feature":"b","column":1,"edges":[1,2]}');
    assert.deepEqual(parseSliceArgument('{"feature":"b","column":1,"edges":[1,2]}'), column);
    assert.throws(() => parseSliceArgument('{"feature":"b","column":1,"edges":[2,1]}'), /edges\.1: must be larger than the edge before it \(2\)/);
    assert.throws(() => parseSliceArgument('{feature'), /is not JSON/);
    assert.throws(() => sliceColumns([{ feature: 'zz' }], { features: [{ name: 'a', type: 'numerical' }] }), /slice feature "zz" is not in the dataset schema \(features: a\)/);
  });
});

let scratch: string;
const children = new Set<ChildProcess>();
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'evaluation-slices-test-'));
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
});

function model(overrides: Partial<LinearLearnerModel>): LinearLearnerModel {
  return {
    format: 'linear-learner-local/1',
    predictor_type: 'binary_classifier',
    num_classes: 2,
    feature_dim: 2,
    weights: [[0, 1]],
    bias: [0],
    feature_mean: [0, 0],
    feature_std: [1, 1],
    label_mean: 0,
    label_std: 1,
    training_job_name: 'candidate-job',
    warm_started_from: null,
    rows_seen: 8,
    train_rows: 8,
    epochs: 1,
    hyperparameters: {},
    ...overrides,
  };
}

function run(entry: string, args: string[], env: Record<string, string>, onLine?: (line: string) => void) {
  const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', TSX, path.join(ALGORITHMS, entry), ...args], { cwd: scratch, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const take = (chunk: string) => {
    output += chunk;
    for (const line of chunk.split('\n')) onLine?.(line);
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, output });
    }),
  );
  return { child, exited };
}

async function modelDir(dir: string, m: LinearLearnerModel): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(m));
  return dir;
}

describe('evaluation job: slices, paired statistics and holdout predictions', () => {
  // label, cat (categorical), num. The candidate scores sigmoid(num); the champion 0.5 everywhere, so it
  // predicts 0. Candidate right on rows 0 1 2 5 6 7, champion on rows 1 3 5 7.
  const holdoutCsv = '1,0,2\n0,0,-1\n1,0,0.5\n0,1,1\n1,1,-0.5\n0,1,-2\n1,2,3\n0,2,-3\n';
  const slices = ['--slice={"feature":"cat","column":0}', '--slice={"feature":"num","column":1,"edges":[0,1]}'];
  let output: string;
  let report: Record<string, any>;

  before(async () => {
    const root = path.join(scratch, 'binary');
    const candidate = await modelDir(path.join(root, 'candidate'), model({}));
    const champion = await modelDir(path.join(root, 'champion'), model({ weights: [[0, 0]], training_job_name: 'champion-job' }));
    await mkdir(path.join(root, 'holdout'), { recursive: true });
    await writeFile(path.join(root, 'holdout', 'part-00000.csv'), holdoutCsv);
    output = path.join(root, 'out');
    const args = ['--candidate', candidate, '--champion', champion, '--holdout', path.join(root, 'holdout'), '--output', output, '--metric=accuracy', ...slices, '--bootstrap-resamples=200', '--bootstrap-seed=3', '--confidence=0.9'];
    const { code, output: log } = await run('evaluation/evaluate.ts', args, { OPT_ML: path.join(root, 'opt_ml') }).exited;
    assert.equal(code, 0, log);
    report = JSON.parse(await readFile(path.join(output, 'evaluation.json'), 'utf8'));
  });

  it('scores both models on every slice, with row counts', () => {
    assert.equal(report.metric, 'accuracy');
    const table = report.slices.map((s: any) => [s.name, s.rows, s.candidate?.accuracy ?? null, s.champion?.accuracy ?? null]);
    assert.deepEqual(table, [
      ['cat = 0', 3, 1, 1 / 3],
      ['cat = 1', 3, 1 / 3, 2 / 3],
      ['cat = 2', 2, 1, 1 / 2],
      ['num < 0', 4, 3 / 4, 3 / 4],
      ['num in [0, 1)', 1, 1, 0],
      // 1 sits on an edge and goes above it.
      ['num >= 1', 3, 2 / 3, 1 / 3],
    ]);
    const cat1 = report.slices[1];
    assert.deepEqual([cat1.feature, cat1.slice, cat1.value, cat1.lower, cat1.upper], ['cat', '1', 1, null, null]);
    assert.deepEqual(Object.keys(cat1.candidate).sort(), ['accuracy', 'auc', 'f1', 'log_loss', 'precision', 'recall']);
    // Row 2 alone: one class, so AUC is undefined there.
    assert.equal(report.slices[4].candidate.auc, null);
  });

  it("counts McNemar's discordant pairs and bootstraps the accuracy improvement", () => {
    const paired = report.paired;
    assert.equal(paired.rows, 8);
    assert.equal(paired.mcnemar.candidate_only_correct, 3);
    assert.equal(paired.mcnemar.champion_only_correct, 1);
    assert.equal(paired.mcnemar.exact_p_value, 0.625, 'statsmodels mcnemar([[3, 3], [1, 1]], exact=True)');
    const b = paired.bootstrap;
    assert.deepEqual([b.metric, b.observed_improvement, b.confidence, b.resamples, b.seed], ['accuracy', 0.25, 0.9, 200, 3]);
    assert.ok(b.lower <= 0.25 && 0.25 <= b.upper && b.lower < b.upper, `[${b.lower}, ${b.upper}]`);
  });

  it('writes one line per holdout row, in order, with both answers and the label', async () => {
    const lines = (await readFile(path.join(output, 'holdout-predictions.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 8);
    assert.equal(report.predictions, 'holdout-predictions.jsonl');
    const first = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(first), ['candidate', 'champion', 'label']);
    assert.deepEqual(first.champion, { score: 0.5, predicted_label: 0 });
    assert.deepEqual(lines.map((l) => JSON.parse(l).label), [1, 0, 1, 0, 1, 0, 1, 0]);
    assert.deepEqual(lines.map((l) => JSON.parse(l).candidate.predicted_label), [1, 0, 1, 1, 0, 0, 1, 0]);
  });

  it("the candidate field is exactly what the serving container answers for the row", async () => {
    const optMl = path.join(scratch, 'serving');
    await modelDir(path.join(optMl, 'model'), model({}));
    let announce: (port: string) => void = () => undefined;
    const listening = new Promise<string>((resolve) => (announce = resolve));
    const server = run('linear-learner/serve.ts', [], { OPT_ML: optMl, SAGEMAKER_BIND_TO_PORT: '0' }, (line) => {
      const port = /on 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
      if (port) announce(port);
    });
    try {
      const port = await Promise.race([listening, server.exited.then((e) => Promise.reject(new Error(`serve exited: ${e.output}`)))]);
      const features = holdoutCsv.trimEnd().split('\n').map((l) => l.split(',').slice(1).join(',')).join('\n');
      const response = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'Content-Type': 'text/csv', Accept: 'application/jsonlines' }, body: features });
      assert.equal(response.status, 200);
      const served = (await response.text()).trimEnd().split('\n');
      const evaluated = (await readFile(path.join(output, 'holdout-predictions.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.stringify(JSON.parse(l).candidate));
      assert.deepEqual(served, evaluated, 'the same JSON text, number for number');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('without a champion: slices for the candidate alone, champion null, no paired statistics', async () => {
    const root = path.join(scratch, 'alone');
    const candidate = await modelDir(path.join(root, 'candidate'), model({}));
    await mkdir(path.join(root, 'holdout'), { recursive: true });
    await writeFile(path.join(root, 'holdout', 'h.csv'), holdoutCsv);
    const out = path.join(root, 'out');
    const { code, output: log } = await run('evaluation/evaluate.ts', ['--candidate', candidate, '--holdout', path.join(root, 'holdout'), '--output', out, slices[0]], { OPT_ML: path.join(root, 'opt_ml') }).exited;
    assert.equal(code, 0, log);
    const alone = JSON.parse(await readFile(path.join(out, 'evaluation.json'), 'utf8'));
    assert.equal(alone.paired, null);
    assert.equal(alone.metric, 'accuracy', 'a classifier defaults to accuracy');
    assert.deepEqual(alone.slices.map((s: any) => [s.name, s.rows, s.champion]), [['cat = 0', 3, null], ['cat = 1', 3, null], ['cat = 2', 2, null]]);
    const line = JSON.parse((await readFile(path.join(out, 'holdout-predictions.jsonl'), 'utf8')).split('\n')[0]);
    assert.equal(line.champion, null);
  });

  it('a regressor: slices with rmse and mae, no McNemar, the rmse improvement bootstrapped; multiclass answers carry every probability', async () => {
    const root = path.join(scratch, 'other-types');
    // y = 2x + 1 for the candidate; the champion predicts x + 1. Errors: candidate 0, 0, 1, 1; champion 1, 0, 0, 3.
    const candidate = await modelDir(path.join(root, 'candidate'), model({ predictor_type: 'regressor', num_classes: null, feature_dim: 1, weights: [[2]], bias: [1], feature_mean: [0], feature_std: [1] }));
    const champion = await modelDir(path.join(root, 'champion'), model({ predictor_type: 'regressor', num_classes: null, feature_dim: 1, weights: [[1]], bias: [1], feature_mean: [0], feature_std: [1], training_job_name: 'champion-job' }));
    await mkdir(path.join(root, 'holdout'), { recursive: true });
    await writeFile(path.join(root, 'holdout', 'h.csv'), '3,1\n1,0\n0,-1\n6,2\n');
    const out = path.join(root, 'out');
    const args = ['--candidate', candidate, '--champion', champion, '--holdout', path.join(root, 'holdout'), '--output', out, '--slice={"feature":"x","column":0,"edges":[0.5]}', '--metric=rmse'];
    const { code, output: log } = await run('evaluation/evaluate.ts', args, { OPT_ML: path.join(root, 'opt_ml') }).exited;
    assert.equal(code, 0, log);
    const regression = JSON.parse(await readFile(path.join(out, 'evaluation.json'), 'utf8'));
    assert.deepEqual(regression.slices.map((s: any) => [s.name, s.rows, s.candidate.mae, s.champion.mae]), [['x < 0.5', 2, 0.5, 0], ['x >= 0.5', 2, 0.5, 2]]);
    assert.equal(regression.paired.mcnemar, null);
    // rmse: candidate sqrt(2/4), champion sqrt(10/4); lower is better, so the improvement is champion - candidate.
    assert.ok(Math.abs(regression.paired.bootstrap.observed_improvement - (Math.sqrt(2.5) - Math.sqrt(0.5))) < 1e-12);
    assert.equal(regression.paired.bootstrap.metric, 'rmse');
    const first = JSON.parse((await readFile(path.join(out, 'holdout-predictions.jsonl'), 'utf8')).split('\n')[0]);
    assert.deepEqual(first, { candidate: { score: 3 }, champion: { score: 2 }, label: 3 });

    const multiRoot = path.join(scratch, 'multiclass');
    const three = await modelDir(path.join(multiRoot, 'candidate'), model({ predictor_type: 'multiclass_classifier', num_classes: 3, feature_dim: 1, weights: [[1], [0], [-1]], bias: [0, 0, 0], feature_mean: [0], feature_std: [1] }));
    await mkdir(path.join(multiRoot, 'holdout'), { recursive: true });
    await writeFile(path.join(multiRoot, 'holdout', 'h.csv'), '0,2\n2,-2\n1,0\n');
    const multiOut = path.join(multiRoot, 'out');
    const multi = await run('evaluation/evaluate.ts', ['--candidate', three, '--holdout', path.join(multiRoot, 'holdout'), '--output', multiOut], { OPT_ML: path.join(multiRoot, 'opt_ml') }).exited;
    assert.equal(multi.code, 0, multi.output);
    const answers = (await readFile(path.join(multiOut, 'holdout-predictions.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(answers.map((a) => [a.candidate.predicted_label, a.candidate.score.length, a.label]), [[0, 3, 0], [2, 3, 2], [0, 3, 1]]);
  });

  it('refuses a slice column the holdout lacks and a metric that does not fit, as ClientErrors', async () => {
    const root = path.join(scratch, 'refused');
    const candidate = await modelDir(path.join(root, 'candidate'), model({}));
    await mkdir(path.join(root, 'holdout'), { recursive: true });
    await writeFile(path.join(root, 'holdout', 'h.csv'), holdoutCsv);
    const base = ['--candidate', candidate, '--holdout', path.join(root, 'holdout')];
    const [column, metric] = await Promise.all([
      run('evaluation/evaluate.ts', [...base, '--output', path.join(root, 'o1'), '--slice={"feature":"extra","column":5}'], { OPT_ML: path.join(root, 'opt1') }).exited,
      run('evaluation/evaluate.ts', [...base, '--output', path.join(root, 'o2'), '--metric=rmse'], { OPT_ML: path.join(root, 'opt2') }).exited,
    ]);
    assert.notEqual(column.code, 0);
    assert.match(await readFile(path.join(root, 'opt1', 'output', 'message'), 'utf8'), /^ClientError: slice feature "extra" is feature column 6, but the holdout rows have 2 features/);
    assert.notEqual(metric.code, 0);
    assert.match(await readFile(path.join(root, 'opt2', 'output', 'message'), 'utf8'), /^ClientError: --metric rmse does not apply to a binary_classifier; use accuracy, f1, auc or log_loss/);
  });
});

// The local linear learner's containers run for real: each test builds an /opt/ml layout in a temp
// directory and runs train.ts / serve.ts as child processes through tsx, as the local SageMaker does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import { CHECKPOINT_FILE, TrainingCheckpointSchema } from '../local/algorithms/linear-learner/checkpoint';
import { LINEAR_LEARNER_METRIC_DEFINITIONS, linearLearnerMetricDefinitions } from '../local/algorithms/linear-learner/metrics';
import { LinearLearnerModelSchema, predict, type LinearLearnerModel } from '../local/algorithms/linear-learner/model';
import { seededRandom } from '../domain/seeded-random';

const ALGORITHM_DIR = path.resolve(__dirname, '..', 'local', 'algorithms', 'linear-learner');
const TRAIN_ENTRY = path.join(ALGORITHM_DIR, 'train.ts');
const SERVE_ENTRY = path.join(ALGORITHM_DIR, 'serve.ts');
const TSX = pathToFileURL(require.resolve('tsx')).href;

let scratch: string;
const children = new Set<ChildProcess>();

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'linear-learner-test-'));
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Data: seeded, so every run of the suite sees the same rows.

interface Rows {
  labels: number[];
  features: number[][];
}

/**
 * Rows whose features have very different scales and offsets (so normalisation matters) and whose
 * label is a function of the underlying standard normals.
 */
function generate(kind: 'binary' | 'multiclass' | 'regression', count: number, seed: number, shift = 0): Rows {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const scale = [1, 10, 100, 0.1, 5];
  const offset = [0, 50, -300, 2, 10];
  const rows: Rows = { labels: [], features: [] };
  for (let i = 0; i < count; i++) {
    const z = scale.map(() => gauss() + shift);
    // Rounded as the CSV writes them, so scores computed here match the container's exactly.
    rows.features.push(z.map((v, j) => Number((v * scale[j] + offset[j]).toFixed(6))));
    if (kind === 'binary') rows.labels.push(1.5 * z[0] - 2 * z[1] + z[2] + 0.5 * z[4] + 0.3 > 0 ? 1 : 0);
    else if (kind === 'multiclass') {
      const s = [2 * z[0] + z[1], -z[0] + 2 * z[2], -z[1] - z[2] + z[3]];
      rows.labels.push(s.indexOf(Math.max(...s)));
    } else rows.labels.push(3 * z[0] - 2 * z[1] + 0.5 * z[3] + 10 + 0.1 * gauss());
  }
  return rows;
}

function toCsv(rows: Rows, from = 0, to = rows.labels.length, newline = '\n'): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push([rows.labels[i], ...rows.features[i].map((v) => v.toFixed(6))].join(','));
  return lines.join(newline) + newline;
}

// ---------------------------------------------------------------------------------------------
// Jobs: an /opt/ml layout and a child process running an entry point in it.

interface Job {
  root: string;
  optMl: string;
}

interface JobSpec {
  hyperparameters: Record<string, string>;
  /** Channel name to files (relative path to content). */
  channels: Record<string, Record<string, string | Buffer>>;
}

let jobCount = 0;
async function createJob(spec: JobSpec): Promise<Job> {
  const root = path.join(scratch, `job-${++jobCount}`);
  const optMl = path.join(root, 'opt_ml');
  const config = path.join(optMl, 'input', 'config');
  await mkdir(config, { recursive: true });
  await writeFile(path.join(config, 'hyperparameters.json'), JSON.stringify(spec.hyperparameters));
  await writeFile(path.join(config, 'resourceconfig.json'), JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }));
  const inputDataConfig: Record<string, unknown> = {};
  for (const [channel, files] of Object.entries(spec.channels)) {
    inputDataConfig[channel] = {
      ContentType: channel === 'model' ? 'application/x-sagemaker-model' : 'text/csv',
      TrainingInputMode: 'File',
      S3DistributionType: 'FullyReplicated',
      RecordWrapperType: 'None',
    };
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(optMl, 'input', 'data', channel, file);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
  await writeFile(path.join(config, 'inputdataconfig.json'), JSON.stringify(inputDataConfig));
  return { root, optMl };
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(entry: string, job: Job, env: Record<string, string> = {}, onLine?: (line: string, child: ChildProcess) => void): { child: ChildProcess; exited: Promise<Exit> } {
  const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', TSX, entry], {
    cwd: job.root,
    env: { ...inherited, OPT_ML: job.optMl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine?.(line, child);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, exited };
}

function train(job: Job, jobName: string): Promise<Exit> {
  return start(TRAIN_ENTRY, job, { TRAINING_JOB_NAME: jobName }).exited;
}

async function trainedModel(job: Job): Promise<LinearLearnerModel> {
  return LinearLearnerModelSchema.parse(JSON.parse(await readFile(path.join(job.optMl, 'model', 'model.json'), 'utf8')));
}

/** What the runner does after training: tar the model directory into model.tar.gz. */
async function packModel(job: Job): Promise<Buffer> {
  const file = path.join(job.root, 'model.tar.gz');
  await tar.c({ gzip: true, file, cwd: path.join(job.optMl, 'model') }, ['model.json']);
  return readFile(file);
}

/** The last value each MetricDefinition captures from the log, as SageMaker records final metrics. */
function capturedMetrics(stdout: string, definitions = LINEAR_LEARNER_METRIC_DEFINITIONS): Map<string, { values: number[] }> {
  const found = new Map<string, { values: number[] }>();
  for (const line of stdout.split('\n')) {
    for (const d of definitions) {
      const match = new RegExp(d.Regex).exec(line);
      if (!match) continue;
      const value = Number.parseFloat(match[1]);
      assert.ok(Number.isFinite(value), `${d.Name} captured "${match[1]}" from: ${line}`);
      if (!found.has(d.Name)) found.set(d.Name, { values: [] });
      found.get(d.Name)!.values.push(value);
    }
  }
  return found;
}

const last = (values: number[]) => values[values.length - 1];

function accuracyOf(model: LinearLearnerModel, rows: Rows): number {
  let hits = 0;
  rows.features.forEach((x, i) => {
    const p = predict(model, x) as { predicted_label: number };
    if (p.predicted_label === rows.labels[i]) hits++;
  });
  return hits / rows.labels.length;
}

// ---------------------------------------------------------------------------------------------

describe('training', () => {
  it('learns a binary classifier from several nested CSV files, logging metrics the definitions capture', async () => {
    const data = generate('binary', 2500, 1);
    const job = await createJob({
      hyperparameters: { predictor_type: 'binary_classifier', seed: '7' },
      channels: {
        // Nested folders, CRLF line endings and a blank line: all things a real channel can hold.
        train: { 'part-0.csv': toCsv(data, 0, 1000, '\r\n') + '\n', 'more/part-1.csv': toCsv(data, 1000, 2000) },
        validation: { 'validation.csv': toCsv(data, 2000, 2500) },
      },
    });
    const run = await train(job, 'binary-cold-1');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /read 2000 train rows with 5 features from 2 file\(s\); 500 validation rows/);

    const model = await trainedModel(job);
    assert.equal(model.format, 'linear-learner-local/1');
    assert.equal(model.predictor_type, 'binary_classifier');
    assert.equal(model.num_classes, 2);
    assert.equal(model.feature_dim, 5);
    assert.equal(model.weights.length, 1);
    assert.equal(model.training_job_name, 'binary-cold-1');
    assert.equal(model.warm_started_from, null);
    assert.equal(model.epochs, 15);
    assert.equal(model.rows_seen, 2000 * 15);
    // Normalisation learnt from the data: the third feature is ~N(-300, 100).
    assert.ok(Math.abs(model.feature_mean[2] + 300) < 10 && Math.abs(model.feature_std[2] - 100) < 10, `feature 3 mean ${model.feature_mean[2]} std ${model.feature_std[2]}`);

    const validation = { labels: data.labels.slice(2000), features: data.features.slice(2000) };
    const accuracy = accuracyOf(model, validation);
    assert.ok(accuracy >= 0.97, `validation accuracy ${accuracy}`);

    const metrics = capturedMetrics(run.stdout);
    for (const name of ['train:objective_loss', 'validation:objective_loss', 'validation:binary_classification_accuracy', 'validation:binary_f_beta', 'validation:precision', 'validation:recall', 'validation:roc_auc_score']) {
      assert.ok(metrics.has(name), `no log line matched ${name}`);
    }
    // One objective line per epoch, plus the final one.
    assert.equal(metrics.get('train:objective_loss')!.values.length, 16);
    const losses = metrics.get('train:objective_loss')!.values;
    assert.ok(losses[14] < losses[0] / 3, `training loss went ${losses[0]} -> ${losses[14]}`);
    // The logged accuracy is the saved model's accuracy, not some other state's.
    assert.equal(last(metrics.get('validation:binary_classification_accuracy')!.values), accuracy);
    assert.ok(last(metrics.get('validation:roc_auc_score')!.values) > 0.99);
    for (const name of ['validation:mse', 'validation:multiclass_accuracy', 'test:objective_loss']) assert.ok(!metrics.has(name), `${name} should not match`);
    assert.match(run.stdout, /#quality_metric: host=algo-1, epoch=3, train binary_classification_cross_entropy_objective <loss>=\S+/);
  });

  it('learns a multiclass classifier', async () => {
    const data = generate('multiclass', 2000, 2);
    const job = await createJob({
      hyperparameters: { predictor_type: 'multiclass_classifier', num_classes: '3' },
      channels: { train: { 'train.csv': toCsv(data, 0, 1500) }, validation: { 'v.csv': toCsv(data, 1500) } },
    });
    const run = await train(job, 'multiclass-1');
    assert.equal(run.code, 0, run.stderr);
    const model = await trainedModel(job);
    assert.equal(model.num_classes, 3);
    assert.equal(model.weights.length, 3);
    assert.equal(model.bias.length, 3);
    const accuracy = accuracyOf(model, { labels: data.labels.slice(1500), features: data.features.slice(1500) });
    assert.ok(accuracy >= 0.93, `validation accuracy ${accuracy}`);
    const metrics = capturedMetrics(run.stdout, linearLearnerMetricDefinitions('multiclass_classifier'));
    assert.equal(last(metrics.get('validation:multiclass_accuracy')!.values), accuracy);
    for (const name of ['validation:macro_f_beta', 'validation:macro_precision', 'validation:macro_recall', 'validation:objective_loss']) assert.ok(metrics.has(name), name);
  });

  it('learns a regressor, in label units despite label normalisation', async () => {
    const data = generate('regression', 1500, 3);
    const job = await createJob({
      hyperparameters: { predictor_type: 'regressor' },
      channels: { train: { 'train.csv': toCsv(data, 0, 1200) }, validation: { 'v.csv': toCsv(data, 1200) }, test: { 't.csv': toCsv(data, 1350) } },
    });
    const run = await train(job, 'regressor-1');
    assert.equal(run.code, 0, run.stderr);
    const model = await trainedModel(job);
    assert.equal(model.num_classes, null);
    assert.ok(model.label_std > 2, `label_std ${model.label_std}`);
    let squares = 0;
    for (let i = 1200; i < 1500; i++) squares += ((predict(model, data.features[i]) as { score: number }).score - data.labels[i]) ** 2;
    const rmse = Math.sqrt(squares / 300);
    // The label's noise has standard deviation 0.1 and the label itself about 3.6.
    assert.ok(rmse < 0.25, `validation rmse ${rmse}`);
    const metrics = capturedMetrics(run.stdout, linearLearnerMetricDefinitions('regressor'));
    assert.ok(Math.abs(last(metrics.get('validation:rmse')!.values) - rmse) < 1e-9);
    for (const name of ['validation:mse', 'validation:absolute_loss', 'validation:objective_loss', 'train:objective_loss', 'test:rmse', 'test:objective_loss']) assert.ok(metrics.has(name), name);
    // The test channel is scored once, at the end; validation every epoch as well.
    assert.equal(metrics.get('test:objective_loss')!.values.length, 1);
    assert.match(run.stdout, /validation mse_objective <loss>=/);
  });
});

describe('incremental training', () => {
  const data = generate('binary', 3000, 4);
  // The new data arrives shifted, so normalisation recomputed on it would differ from the parent's.
  const fresh = generate('binary', 1500, 5, 0.3);
  let parent: LinearLearnerModel;
  let parentArchive: Buffer;

  before(async () => {
    const job = await createJob({ hyperparameters: { predictor_type: 'binary_classifier', mini_batch_size: '1000' }, channels: { train: { 'a.csv': toCsv(data, 0, 2000) } } });
    const run = await train(job, 'champion-job');
    assert.equal(run.code, 0, run.stderr);
    parent = await trainedModel(job);
    parentArchive = await packModel(job);
  });

  it('one warm epoch from the previous model beats one cold epoch, and records the lineage', async () => {
    const hyperparameters = { predictor_type: 'binary_classifier', epochs: '1', mini_batch_size: '1000' };
    const channels = { train: { 'new.csv': toCsv(fresh, 0, 1000) }, validation: { 'v.csv': toCsv(fresh, 1000) } };
    const [warmJob, coldJob] = await Promise.all([
      createJob({ hyperparameters, channels: { ...channels, model: { 'model.tar.gz': parentArchive } } }),
      createJob({ hyperparameters, channels }),
    ]);
    const [warmRun, coldRun] = await Promise.all([train(warmJob, 'warm-job'), train(coldJob, 'cold-job')]);
    assert.equal(warmRun.code, 0, warmRun.stderr);
    assert.equal(coldRun.code, 0, coldRun.stderr);
    assert.match(warmRun.stdout, /warm start from training job champion-job/);

    const warm = await trainedModel(warmJob);
    assert.equal(warm.warm_started_from, 'champion-job');
    assert.equal(warm.rows_seen, parent.rows_seen + 1000);
    assert.deepEqual(warm.feature_mean, parent.feature_mean, 'the parent normalisation is kept');
    assert.deepEqual(warm.feature_std, parent.feature_std);
    const cold = await trainedModel(coldJob);
    assert.notDeepEqual(cold.feature_mean, parent.feature_mean);

    const loss = (stdout: string) => last(capturedMetrics(stdout).get('validation:objective_loss')!.values);
    assert.ok(loss(warmRun.stdout) < loss(coldRun.stdout) * 0.8, `warm ${loss(warmRun.stdout)} vs cold ${loss(coldRun.stdout)}`);
    const validation = { labels: fresh.labels.slice(1000), features: fresh.features.slice(1000) };
    assert.ok(accuracyOf(warm, validation) > accuracyOf(cold, validation), 'warm start is more accurate');
  });

  it('starts from the parent weights (a negligible learning rate leaves them as they were)', async () => {
    const job = await createJob({
      hyperparameters: { predictor_type: 'binary_classifier', epochs: '1', learning_rate: '1e-12', wd: '0' },
      channels: { train: { 'new.csv': toCsv(fresh, 0, 1000) }, model: { 'nested/output/model.tar.gz': parentArchive } },
    });
    const run = await train(job, 'still-job');
    assert.equal(run.code, 0, run.stderr);
    const warm = await trainedModel(job);
    warm.weights[0].forEach((w, j) => assert.ok(Math.abs(w - parent.weights[0][j]) < 1e-9, `weight ${j}: ${w} vs ${parent.weights[0][j]}`));
  });

  it('rejects a warm-start model with another feature count or predictor type as a ClientError', async () => {
    const sixFeatures = toCsv({ labels: [0, 1], features: [[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]] });
    const [wrongDim, wrongType] = await Promise.all([
      createJob({ hyperparameters: { predictor_type: 'binary_classifier' }, channels: { train: { 'x.csv': sixFeatures }, model: { 'model.tar.gz': parentArchive } } }),
      createJob({ hyperparameters: { predictor_type: 'regressor' }, channels: { train: { 'x.csv': toCsv(fresh, 0, 10) }, model: { 'model.tar.gz': parentArchive } } }),
    ]);
    const [dimRun, typeRun] = await Promise.all([train(wrongDim, 'wrong-dim'), train(wrongType, 'wrong-type')]);
    assert.notEqual(dimRun.code, 0);
    const dimFailure = await readFile(path.join(wrongDim.optMl, 'output', 'failure'), 'utf8');
    assert.match(dimFailure, /^ClientError: train\/x\.csv line 1: expected 5 features .*warm-start model \(training job champion-job\), found 6/);
    assert.notEqual(typeRun.code, 0);
    assert.match(await readFile(path.join(wrongType.optMl, 'output', 'failure'), 'utf8'), /^ClientError: the warm-start model \(training job champion-job\) is a binary_classifier but predictor_type is regressor/);
  });
});

describe('checkpoints and stopping', () => {
  // Heavy enough (20 classes x 40 features, one row per mini-batch) that a SIGTERM lands mid-run.
  const classes = 20;
  const dim = 40;
  const random = seededRandom(11);
  const heavy: Rows = { labels: [], features: [] };
  for (let i = 0; i < 12000; i++) {
    const x = Array.from({ length: dim }, () => random() * 2 - 1);
    heavy.features.push(x);
    heavy.labels.push(Math.floor(((x[0] + 1) / 2) * classes) % classes);
  }
  const hyperparameters = { predictor_type: 'multiclass_classifier', num_classes: String(classes), mini_batch_size: '1', epochs: '6', early_stopping_patience: '100' };
  const channels = { train: { 'train.csv': toCsv(heavy) } };

  it('SIGTERM mid-epoch and at an epoch boundary: model and checkpoint written, each rerun resumes there, and the end is bit-identical to an uninterrupted run', async () => {
    const [stoppedJob, straightJob] = await Promise.all([createJob({ hyperparameters, channels }), createJob({ hyperparameters, channels })]);
    const straight = train(straightJob, 'resumable');

    /** Runs the job until `trigger` appears in its log, then sends SIGTERM; returns the checkpoint it left. */
    const stopAt = async (trigger: RegExp, jobName: string) => {
      let signalledAt = 0;
      const run = start(TRAIN_ENTRY, stoppedJob, { TRAINING_JOB_NAME: jobName }, (line, child) => {
        if (!signalledAt && trigger.test(line)) {
          signalledAt = Date.now();
          child.kill('SIGTERM');
        }
      });
      const exit = await run.exited;
      assert.ok(signalledAt > 0, `never saw ${trigger}: ${exit.stdout}`);
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(Date.now() - signalledAt < 5000, 'exits promptly after SIGTERM');
      assert.match(exit.stdout, /received SIGTERM/);
      const checkpoint = TrainingCheckpointSchema.parse(JSON.parse(await readFile(path.join(stoppedJob.optMl, 'checkpoints', CHECKPOINT_FILE), 'utf8')));
      const model = await trainedModel(stoppedJob);
      assert.equal(model.epochs, checkpoint.epochs_completed);
      assert.equal(model.rows_seen, checkpoint.examples_processed);
      assert.equal(model.training_job_name, jobName);
      return { exit, checkpoint };
    };
    const trainedEpochs = (stdout: string) => [...stdout.matchAll(/epoch=(\d+), train/g)].map((m) => Number(m[1]));

    // Halfway through epoch 2: the checkpoint records the mini-batch to continue from. The signal is sent
    // once 6000 are done; the job takes it when it next yields (every few milliseconds), which can be
    // right after that mini-batch, so it stops at 6000 or a little later.
    const midEpoch = await stopAt(/epoch=2: 6000 of 12000 mini-batches done/, 'resumable');
    assert.equal(midEpoch.checkpoint.epochs_completed, 2);
    assert.ok(midEpoch.checkpoint.next_batch >= 6000 && midEpoch.checkpoint.next_batch < 12000, `stopped at mini-batch ${midEpoch.checkpoint.next_batch}`);
    assert.match(midEpoch.exit.stdout, new RegExp(`stopped epoch=2 after mini-batch ${midEpoch.checkpoint.next_batch} of 12000`));

    // The rerun picks up inside epoch 2 and is stopped again right after finishing epoch 3.
    const boundary = await stopAt(/epoch=3 done/, 'resumable-2');
    assert.match(boundary.exit.stdout, new RegExp(`resumed from checkpoint written by resumable: 2 epoch\\(s\\) complete, continuing at epoch=2, mini-batch ${midEpoch.checkpoint.next_batch} of 12000`));
    assert.deepEqual(trainedEpochs(boundary.exit.stdout), [2, 3], 'epochs 0 and 1 are not trained again');
    assert.equal(boundary.checkpoint.epochs_completed, 4);
    assert.equal(boundary.checkpoint.next_batch, 0);

    const resumed = await train(stoppedJob, 'resumable-3');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /resumed from checkpoint written by resumable-2: 4 epoch\(s\) complete, continuing at epoch=4, mini-batch 0 of 12000/);
    assert.deepEqual(trainedEpochs(resumed.stdout), [4, 5]);

    const straightRun = await straight;
    assert.equal(straightRun.code, 0, straightRun.stderr);
    const [a, b] = [await trainedModel(stoppedJob), await trainedModel(straightJob)];
    assert.deepEqual(a.weights, b.weights, 'resumed weights equal uninterrupted weights exactly');
    assert.deepEqual(a.bias, b.bias);
    assert.equal(a.rows_seen, b.rows_seen);
    assert.equal(a.epochs, 6);
    // Epoch 2's reported loss covers all of epoch 2, though two processes trained it.
    const epochLoss = (stdout: string, epoch: number) => new RegExp(`epoch=${epoch}, train \\S+ <loss>=(\\S+)`).exec(stdout)![1];
    assert.equal(epochLoss(boundary.exit.stdout, 2), epochLoss(straightRun.stdout, 2));
  });

  it('ignores a checkpoint left by a job with different hyperparameters', async () => {
    const small = { train: { 't.csv': toCsv(generate('binary', 200, 12)) } };
    const job = await createJob({ hyperparameters: { predictor_type: 'binary_classifier', epochs: '2' }, channels: small });
    assert.equal((await train(job, 'first')).code, 0);
    await writeFile(path.join(job.optMl, 'input', 'config', 'hyperparameters.json'), JSON.stringify({ predictor_type: 'binary_classifier', epochs: '2', seed: '9' }));
    const rerun = await train(job, 'second');
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /ignoring the checkpoint written by first/);
    assert.match(rerun.stdout, /epoch=0, train/);
  });
});

describe('failures', () => {
  const good = toCsv(generate('binary', 50, 13));
  const cases: { name: string; spec: JobSpec; failure: RegExp }[] = [
    { name: 'a malformed hyperparameter', spec: { hyperparameters: { predictor_type: 'binary_classifier', epochs: 'ten' }, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: hyperparameter epochs must be an integer >= 1, got "ten"/ },
    { name: 'an unknown hyperparameter', spec: { hyperparameters: { predictor_type: 'regressor', learning_rat: '0.1' }, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: unknown hyperparameter learning_rat / },
    { name: 'a missing predictor_type', spec: { hyperparameters: {}, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: hyperparameter predictor_type is required/ },
    { name: 'multiclass without num_classes', spec: { hyperparameters: { predictor_type: 'multiclass_classifier' }, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: hyperparameter num_classes is required/ },
    { name: 'a bad learning_rate', spec: { hyperparameters: { predictor_type: 'binary_classifier', learning_rate: '-1' }, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: hyperparameter learning_rate must be "auto" or a number > 0, got "-1"/ },
    { name: 'no train channel', spec: { hyperparameters: { predictor_type: 'binary_classifier' }, channels: { validation: { 'a.csv': good } } }, failure: /^ClientError: the train channel is required/ },
    { name: 'a malformed CSV row', spec: { hyperparameters: { predictor_type: 'binary_classifier' }, channels: { train: { 'dir/a.csv': '1,2,3\n0,4,5\n1,6,oops\n' } } }, failure: /^ClientError: train\/dir\/a\.csv line 3: feature 2 is "oops", not a finite number/ },
    { name: 'a header row', spec: { hyperparameters: { predictor_type: 'regressor' }, channels: { train: { 'a.csv': 'y,x1\n1,2\n' } } }, failure: /^ClientError: train\/a\.csv line 1: the label is "y", not a number \(the CSV must be headerless, label first\)/ },
    { name: 'a ragged row', spec: { hyperparameters: { predictor_type: 'regressor' }, channels: { train: { 'a.csv': '1,2,3\n0,4\n' } } }, failure: /^ClientError: train\/a\.csv line 2: expected 2 features after the label as in the first row/ },
    { name: 'a binary label that is not 0 or 1', spec: { hyperparameters: { predictor_type: 'binary_classifier' }, channels: { train: { 'a.csv': '1,2\n2,3\n' } } }, failure: /^ClientError: train\/a\.csv line 2: the label must be 0 or 1 for binary_classifier, got 2/ },
    { name: 'a learning rate that diverges', spec: { hyperparameters: { predictor_type: 'regressor', learning_rate: '1e10', mini_batch_size: '1' }, channels: { train: { 'a.csv': good } } }, failure: /^ClientError: training diverged: the loss became (NaN|Infinity) in epoch=0; lower learning_rate/ },
    { name: 'feature_dim that disagrees with the data', spec: { hyperparameters: { predictor_type: 'regressor', feature_dim: '3' }, channels: { train: { 'a.csv': '1,2\n' } } }, failure: /^ClientError: train\/a\.csv line 1: expected 3 features after the label as in feature_dim=3, found 1/ },
  ];

  it('each exits non-zero with a one-line ClientError in output/failure naming the culprit', async () => {
    const jobs = await Promise.all(cases.map((c) => createJob(c.spec)));
    const runs = await Promise.all(jobs.map((job, i) => train(job, `failing-${i}`)));
    for (const [i, c] of cases.entries()) {
      assert.notEqual(runs[i].code, 0, `${c.name}: should fail`);
      const failure = await readFile(path.join(jobs[i].optMl, 'output', 'failure'), 'utf8');
      assert.match(failure, c.failure, `${c.name}: ${failure}`);
      assert.equal(failure.trim().split('\n').length, 1, `${c.name}: one line`);
      await assert.rejects(stat(path.join(jobs[i].optMl, 'model', 'model.json')), `${c.name}: no model is written`);
    }
  });
});

describe('serving', () => {
  const model = (overrides: Partial<LinearLearnerModel>): LinearLearnerModel => ({
    format: 'linear-learner-local/1',
    predictor_type: 'binary_classifier',
    num_classes: 2,
    feature_dim: 2,
    weights: [[1, -1]],
    bias: [0],
    feature_mean: [0, 0],
    feature_std: [1, 1],
    label_mean: 0,
    label_std: 1,
    training_job_name: 'served-job',
    warm_started_from: null,
    rows_seen: 0,
    train_rows: 0,
    epochs: 1,
    hyperparameters: {},
    ...overrides,
  });

  async function serve(m: LinearLearnerModel): Promise<{ url: string; stop: () => Promise<Exit> }> {
    const job = await createJob({ hyperparameters: {}, channels: {} });
    await mkdir(path.join(job.optMl, 'model'), { recursive: true });
    await writeFile(path.join(job.optMl, 'model', 'model.json'), JSON.stringify(m));
    let announce: (port: string) => void;
    const listening = new Promise<string>((resolve) => (announce = resolve));
    const server = start(SERVE_ENTRY, job, { SAGEMAKER_BIND_TO_PORT: '0' }, (line) => {
      const port = /on 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
      if (port) announce(port);
    });
    const port = await Promise.race([listening, server.exited.then((e) => Promise.reject(new Error(`serve exited: ${e.stderr}`)))]);
    return {
      url: `http://127.0.0.1:${port}`,
      stop: () => {
        server.child.kill('SIGTERM');
        return server.exited;
      },
    };
  }

  it('answers /ping and /invocations in CSV, JSON and JSON Lines, naming the model in custom attributes', async () => {
    const [binary, multiclass, regressor] = await Promise.all([
      serve(model({})),
      serve(model({ predictor_type: 'multiclass_classifier', num_classes: 3, weights: [[1, 0], [0, 1], [0, 0]], bias: [0, 0, 0], training_job_name: 'multi-job' })),
      serve(model({ predictor_type: 'regressor', num_classes: null, weights: [[2, 0]], feature_mean: [1, 0], feature_std: [2, 1], label_mean: 10, label_std: 3, training_job_name: 'reg-job' })),
    ]);
    try {
      const ping = await fetch(`${binary.url}/ping`);
      assert.equal(ping.status, 200);
      assert.equal(ping.headers.get('x-amzn-sagemaker-custom-attributes'), 'training_job_name=served-job');

      const csv = await fetch(`${binary.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: '2,0\n0,2\n' });
      assert.equal(csv.status, 200);
      assert.equal(csv.headers.get('content-type'), 'application/json');
      assert.equal(csv.headers.get('x-amzn-sagemaker-custom-attributes'), 'training_job_name=served-job');
      const csvAnswer = (await csv.json()) as { predictions: { score: number; predicted_label: number }[] };
      assert.deepEqual(csvAnswer.predictions.map((p) => p.predicted_label), [1, 0]);
      // score = sigmoid(x1 - x2)
      assert.ok(Math.abs(csvAnswer.predictions[0].score - 1 / (1 + Math.exp(-2))) < 1e-12);
      assert.ok(Math.abs(csvAnswer.predictions[1].score - 1 / (1 + Math.exp(2))) < 1e-12);

      const json = await fetch(`${binary.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ instances: [{ features: [0, 0] }] }) });
      assert.deepEqual(await json.json(), { predictions: [{ score: 0.5, predicted_label: 0 }] });
      assert.equal(json.headers.get('x-amzn-sagemaker-custom-attributes'), 'training_job_name=served-job');

      const lines = await fetch(`${binary.url}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/jsonlines', Accept: 'application/jsonlines' },
        body: '{"features":[2,0]}\n{"features":[0,2]}\n',
      });
      assert.equal(lines.headers.get('content-type'), 'application/jsonlines');
      assert.deepEqual((await lines.text()).trim().split('\n').map((l) => JSON.parse(l).predicted_label), [1, 0]);

      const multi = await fetch(`${multiclass.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: '0,3\n' });
      const [prediction] = ((await multi.json()) as { predictions: { score: number[]; predicted_label: number }[] }).predictions;
      assert.equal(prediction.predicted_label, 1);
      assert.equal(prediction.score.length, 3);
      assert.ok(Math.abs(prediction.score.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      assert.equal(multi.headers.get('x-amzn-sagemaker-custom-attributes'), 'training_job_name=multi-job');

      // (5 - 1) / 2 * 2 = 4 in normalised label units, then 4 * 3 + 10.
      const reg = await fetch(`${regressor.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: '5,7\n' });
      assert.deepEqual(await reg.json(), { predictions: [{ score: 22 }] });
    } finally {
      const exits = await Promise.all([binary.stop(), multiclass.stop(), regressor.stop()]);
      for (const exit of exits) assert.equal(exit.code, 0, `serve exits cleanly on SIGTERM: ${exit.stderr}`);
    }
  });

  it('rejects bad requests with 400/415 and a message naming the row', async () => {
    const server = await serve(model({}));
    try {
      const post = (contentType: string, body: string) => fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
      const ragged = await post('text/csv', '1,2\n3\n');
      assert.equal(ragged.status, 400);
      assert.equal(ragged.headers.get('x-amzn-sagemaker-custom-attributes'), 'training_job_name=served-job');
      assert.match(await ragged.text(), /^row 2: expected 2 features, found 1/);
      const notNumber = await post('application/json', JSON.stringify({ instances: [{ features: [1, 2] }, { features: [1, 'x'] }] }));
      assert.equal(notNumber.status, 400);
      assert.match(await notNumber.text(), /^instances\[1\]: feature 2 is "x", not a finite number/);
      const unsupported = await post('image/png', 'x');
      assert.equal(unsupported.status, 415);
      assert.match(await unsupported.text(), /content type image\/png is not supported/);
      const empty = await post('text/csv', '');
      assert.equal(empty.status, 400);
    } finally {
      await server.stop();
    }
  });
});

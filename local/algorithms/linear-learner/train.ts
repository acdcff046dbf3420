// Training entry point of the local linear learner, run under SageMaker's training-container
// contract: hyperparameters and channels under /opt/ml/input, the model into /opt/ml/model,
// checkpoints in /opt/ml/checkpoints, a failure reason in /opt/ml/output/failure.
//
// Incremental training: a `model` channel holding a previous model.tar.gz starts training from
// its weights and keeps its feature normalisation. Stopping: SIGTERM finishes the current
// mini-batch, writes the model and a checkpoint, and exits 0; the next job with the same
// checkpoint directory resumes at that mini-batch.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { PredictorType } from '../../../domain/config';
import {
  accuracy,
  binaryLogLoss,
  binaryScores,
  macroScores,
  meanAbsoluteError,
  meanSquaredError,
  multiclassLogLoss,
  predictedLabels,
  rocAuc,
} from '../../../domain/metrics';
import { ClientError, log, readOptionalJson, runEntryPoint } from '../container';
import { readLabelledCsv, type LabelledRows, type ReadLabelledCsvOptions } from '../labelled-csv';
import { channelDir, containerPaths } from '../opt-ml';
import { readCheckpoint, trainingFingerprint, writeCheckpoint, type TrainingCheckpoint } from './checkpoint';
import { AUTO_ADAM_LEARNING_RATE, parseHyperparameters, type LinearLearnerHyperparameters } from './hyperparameters';
import { annealedLearningRate, epochOrder, LinearLearner, objectiveFor, safeSgdRate } from './learner';
import { finalMetricLogName, qualityMetricLine, type QualityMetric, type ScoredChannel } from './metrics';
import {
  holdoutPredictions,
  labelCheck,
  LINEAR_LEARNER_MODEL_FORMAT,
  loadLinearLearnerModel,
  writeLinearLearnerModel,
  type LinearLearnerModel,
} from './model';

const DATA_CHANNELS = ['train', 'validation', 'test'] as const;
const KNOWN_CHANNELS = new Set<string>([...DATA_CHANNELS, 'model']);
/** Shorter than this and a constant feature is treated as constant: dividing by ~0 would blow it up. */
const MIN_FEATURE_STD = 1e-12;
/** Epochs with at least this many mini-batches log their halfway point, so long epochs show progress. */
const PROGRESS_MIN_BATCHES = 100;
/** How long training may hold the event loop before letting a SIGTERM handler run. */
const YIELD_EVERY_MS = 20;

interface Normalisation {
  feature_mean: number[];
  feature_std: number[];
  label_mean: number;
  label_std: number;
}

let stopRequested = false;

function requestStop(signal: NodeJS.Signals): void {
  if (!stopRequested) log(`received ${signal}: finishing the current mini-batch, then writing the model and a checkpoint`);
  stopRequested = true;
}

const paths = containerPaths();
process.on('SIGTERM', requestStop);
process.on('SIGINT', requestStop);
void runEntryPoint(train, [paths.failureFile]);

async function train(): Promise<void> {
  const jobName = process.env.TRAINING_JOB_NAME || 'unnamed-training-job';
  const rawHyperparameters = (await readOptionalJson(paths.hyperparameters)) ?? {};
  const hp = parseHyperparameters(rawHyperparameters);
  const host = await currentHost();
  const channels = await inputChannels();
  log(`training job ${jobName} on ${host}: ${hp.predictorType}, channels ${[...channels].join(', ')}`);
  if (!channels.has('train')) throw new ClientError('the train channel is required');

  const parent = channels.has('model') ? await loadLinearLearnerModel(channelDir('model')) : null;
  if (parent) checkParentFits(parent, hp);

  const checkLabel = labelCheck(hp.predictorType, hp.numClasses);
  const expectedDim = hp.featureDim ?? parent?.feature_dim;
  const dimOrigin = hp.featureDim !== null ? `feature_dim=${hp.featureDim}` : parent ? `the warm-start model (training job ${parent.training_job_name})` : undefined;
  const trainRows = await readChannel('train', { featureDim: expectedDim, featureDimOrigin: dimOrigin, checkLabel });
  if (parent && hp.featureDim !== null && parent.feature_dim !== hp.featureDim) {
    throw new ClientError(`feature_dim=${hp.featureDim} but the warm-start model (training job ${parent.training_job_name}) has ${parent.feature_dim} features`);
  }
  const scored: Partial<Record<ScoredChannel, LabelledRows>> = {};
  for (const channel of ['validation', 'test'] as const) {
    if (channels.has(channel)) {
      scored[channel] = await readChannel(channel, { featureDim: trainRows.featureDim, featureDimOrigin: 'the train channel', checkLabel });
    }
  }
  log(`read ${trainRows.rows} train rows with ${trainRows.featureDim} features from ${trainRows.files.length} file(s)` +
    (Object.keys(scored).length ? `; ${Object.entries(scored).map(([c, r]) => `${r.rows} ${c} rows`).join(', ')}` : ''));

  const fingerprint = trainingFingerprint({
    hyperparameters: Object.fromEntries(Object.entries(rawHyperparameters as Record<string, unknown>).filter(([k]) => k !== 'epochs' && !k.startsWith('_')).map(([k, v]) => [k, String(v)]).sort()),
    train: trainRows.digest,
    validation: scored.validation?.digest ?? null,
    parent: parent ? { job: parent.training_job_name, weights: parent.weights, bias: parent.bias } : null,
  });
  let checkpoint = await readCheckpoint(paths.checkpointDir);
  if (checkpoint && checkpoint.fingerprint !== fingerprint) {
    log(`ignoring the checkpoint written by ${checkpoint.written_by}: it belongs to different data, hyperparameters or warm-start model`, 'WARNING');
    checkpoint = null;
  }

  const normalisation: Normalisation = checkpoint?.normalisation ?? (parent ? normalisationOf(parent) : fitNormalisation(trainRows, hp));
  if (parent && !checkpoint) {
    log(`warm start from training job ${parent.training_job_name} (${parent.rows_seen} rows seen); keeping its feature normalisation`);
  }
  const objective = objectiveFor(hp.predictorType, hp.numClasses);
  const learner = new LinearLearner(objective, trainRows.featureDim, hp, checkpoint?.learner ?? (parent ? { weights: parent.weights, bias: parent.bias } : undefined));
  const train = normalise(trainRows, normalisation, hp.predictorType);
  const validation = scored.validation ? normalise(scored.validation, normalisation, hp.predictorType) : null;
  // Losses in normalised label units times this are in the label's own units (MSE scales by std^2).
  const lossScale = hp.predictorType === 'regressor' ? normalisation.label_std ** 2 : 1;

  const state = {
    epoch: checkpoint?.epochs_completed ?? 0,
    batch: checkpoint?.next_batch ?? 0,
    lossSum: checkpoint?.partial_loss_sum ?? 0,
    lossRows: checkpoint?.partial_rows ?? 0,
    examples: checkpoint?.examples_processed ?? 0,
    lastTrainLoss: checkpoint?.last_train_loss ?? null,
    earlyStopping: checkpoint?.early_stopping ?? { best_loss: null, epochs_without_improvement: 0, stopped: false },
  };
  const warmStartedFrom = checkpoint ? checkpoint.warm_started_from : (parent?.training_job_name ?? null);
  const parentRowsSeen = checkpoint ? checkpoint.parent_rows_seen : (parent?.rows_seen ?? 0);
  const batches = Math.ceil(trainRows.rows / hp.miniBatchSize);
  const baseRate = hp.learningRate ?? (hp.optimizer === 'adam' ? AUTO_ADAM_LEARNING_RATE : safeSgdRate(objective, train.features, trainRows.rows));
  log(`optimizer ${hp.optimizer}, learning_rate ${baseRate}${hp.learningRate === null ? ' (auto)' : ''}, ${batches} mini-batch(es) per epoch`);
  if (checkpoint) {
    log(`resumed from checkpoint written by ${checkpoint.written_by}: ${state.epoch} epoch(s) complete, continuing at epoch=${state.epoch}, mini-batch ${state.batch} of ${batches}`);
  }

  const snapshotCheckpoint = (): TrainingCheckpoint => ({
    format: 'linear-learner-local-checkpoint/1',
    fingerprint,
    written_by: jobName,
    epochs_completed: state.epoch,
    next_batch: state.batch,
    partial_loss_sum: state.lossSum,
    partial_rows: state.lossRows,
    examples_processed: state.examples,
    last_train_loss: state.lastTrainLoss,
    early_stopping: state.earlyStopping,
    learner: learner.snapshot(),
    normalisation,
    warm_started_from: warmStartedFrom,
    parent_rows_seen: parentRowsSeen,
  });
  const currentModel = (): LinearLearnerModel => {
    const { weights, bias } = learner.snapshot();
    return {
      format: LINEAR_LEARNER_MODEL_FORMAT,
      predictor_type: hp.predictorType,
      num_classes: hp.numClasses,
      feature_dim: trainRows.featureDim,
      weights,
      bias,
      ...normalisation,
      training_job_name: jobName,
      warm_started_from: warmStartedFrom,
      rows_seen: parentRowsSeen + state.examples,
      train_rows: trainRows.rows,
      epochs: state.epoch,
      hyperparameters: Object.fromEntries(Object.entries(rawHyperparameters as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    };
  };

  let lastYield = performance.now();
  while (state.epoch < hp.epochs && !state.earlyStopping.stopped) {
    const order = epochOrder(trainRows.rows, hp.seed, state.epoch);
    const started = performance.now();
    for (; state.batch < batches; ) {
      const start = state.batch * hp.miniBatchSize;
      const end = Math.min(trainRows.rows, start + hp.miniBatchSize);
      const rate = annealedLearningRate(baseRate, state.epoch * batches + state.batch, hp.epochs * batches);
      state.lossSum += learner.trainBatch(train.features, train.labels, order, start, end, rate);
      state.lossRows += end - start;
      state.examples += end - start;
      state.batch++;
      if (batches >= PROGRESS_MIN_BATCHES && state.batch === Math.floor(batches / 2)) log(`epoch=${state.epoch}: ${state.batch} of ${batches} mini-batches done`);
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (stopRequested && state.batch < batches) {
        await stopWith(snapshotCheckpoint(), currentModel(), `epoch=${state.epoch} after mini-batch ${state.batch} of ${batches}`);
        return;
      }
    }
    state.lastTrainLoss = (state.lossSum / state.lossRows) * lossScale;
    if (!Number.isFinite(state.lastTrainLoss)) {
      throw new ClientError(`training diverged: the loss became ${state.lastTrainLoss} in epoch=${state.epoch}; lower learning_rate (it was ${baseRate})`);
    }
    log(qualityMetricLine(host, 'train', { logName: objective.logName, kind: 'loss', value: state.lastTrainLoss }, state.epoch));
    const validationLoss = validation ? learner.meanLoss(validation.features, validation.labels) * lossScale : null;
    if (validationLoss !== null) log(qualityMetricLine(host, 'validation', { logName: objective.logName, kind: 'loss', value: validationLoss }, state.epoch));
    updateEarlyStopping(state.earlyStopping, validationLoss ?? state.lastTrainLoss, hp, state.epoch, validationLoss !== null);
    log(`epoch=${state.epoch} done in ${Math.round(performance.now() - started)} ms`);
    state.epoch++;
    state.batch = 0;
    state.lossSum = 0;
    state.lossRows = 0;
    await writeCheckpoint(paths.checkpointDir, snapshotCheckpoint());
    if (stopRequested && state.epoch < hp.epochs && !state.earlyStopping.stopped) {
      await stopWith(null, currentModel(), `after epoch=${state.epoch - 1}`);
      return;
    }
  }

  const model = currentModel();
  if (state.lastTrainLoss !== null) log(qualityMetricLine(host, 'train', { logName: objective.logName, kind: 'loss', value: state.lastTrainLoss }));
  for (const [channel, rows] of Object.entries(scored) as [ScoredChannel, LabelledRows][]) {
    for (const metric of finalQualityMetrics(model, rows, objective.logName)) log(qualityMetricLine(host, channel, metric));
  }
  await writeLinearLearnerModel(paths.modelDir, model);
  log(`wrote ${path.join(paths.modelDir, 'model.json')}: ${model.epochs} epoch(s), ${model.rows_seen} rows seen${warmStartedFrom ? `, warm-started from ${warmStartedFrom}` : ''}`);
}

async function stopWith(checkpoint: TrainingCheckpoint | null, model: LinearLearnerModel, where: string): Promise<void> {
  if (checkpoint) await writeCheckpoint(paths.checkpointDir, checkpoint);
  await writeLinearLearnerModel(paths.modelDir, model);
  log(`stopped ${where}: wrote the model and a checkpoint; a job with the same checkpoints resumes from here`);
}

async function currentHost(): Promise<string> {
  const config = (await readOptionalJson(paths.resourceConfig)) as { current_host?: unknown; hosts?: unknown } | undefined;
  if (Array.isArray(config?.hosts) && config.hosts.length > 1) {
    log(`${config.hosts.length} hosts: each trains on the data it was given; there is no parameter sharing between hosts`, 'WARNING');
  }
  return typeof config?.current_host === 'string' ? config.current_host : 'algo-1';
}

/** Channels from inputdataconfig.json, or the channel directories present when it is absent. */
async function inputChannels(): Promise<Set<string>> {
  const config = await readOptionalJson(paths.inputDataConfig);
  let names: string[];
  if (config === undefined) {
    try {
      names = (await readdir(path.join(paths.dataDir), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      names = [];
    }
  } else {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ClientError('inputdataconfig.json must map channel names to their configuration');
    names = Object.keys(config);
    for (const [name, spec] of Object.entries(config as Record<string, Record<string, unknown>>)) {
      if (spec?.TrainingInputMode === 'Pipe') throw new ClientError(`channel ${name}: Pipe input mode is not supported; use File`);
      const contentType = typeof spec?.ContentType === 'string' ? spec.ContentType.toLowerCase() : undefined;
      if (name !== 'model' && contentType !== undefined && !contentType.startsWith('text/csv') && contentType !== 'csv') {
        throw new ClientError(`channel ${name}: content type ${spec.ContentType} is not supported; use text/csv`);
      }
    }
  }
  for (const name of names) if (!KNOWN_CHANNELS.has(name)) throw new ClientError(`unexpected channel ${name}: the linear learner reads ${[...KNOWN_CHANNELS].join(', ')}`);
  return new Set(names);
}

async function readChannel(channel: string, options: Omit<ReadLabelledCsvOptions, 'source'>): Promise<LabelledRows> {
  const dir = channelDir(channel);
  try {
    return await readLabelledCsv(dir, { ...options, source: channel });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ClientError(`the ${channel} channel directory ${dir} does not exist`);
    throw err;
  }
}

function checkParentFits(parent: LinearLearnerModel, hp: LinearLearnerHyperparameters): void {
  const from = `the warm-start model (training job ${parent.training_job_name})`;
  if (parent.predictor_type !== hp.predictorType) throw new ClientError(`${from} is a ${parent.predictor_type} but predictor_type is ${hp.predictorType}`);
  if (parent.num_classes !== hp.numClasses) throw new ClientError(`${from} has num_classes=${parent.num_classes} but num_classes is ${hp.numClasses}`);
}

function normalisationOf(model: LinearLearnerModel): Normalisation {
  return { feature_mean: model.feature_mean, feature_std: model.feature_std, label_mean: model.label_mean, label_std: model.label_std };
}

/** Feature mean and (population) standard deviation over all train rows; identity when normalisation is off. */
function fitNormalisation(rows: LabelledRows, hp: LinearLearnerHyperparameters): Normalisation {
  const d = rows.featureDim;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(1);
  if (hp.normalizeData) {
    for (let i = 0; i < rows.rows; i++) for (let j = 0; j < d; j++) mean[j] += rows.features[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= rows.rows;
    const squares = new Array<number>(d).fill(0);
    for (let i = 0; i < rows.rows; i++) for (let j = 0; j < d; j++) squares[j] += (rows.features[i * d + j] - mean[j]) ** 2;
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(squares[j] / rows.rows);
      std[j] = s > MIN_FEATURE_STD ? s : 1;
    }
  }
  let labelMean = 0;
  let labelStd = 1;
  if (hp.normalizeLabel) {
    for (let i = 0; i < rows.rows; i++) labelMean += rows.labels[i];
    labelMean /= rows.rows;
    let squares = 0;
    for (let i = 0; i < rows.rows; i++) squares += (rows.labels[i] - labelMean) ** 2;
    const s = Math.sqrt(squares / rows.rows);
    labelStd = s > MIN_FEATURE_STD ? s : 1;
  }
  return { feature_mean: mean, feature_std: std, label_mean: labelMean, label_std: labelStd };
}

function normalise(rows: LabelledRows, n: Normalisation, predictorType: PredictorType): { features: Float64Array; labels: Float64Array } {
  const d = rows.featureDim;
  const features = new Float64Array(rows.features.length);
  for (let i = 0; i < rows.rows; i++) for (let j = 0; j < d; j++) features[i * d + j] = (rows.features[i * d + j] - n.feature_mean[j]) / n.feature_std[j];
  const labels = predictorType === 'regressor' ? rows.labels.map((y) => (y - n.label_mean) / n.label_std) : rows.labels;
  return { features, labels };
}

/**
 * The built-in algorithm's early stopping: stop after `patience` epochs without a relative
 * improvement of at least `tolerance` in the validation loss (training loss without validation).
 */
function updateEarlyStopping(s: TrainingCheckpoint['early_stopping'], loss: number, hp: LinearLearnerHyperparameters, epoch: number, onValidation: boolean): void {
  if (s.best_loss === null || loss < s.best_loss - hp.earlyStoppingTolerance * Math.abs(s.best_loss)) {
    s.best_loss = loss;
    s.epochs_without_improvement = 0;
    return;
  }
  s.epochs_without_improvement++;
  if (s.epochs_without_improvement >= hp.earlyStoppingPatience && epoch + 1 < hp.epochs) {
    s.stopped = true;
    log(`early stopping after epoch=${epoch}: the ${onValidation ? 'validation' : 'training'} loss improved by less than ${hp.earlyStoppingTolerance * 100}% for ${s.epochs_without_improvement} epochs`);
  }
}

/** The final model's metrics on a scored channel, named as the built-in algorithm logs them. */
function finalQualityMetrics(model: LinearLearnerModel, rows: LabelledRows, objectiveLogName: string): QualityMetric[] {
  const p = holdoutPredictions(model, rows);
  const named = (name: string, value: number | null): QualityMetric[] => (value === null ? [] : [{ ...finalMetricLogName(model.predictor_type, name), value }]);
  switch (p.predictorType) {
    case 'binary_classifier': {
      const predicted = predictedLabels(p);
      const scores = binaryScores(p.actual, predicted);
      return [
        { logName: objectiveLogName, kind: 'loss', value: binaryLogLoss(p.actual, p.scores) },
        ...named('binary_classification_accuracy', accuracy(p.actual, predicted)),
        ...named('binary_f_beta', scores.fBeta),
        ...named('precision', scores.precision),
        ...named('recall', scores.recall),
        ...named('roc_auc_score', rocAuc(p.actual, p.scores)),
      ];
    }
    case 'multiclass_classifier': {
      const predicted = predictedLabels(p);
      const macro = macroScores(p.actual, predicted);
      return [
        { logName: objectiveLogName, kind: 'loss', value: multiclassLogLoss(p.actual, p.probabilities) },
        ...named('multiclass_accuracy', accuracy(p.actual, predicted)),
        ...named('macro_f_beta', macro.fBeta),
        ...named('macro_precision', macro.precision),
        ...named('macro_recall', macro.recall),
      ];
    }
    case 'regressor': {
      const mse = meanSquaredError(p.actual, p.predicted);
      return [
        { logName: objectiveLogName, kind: 'loss', value: mse },
        ...named('mse', mse),
        ...named('rmse', Math.sqrt(mse)),
        ...named('absolute_loss', meanAbsoluteError(p.actual, p.predicted)),
      ];
    }
  }
}

// The trained model: its file format, loading it from wherever a container finds it, and
// prediction. Serving, evaluation and warm-start training all go through here, so a model
// scores the same in every one of them.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { z } from 'zod';
import { PredictorType } from '../../../domain/config';
import { BINARY_DECISION_THRESHOLD, type HoldoutPredictions } from '../../../domain/metrics';
import { ClientError, writeFileAtomically } from '../container';
import { listDataFiles, type LabelledRows } from '../labelled-csv';

export const LINEAR_LEARNER_MODEL_FORMAT = 'linear-learner-local/1';
export const MODEL_FILE = 'model.json';
export const MODEL_ARCHIVE = 'model.tar.gz';

/**
 * Scores are computed on normalised features, x' = (x - feature_mean) / feature_std, as
 * z_k = bias[k] + weights[k] . x'. A binary model has one output (sigmoid), a multiclass model one
 * per class (softmax), a regressor one, mapped back to label units as z * label_std + label_mean.
 */
export const LinearLearnerModelSchema = z
  .object({
    format: z.literal(LINEAR_LEARNER_MODEL_FORMAT),
    predictor_type: PredictorType,
    /** 2 for binary, k for multiclass, null for a regressor. */
    num_classes: z.number().int().min(2).nullable(),
    feature_dim: z.number().int().min(1),
    /** One row of feature_dim weights per output. */
    weights: z.array(z.array(z.number())),
    bias: z.array(z.number()),
    feature_mean: z.array(z.number()),
    feature_std: z.array(z.number().positive()),
    label_mean: z.number(),
    label_std: z.number().positive(),
    training_job_name: z.string().min(1),
    /** The training job whose model this one was warm-started from, or null for a cold start. */
    warm_started_from: z.string().nullable(),
    /** Training examples processed (rows x epochs), summed over the warm-start lineage. */
    rows_seen: z.number().int().min(0),
    /** Distinct rows in this job's train channel. */
    train_rows: z.number().int().min(0),
    /** Epochs this job completed. */
    epochs: z.number().int().min(0),
    /** The hyperparameters the job ran with, as SageMaker passed them. */
    hyperparameters: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((m, ctx) => {
    const outputs = outputCount(m.predictor_type, m.num_classes);
    const issue = (pathName: string, message: string) => ctx.addIssue({ code: 'custom', path: [pathName], message });
    if (m.predictor_type === 'regressor' ? m.num_classes !== null : m.num_classes === null) issue('num_classes', `does not fit predictor_type ${m.predictor_type}`);
    if (m.predictor_type === 'binary_classifier' && m.num_classes !== 2) issue('num_classes', 'must be 2 for binary_classifier');
    if (m.weights.length !== outputs || m.weights.some((row) => row.length !== m.feature_dim)) issue('weights', `must be ${outputs} row(s) of ${m.feature_dim} numbers`);
    if (m.bias.length !== outputs) issue('bias', `must have ${outputs} value(s)`);
    if (m.feature_mean.length !== m.feature_dim) issue('feature_mean', `must have ${m.feature_dim} values`);
    if (m.feature_std.length !== m.feature_dim) issue('feature_std', `must have ${m.feature_dim} values`);
  });
export type LinearLearnerModel = z.infer<typeof LinearLearnerModelSchema>;

export function outputCount(predictorType: PredictorType, numClasses: number | null): number {
  return predictorType === 'multiclass_classifier' ? numClasses! : 1;
}

/** What a label must look like for a predictor type; the reason it does not, or null. */
export function labelCheck(predictorType: PredictorType, numClasses: number | null): (label: number) => string | null {
  switch (predictorType) {
    case 'binary_classifier':
      return (label) => (label === 0 || label === 1 ? null : `the label must be 0 or 1 for binary_classifier, got ${label}`);
    case 'multiclass_classifier':
      return (label) =>
        Number.isInteger(label) && label >= 0 && label < numClasses! ? null : `the label must be an integer in 0..${numClasses! - 1} (num_classes=${numClasses}), got ${label}`;
    case 'regressor':
      return () => null;
  }
}

/** Validates a parsed model.json; `source` names it in the error. */
export function parseLinearLearnerModel(json: unknown, source: string): LinearLearnerModel {
  const parsed = LinearLearnerModelSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ClientError(`${source} is not a ${LINEAR_LEARNER_MODEL_FORMAT} model: ${problems}`);
  }
  return parsed.data;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readModelJson(file: string, source: string): Promise<LinearLearnerModel> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ClientError(`${source}: cannot read ${MODEL_FILE}: ${(err as Error).message}`);
  }
  return parseLinearLearnerModel(json, source);
}

/**
 * Loads a model from any place a container meets one: a model.json, a directory holding it (the
 * hosting layout), a model.tar.gz, or a directory holding one (a training `model` channel or a
 * processing input).
 */
export async function loadLinearLearnerModel(location: string): Promise<LinearLearnerModel> {
  let archive = location;
  if (await isDirectory(location)) {
    if (await exists(path.join(location, MODEL_FILE))) return readModelJson(path.join(location, MODEL_FILE), location);
    archive = path.join(location, MODEL_ARCHIVE);
    if (!(await exists(archive))) {
      // An S3Prefix input keeps the object's key below the prefix, so the archive may sit deeper.
      const archives = (await listDataFiles(location)).filter((f) => f.endsWith('.tar.gz'));
      if (archives.length !== 1) {
        throw new ClientError(`${location} holds neither ${MODEL_FILE} nor exactly one ${MODEL_ARCHIVE} (found ${archives.length ? archives.join(', ') : 'none'})`);
      }
      archive = path.join(location, archives[0]);
    }
  } else if (path.basename(location) === MODEL_FILE) {
    return readModelJson(location, location);
  }
  const scratch = await mkdtemp(path.join(tmpdir(), 'linear-learner-model-'));
  try {
    try {
      await tar.x({ file: archive, cwd: scratch, strict: true });
    } catch (err) {
      throw new ClientError(`${archive} is not a readable tar.gz: ${(err as Error).message}`);
    }
    if (!(await exists(path.join(scratch, MODEL_FILE)))) throw new ClientError(`${archive} has no ${MODEL_FILE} at its top level`);
    return await readModelJson(path.join(scratch, MODEL_FILE), archive);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function writeLinearLearnerModel(dir: string, model: LinearLearnerModel): Promise<void> {
  await writeFileAtomically(path.join(dir, MODEL_FILE), `${JSON.stringify(model)}\n`);
}

/** The answer for one row, in the built-in linear learner's response shape. */
export type Prediction =
  | { score: number; predicted_label: number }
  | { score: number[]; predicted_label: number }
  | { score: number };

/** The raw linear outputs z for one row of un-normalised features. */
export function linearOutputs(model: LinearLearnerModel, features: ArrayLike<number>): number[] {
  if (features.length !== model.feature_dim) throw new ClientError(`expected ${model.feature_dim} features, got ${features.length}`);
  return model.weights.map((row, k) => {
    let z = model.bias[k];
    for (let j = 0; j < row.length; j++) z += row[j] * ((features[j] - model.feature_mean[j]) / model.feature_std[j]);
    return z;
  });
}

export function sigmoid(z: number): number {
  // Two branches keep exp() from overflowing for large |z|.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function softmax(z: readonly number[]): number[] {
  const max = Math.max(...z);
  const exps = z.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function predict(model: LinearLearnerModel, features: ArrayLike<number>): Prediction {
  const z = linearOutputs(model, features);
  switch (model.predictor_type) {
    case 'binary_classifier': {
      const score = sigmoid(z[0]);
      return { score, predicted_label: score > BINARY_DECISION_THRESHOLD ? 1 : 0 };
    }
    case 'multiclass_classifier': {
      const score = softmax(z);
      let best = 0;
      for (let k = 1; k < score.length; k++) if (score[k] > score[best]) best = k;
      return { score, predicted_label: best };
    }
    case 'regressor':
      return { score: z[0] * model.label_std + model.label_mean };
  }
}

/** Scores every labelled row, in the shape domain/metrics evaluates. */
export function holdoutPredictions(model: LinearLearnerModel, rows: LabelledRows): HoldoutPredictions {
  if (rows.featureDim !== model.feature_dim) {
    throw new ClientError(`the model (training job ${model.training_job_name}) expects ${model.feature_dim} features but the data has ${rows.featureDim}`);
  }
  const predictions = Array.from({ length: rows.rows }, (_, i) => predict(model, rows.features.subarray(i * rows.featureDim, (i + 1) * rows.featureDim)));
  const actual = rows.labels;
  switch (model.predictor_type) {
    case 'binary_classifier':
      return { predictorType: 'binary_classifier', actual, scores: predictions.map((p) => p.score as number) };
    case 'multiclass_classifier':
      return { predictorType: 'multiclass_classifier', actual, probabilities: predictions.map((p) => p.score as number[]) };
    case 'regressor':
      return { predictorType: 'regressor', actual, predicted: predictions.map((p) => p.score as number) };
  }
}

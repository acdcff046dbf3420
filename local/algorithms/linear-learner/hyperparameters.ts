// The linear learner's hyperparameters: the built-in algorithm's names and (where it has one) its
// defaults, plus `seed`. SageMaker delivers every value as a string; this is the one place that
// turns them into typed settings, and every rejection names the hyperparameter.
import { z } from 'zod';
import { PredictorType } from '../../../domain/config';
import { ClientError } from '../container';

type Refine = z.core.$RefinementCtx<string>;

function reject(ctx: Refine, message: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

const integer = (min: number) =>
  z.string().transform((raw, ctx) => {
    const value = raw.trim();
    if (!/^[+-]?\d+$/.test(value) || Number(value) < min) return reject(ctx, `must be an integer >= ${min}, got "${raw}"`);
    return Number(value);
  });

const float = (check: (v: number) => boolean, range: string) =>
  z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) return reject(ctx, `must be a number ${range}, got "${raw}"`);
    return value;
  });

/** "auto" becomes the given value; anything else must parse. */
const autoOr = <T>(inner: z.ZodType<T, string>, auto: T) =>
  z.string().transform((raw, ctx): T => {
    if (raw.trim().toLowerCase() === 'auto') return auto;
    const parsed = inner.safeParse(raw);
    if (!parsed.success) return reject(ctx, `must be "auto" or ${parsed.error.issues[0].message.replace(/^must be /, '')}`);
    return parsed.data;
  });

/** The Python SDK sends True/False; the console sends true/false. */
const boolean = z.string().transform((raw, ctx) => {
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  return reject(ctx, `must be true or false, got "${raw}"`);
});

const choice = <T extends string>(values: readonly T[]) =>
  z.string().transform((raw, ctx): T => {
    const value = raw.trim().toLowerCase() as T;
    if (!values.includes(value)) return reject(ctx, `must be one of ${values.join(', ')}, got "${raw}"`);
    return value;
  });

const defaultTo = <T>(schema: z.ZodType<T, string>, value: string) => schema.optional().transform((v) => v ?? schema.parse(value));

/**
 * optimizer=auto means SGD: with the data-derived step size (learner.ts, safeSgdRate) it converges
 * in the few steps a small dataset gives at the default mini_batch_size, where Adam's per-coordinate
 * steps of about learning_rate each are still wandering.
 */
export const AUTO_OPTIMIZER = 'sgd';
/** Heavy-ball momentum stays stable up to 1.5x the safe step at 0.5, and speeds up the few-step case. */
export const AUTO_MOMENTUM = 0.5;
/** Adam's "auto" step size on normalised data. */
export const AUTO_ADAM_LEARNING_RATE = 0.1;
/** A whisper of L2 keeps weights bounded on separable data and across many warm-started generations. */
export const AUTO_WD = 1e-4;

const HyperparameterSchema = z
  .object({
    predictor_type: choice(PredictorType.options),
    num_classes: integer(2).optional(),
    feature_dim: defaultTo(autoOr(integer(1), null as number | null), 'auto'),
    epochs: defaultTo(integer(1), '15'),
    mini_batch_size: defaultTo(integer(1), '1000'),
    learning_rate: defaultTo(autoOr(float((v) => v > 0, '> 0'), null as number | null), 'auto'),
    optimizer: defaultTo(choice(['auto', 'adam', 'sgd'] as const), 'auto'),
    beta_1: defaultTo(autoOr(float((v) => v >= 0 && v < 1, 'in [0, 1)'), 0.9), 'auto'),
    beta_2: defaultTo(autoOr(float((v) => v >= 0 && v < 1, 'in [0, 1)'), 0.999), 'auto'),
    momentum: defaultTo(autoOr(float((v) => v >= 0 && v < 1, 'in [0, 1)'), AUTO_MOMENTUM), 'auto'),
    wd: defaultTo(autoOr(float((v) => v >= 0, '>= 0'), AUTO_WD), 'auto'),
    l1: defaultTo(autoOr(float((v) => v >= 0, '>= 0'), 0), 'auto'),
    normalize_data: defaultTo(autoOr(boolean, true), 'true'),
    normalize_label: defaultTo(autoOr(boolean, null as boolean | null), 'auto'),
    use_bias: defaultTo(boolean, 'true'),
    early_stopping_patience: defaultTo(integer(1), '3'),
    early_stopping_tolerance: defaultTo(float((v) => v > 0, '> 0'), '0.001'),
    seed: defaultTo(integer(0), '0'),
    // Automatic model tuning adds this one to every job; the algorithm has nothing to do with it.
    _tuning_objective_metric: z.string().optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.predictor_type === 'multiclass_classifier') {
      if (h.num_classes === undefined) ctx.addIssue({ code: 'custom', path: ['num_classes'], message: 'is required when predictor_type is multiclass_classifier' });
      else if (h.num_classes < 3) ctx.addIssue({ code: 'custom', path: ['num_classes'], message: `must be at least 3 for multiclass_classifier (use binary_classifier for 2 classes), got ${h.num_classes}` });
    } else if (h.predictor_type === 'binary_classifier' && h.num_classes !== undefined && h.num_classes !== 2) {
      ctx.addIssue({ code: 'custom', path: ['num_classes'], message: `must be 2 (or absent) for binary_classifier, got ${h.num_classes}` });
    } else if (h.predictor_type === 'regressor' && h.num_classes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['num_classes'], message: 'does not apply to a regressor' });
    }
  });

export interface LinearLearnerHyperparameters {
  predictorType: PredictorType;
  /** 2 for binary, k for multiclass, null for a regressor. */
  numClasses: number | null;
  featureDim: number | null;
  epochs: number;
  miniBatchSize: number;
  optimizer: 'adam' | 'sgd';
  /** Null for "auto", which the trainer resolves from the optimizer and the data. */
  learningRate: number | null;
  beta1: number;
  beta2: number;
  momentum: number;
  wd: number;
  l1: number;
  normalizeData: boolean;
  /** Resolved: true only for a regressor unless set to false. */
  normalizeLabel: boolean;
  useBias: boolean;
  earlyStoppingPatience: number;
  earlyStoppingTolerance: number;
  seed: number;
}

/** Turns hyperparameters.json into settings, or throws a ClientError naming every bad hyperparameter. */
export function parseHyperparameters(raw: unknown): LinearLearnerHyperparameters {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ClientError('hyperparameters.json must be a JSON object of strings');
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    // SageMaker's API only carries strings; numbers or booleans from a hand-written file mean the same.
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ClientError(`hyperparameter ${name} must be a string, got ${JSON.stringify(value)}`);
    }
    strings[name] = String(value);
  }
  const parsed = HyperparameterSchema.safeParse(strings);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown hyperparameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (supported: ${Object.keys(HyperparameterSchema.shape).filter((k) => !k.startsWith('_')).join(', ')})`;
      }
      const name = String(issue.path[0] ?? '');
      if (issue.code === 'invalid_type' && name === 'predictor_type') return 'hyperparameter predictor_type is required (binary_classifier, multiclass_classifier or regressor)';
      return `hyperparameter ${name} ${issue.message}`;
    });
    throw new ClientError(problems.join('; '));
  }
  const h = parsed.data;
  const optimizer = h.optimizer === 'auto' ? AUTO_OPTIMIZER : h.optimizer;
  return {
    predictorType: h.predictor_type,
    numClasses: h.predictor_type === 'regressor' ? null : h.predictor_type === 'binary_classifier' ? 2 : h.num_classes!,
    featureDim: h.feature_dim,
    epochs: h.epochs,
    miniBatchSize: h.mini_batch_size,
    optimizer,
    learningRate: h.learning_rate,
    beta1: h.beta_1,
    beta2: h.beta_2,
    momentum: h.momentum,
    wd: h.wd,
    l1: h.l1,
    normalizeData: h.normalize_data,
    normalizeLabel: h.predictor_type === 'regressor' && h.normalize_label !== false,
    useBias: h.use_bias,
    earlyStoppingPatience: h.early_stopping_patience,
    earlyStoppingTolerance: h.early_stopping_tolerance,
    seed: h.seed,
  };
}

// The learning itself: one convex objective per predictor type, mini-batch gradients, and Adam or
// SGD with momentum. Everything is in normalised feature (and, for regression, label) space and
// deterministic: the same data order and settings give bit-identical weights, which is what lets a
// job resumed from a checkpoint end exactly where an uninterrupted one would.
import type { PredictorType } from '../../../domain/config';
import { seededRandom } from '../../../domain/seeded-random';

export interface Objective {
  /** The built-in linear learner's name for this loss in its `#quality_metric` lines. */
  logName: string;
  outputs: number;
  /** An upper bound on the loss's second derivative in z, which bounds a safe SGD step. */
  curvature: number;
  /** Writes d(loss)/dz into `gradient` and returns the row's loss. */
  lossAndGradient(z: Float64Array, label: number, gradient: Float64Array): number;
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

const logistic: Objective = {
  logName: 'binary_classification_cross_entropy_objective',
  outputs: 1,
  curvature: 0.25,
  lossAndGradient(z, label, gradient) {
    const p = z[0] >= 0 ? 1 / (1 + Math.exp(-z[0])) : Math.exp(z[0]) / (1 + Math.exp(z[0]));
    gradient[0] = p - label;
    return softplus(z[0]) - label * z[0];
  },
};

function softmaxCrossEntropy(numClasses: number): Objective {
  return {
    logName: 'multiclass_cross_entropy_objective',
    outputs: numClasses,
    curvature: 0.5,
    lossAndGradient(z, label, gradient) {
      let max = -Infinity;
      for (let k = 0; k < z.length; k++) if (z[k] > max) max = z[k];
      let sum = 0;
      for (let k = 0; k < z.length; k++) sum += Math.exp(z[k] - max);
      const logSum = max + Math.log(sum);
      for (let k = 0; k < z.length; k++) gradient[k] = Math.exp(z[k] - logSum) - (k === label ? 1 : 0);
      return logSum - z[label];
    },
  };
}

const squaredError: Objective = {
  logName: 'mse_objective',
  outputs: 1,
  curvature: 2,
  lossAndGradient(z, label, gradient) {
    const residual = z[0] - label;
    gradient[0] = 2 * residual;
    return residual * residual;
  },
};

export function objectiveFor(predictorType: PredictorType, numClasses: number | null): Objective {
  switch (predictorType) {
    case 'binary_classifier':
      return logistic;
    case 'multiclass_classifier':
      return softmaxCrossEntropy(numClasses!);
    case 'regressor':
      return squaredError;
  }
}

export interface OptimizerSettings {
  optimizer: 'adam' | 'sgd';
  beta1: number;
  beta2: number;
  momentum: number;
  /** L2 penalty on weights (never on the bias). */
  wd: number;
  /** L1 penalty on weights, applied as a subgradient. */
  l1: number;
  useBias: boolean;
}

/** Everything needed to continue training exactly: parameters and optimizer state. JSON round-trips doubles exactly. */
export interface LearnerSnapshot {
  weights: number[][];
  bias: number[];
  step: number;
  /** Adam's first moment, or SGD's velocity; weights then bias, flattened. */
  firstMoment: number[];
  /** Adam's second moment; empty for SGD. */
  secondMoment: number[];
}

const ADAM_EPSILON = 1e-8;

/**
 * SGD's "auto" step: 1 / (curvature x mean squared row norm, bias included). That bounds the
 * loss's largest curvature along any direction, so a full-batch step can never overshoot, whatever
 * the correlation between features; on normalised data the mean squared norm is about d + 1.
 */
export function safeSgdRate(objective: Objective, features: Float64Array, rows: number): number {
  let squaredNorms = 0;
  for (let i = 0; i < features.length; i++) squaredNorms += features[i] * features[i];
  return 1 / (objective.curvature * (squaredNorms / rows + 1));
}

/** Where cosine annealing ends, as a share of the base rate: late steps still move, but only a little. */
const FINAL_RATE_SHARE = 0.01;

/**
 * Cosine annealing over the job's planned steps: large early steps make progress even when a small
 * dataset gives few mini-batches, and the shrinking tail settles the weights instead of leaving them
 * oscillating. It depends only on the step's position, so a resumed job continues the same curve.
 */
export function annealedLearningRate(baseRate: number, step: number, plannedSteps: number): number {
  const progress = plannedSteps <= 1 ? 0 : Math.min(1, step / (plannedSteps - 1));
  return baseRate * (FINAL_RATE_SHARE + (1 - FINAL_RATE_SHARE) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export class LinearLearner {
  /** Weights (outputs x featureDim, row-major) followed by the biases. */
  private readonly params: Float64Array;
  private readonly first: Float64Array;
  private readonly second: Float64Array;
  private readonly gradient: Float64Array;
  private readonly z: Float64Array;
  private readonly dz: Float64Array;
  private readonly weightCount: number;
  private step: number;

  constructor(
    private readonly objective: Objective,
    private readonly featureDim: number,
    private readonly settings: OptimizerSettings,
    start?: Partial<LearnerSnapshot> & Pick<LearnerSnapshot, 'weights' | 'bias'>,
  ) {
    const outputs = objective.outputs;
    this.weightCount = outputs * featureDim;
    const size = this.weightCount + outputs;
    this.params = new Float64Array(size);
    this.first = new Float64Array(size);
    this.second = new Float64Array(settings.optimizer === 'adam' ? size : 0);
    this.gradient = new Float64Array(size);
    this.z = new Float64Array(outputs);
    this.dz = new Float64Array(outputs);
    this.step = start?.step ?? 0;
    if (start) {
      if (start.weights.length !== outputs || start.bias.length !== outputs || start.weights.some((r) => r.length !== featureDim)) {
        throw new Error(`starting weights must be ${outputs} x ${featureDim} with ${outputs} biases`);
      }
      start.weights.forEach((row, k) => this.params.set(row, k * featureDim));
      this.params.set(start.bias, this.weightCount);
      if (start.firstMoment) this.first.set(start.firstMoment);
      if (start.secondMoment && this.second.length) this.second.set(start.secondMoment);
    }
  }

  private forward(features: Float64Array, row: number): void {
    const d = this.featureDim;
    const offset = row * d;
    for (let k = 0; k < this.z.length; k++) {
      let z = this.params[this.weightCount + k];
      const w = k * d;
      for (let j = 0; j < d; j++) z += this.params[w + j] * features[offset + j];
      this.z[k] = z;
    }
  }

  /**
   * One optimizer step on the rows order[start..end). Returns the batch's summed loss, measured
   * before the step (as the built-in algorithm reports its running training loss).
   */
  trainBatch(features: Float64Array, labels: Float64Array, order: Uint32Array, start: number, end: number, rate: number): number {
    const d = this.featureDim;
    const g = this.gradient;
    g.fill(0);
    let lossSum = 0;
    for (let i = start; i < end; i++) {
      const row = order[i];
      this.forward(features, row);
      lossSum += this.objective.lossAndGradient(this.z, labels[row], this.dz);
      const offset = row * d;
      for (let k = 0; k < this.dz.length; k++) {
        const dz = this.dz[k];
        if (dz === 0) continue;
        const w = k * d;
        for (let j = 0; j < d; j++) g[w + j] += dz * features[offset + j];
        g[this.weightCount + k] += dz;
      }
    }
    const batch = end - start;
    for (let p = 0; p < g.length; p++) g[p] /= batch;
    for (let p = 0; p < this.weightCount; p++) {
      const w = this.params[p];
      g[p] += this.settings.wd * w + this.settings.l1 * Math.sign(w);
    }
    if (!this.settings.useBias) g.fill(0, this.weightCount);
    this.apply(rate);
    return lossSum;
  }

  private apply(rate: number): void {
    const { params, first, second, gradient: g } = this;
    this.step++;
    if (this.settings.optimizer === 'adam') {
      const { beta1, beta2 } = this.settings;
      const correction1 = 1 - beta1 ** this.step;
      const correction2 = 1 - beta2 ** this.step;
      for (let p = 0; p < params.length; p++) {
        first[p] = beta1 * first[p] + (1 - beta1) * g[p];
        second[p] = beta2 * second[p] + (1 - beta2) * g[p] * g[p];
        params[p] -= (rate * (first[p] / correction1)) / (Math.sqrt(second[p] / correction2) + ADAM_EPSILON);
      }
    } else {
      for (let p = 0; p < params.length; p++) {
        first[p] = this.settings.momentum * first[p] + g[p];
        params[p] -= rate * first[p];
      }
    }
  }

  /** Mean loss over the given rows (all rows when omitted), without training. */
  meanLoss(features: Float64Array, labels: Float64Array, rows = labels.length): number {
    let sum = 0;
    for (let row = 0; row < rows; row++) {
      this.forward(features, row);
      sum += this.objective.lossAndGradient(this.z, labels[row], this.dz);
    }
    return sum / rows;
  }

  snapshot(): LearnerSnapshot {
    const d = this.featureDim;
    return {
      weights: Array.from({ length: this.objective.outputs }, (_, k) => Array.from(this.params.subarray(k * d, (k + 1) * d))),
      bias: Array.from(this.params.subarray(this.weightCount)),
      step: this.step,
      firstMoment: Array.from(this.first),
      secondMoment: Array.from(this.second),
    };
  }
}

/**
 * The row order of one epoch. It depends only on (seed, epoch), so a resumed job reshuffles the
 * epoch it resumes into exactly as the interrupted job did.
 */
export function epochOrder(rows: number, seed: number, epoch: number): Uint32Array {
  const random = seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

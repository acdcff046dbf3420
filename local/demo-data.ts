// Generated churn data with a documented, known shift (see docs/demo.md).
//
// Four features from standard-normal latents z1..z4:
//   monthly_spend = 50 + 15·z1     tenure_months = 24 + 10·z2
//   support_calls = 3 + 1.5·z3     discount_rate = 0.10 + 0.05·z4
// Churn (label 1) when  −1.0·z2 + 0.6·z3 + 0.5·(z1² − 1) + ε > 0,  ε ~ N(0, 0.5²).
//
// Before the shift z1..z4 ~ N(0, 1): spend's effect is symmetric, so a linear model learns to ignore it.
// After the shift (a price rise) z1 ~ N(2.5, 0.8²) and z4 ~ N(1.2, 1): spend and discount drift, and
// high spend now drives churn. The champion misses that; a candidate trained on the new labels learns it.
import type { PipelineConfigInput } from '../domain/config';
import { seededRandom } from '../domain/seeded-random';

export const DEMO_FEATURES = ['monthly_spend', 'tenure_months', 'support_calls', 'discount_rate'] as const;
export type Period = 'before' | 'after';

function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface Customer {
  features: number[];
  churned: 0 | 1;
}

export function customers(period: Period, count: number, seed: number): Customer[] {
  const random = seededRandom(seed);
  const out: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const z1 = period === 'before' ? normal(random) : 2.5 + 0.8 * normal(random);
    const z2 = normal(random);
    const z3 = normal(random);
    const z4 = period === 'before' ? normal(random) : 1.2 + normal(random);
    const churnScore = -1.0 * z2 + 0.6 * z3 + 0.5 * (z1 * z1 - 1) + 0.5 * normal(random);
    const features = [50 + 15 * z1, 24 + 10 * z2, 3 + 1.5 * z3, 0.1 + 0.05 * z4].map((v) => Math.round(v * 1e4) / 1e4);
    out.push({ features, churned: churnScore > 0 ? 1 : 0 });
  }
  return out;
}

/** Headerless CSV, label first: the built-in algorithms' convention. */
export function labelledCsv(rows: Customer[]): string {
  return rows.map((r) => [r.churned, ...r.features].join(',')).join('\n') + '\n';
}

export const DEMO_BUCKET = 'retraining-demo';
export const LINEAR_LEARNER_IMAGE = '382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1';
export const EVALUATION_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/sagemaker-retraining-evaluation:latest';

/** The embedded default pipeline config the demo runs. */
export function demoConfig(overrides: { metricDefinitions?: readonly { Name: string; Regex: string }[] } = {}): PipelineConfigInput {
  const bucket = `s3://${DEMO_BUCKET}`;
  return {
    model: 'churn-propensity',
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: 'churn-propensity', captureS3Uri: `${bucket}/data-capture` },
    drift: { windowHours: 24, minSamples: 200 },
    dataset: {
      rootS3Uri: `${bucket}/datasets`,
      newDataS3Uri: `${bucket}/labels`,
      schema: {
        label: { name: 'churned', classes: 2 },
        features: DEMO_FEATURES.map((name) => ({ name, type: 'numerical' as const })),
      },
    },
    training: {
      image: LINEAR_LEARNER_IMAGE,
      outputS3Uri: `${bucket}/training`,
      checkpointS3Uri: `${bucket}/checkpoints`,
      hyperparameters: { predictor_type: 'binary_classifier', epochs: 10, mini_batch_size: 100, seed: 7 },
      metricDefinitions: [...(overrides.metricDefinitions ?? [])],
    },
    evaluation: { image: EVALUATION_IMAGE, outputS3Uri: `${bucket}/evaluation`, metric: 'accuracy' },
    gate: { minImprovement: 0.01 },
    reportsS3Uri: `${bucket}/reports`,
  };
}

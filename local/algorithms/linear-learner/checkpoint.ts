// Training checkpoints: enough state to continue a stopped job exactly where it stopped, down to
// the mini-batch. One file, rewritten atomically, because SageMaker syncs the whole directory to
// CheckpointConfig.S3Uri and restores it into the next job.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { log, writeFileAtomically } from '../container';

export const CHECKPOINT_FILE = 'linear-learner-checkpoint.json';
export const CHECKPOINT_FORMAT = 'linear-learner-local-checkpoint/1';

const numbers = z.array(z.number());

export const TrainingCheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  /** Identifies the data, warm-start parent and hyperparameters (except `epochs`) this state belongs to. */
  fingerprint: z.string(),
  /** The job that wrote it; a resumed job may have a different name. */
  written_by: z.string(),
  epochs_completed: z.number().int().min(0),
  /** Mini-batches already done in epoch `epochs_completed` when a stop interrupted it; 0 at an epoch boundary. */
  next_batch: z.number().int().min(0),
  /** The interrupted epoch's running training loss, so its reported loss covers the whole epoch. */
  partial_loss_sum: z.number(),
  partial_rows: z.number().int().min(0),
  examples_processed: z.number().int().min(0),
  last_train_loss: z.number().nullable(),
  early_stopping: z.object({
    best_loss: z.number().nullable(),
    epochs_without_improvement: z.number().int().min(0),
    stopped: z.boolean(),
  }),
  learner: z.object({
    weights: z.array(numbers),
    bias: numbers,
    step: z.number().int().min(0),
    firstMoment: numbers,
    secondMoment: numbers,
  }),
  normalisation: z.object({ feature_mean: numbers, feature_std: numbers, label_mean: z.number(), label_std: z.number() }),
  warm_started_from: z.string().nullable(),
  parent_rows_seen: z.number().int().min(0),
});
export type TrainingCheckpoint = z.infer<typeof TrainingCheckpointSchema>;

/** A stable digest of what a checkpoint is valid for. */
export function trainingFingerprint(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * The checkpoint in `dir`, or null when there is none. A checkpoint that cannot be read is reported
 * and ignored rather than failing the job: starting over is always correct, only slower.
 */
export async function readCheckpoint(dir: string): Promise<TrainingCheckpoint | null> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return TrainingCheckpointSchema.parse(JSON.parse(text));
  } catch (err) {
    log(`ignoring unreadable checkpoint ${file}: ${(err as Error).message.split('\n')[0]}`, 'WARNING');
    return null;
  }
}

export async function writeCheckpoint(dir: string, checkpoint: TrainingCheckpoint): Promise<void> {
  await writeFileAtomically(path.join(dir, CHECKPOINT_FILE), JSON.stringify(checkpoint));
}

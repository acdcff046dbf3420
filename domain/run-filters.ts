// `retrain list`: the visibility query for a model's runs, from filters an operator names. Every value is
// checked before it reaches the query, so a typo is a clear error rather than an empty list.
import { SAGEMAKER_NAME } from './config';

/** Temporal's ExecutionStatus values, by the words an operator types. */
export const RUN_STATUSES = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
} as const;
export type RunStatus = keyof typeof RUN_STATUSES;

export const STAGES = ['starting', 'drift', 'dataset', 'training', 'evaluation', 'gate', 'registry', 'awaiting-approval', 'promotion', 'done'] as const;
export const TRIGGERS = ['manual', 'schedule', 'alert'] as const;
/** GateDecision's values: the gate's own, skipped for a run that found no drift, rolled_back for a deployment that did not take. */
export const GATE_DECISIONS = ['promote', 'reject', 'skipped', 'rolled_back'] as const;

export interface RunFilters {
  model?: string;
  status?: string;
  stage?: string;
  trigger?: string;
  decision?: string;
  /** Any visibility query (docs/operations.md lists useful ones), ANDed with the rest. */
  query?: string;
}

export class InvalidRunFilterError extends Error {
  override readonly name = 'InvalidRunFilterError';
}

function oneOf(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new InvalidRunFilterError(`${flag} ${value} is not one of ${allowed.join(', ')}`);
  return value;
}

/** The list query: the pipeline's runs (not schedule ticks or rollbacks), narrowed by each filter given. */
export function runListQuery(filters: RunFilters): string {
  const clauses = [`WorkflowType = 'retrainingPipeline'`];
  if (filters.model !== undefined) {
    if (!SAGEMAKER_NAME.test(filters.model)) throw new InvalidRunFilterError(`--model ${JSON.stringify(filters.model)} is not a model name (1-63 letters, digits, hyphens)`);
    clauses.push(`RetrainingModel = '${filters.model}'`);
  }
  if (filters.status !== undefined) clauses.push(`ExecutionStatus = '${RUN_STATUSES[oneOf('--status', filters.status, Object.keys(RUN_STATUSES)) as RunStatus]}'`);
  if (filters.stage !== undefined) clauses.push(`RetrainingStage = '${oneOf('--stage', filters.stage, STAGES)}'`);
  if (filters.trigger !== undefined) clauses.push(`RetrainingTrigger = '${oneOf('--trigger', filters.trigger, TRIGGERS)}'`);
  if (filters.decision !== undefined) clauses.push(`GateDecision = '${oneOf('--decision', filters.decision, GATE_DECISIONS)}'`);
  if (filters.query !== undefined) {
    if (!filters.query.trim()) throw new InvalidRunFilterError('--query is empty');
    clauses.push(`(${filters.query.trim()})`);
  }
  return clauses.join(' AND ');
}

// What follows a training attempt that ended early. Pure and deterministic: the workflow calls it, so
// the decision is replayable and sits in the run's history next to the attempts that led to it.
import type { PipelineConfig } from './config';
import type { FailureClass } from './failure';

export interface AttemptRecord {
  jobName: string;
  attempt: number;
  instanceType: string;
  outcome: FailureClass | 'completed';
  reason: string;
  seconds: number;
}

export type NextAttempt =
  | { retry: true; backoffSeconds: number; resumeFromCheckpoint: boolean; instanceType: string; why: string }
  | { retry: false; why: string };

type TrainingPolicy = Pick<PipelineConfig['training'], 'instanceType' | 'fallbackInstanceTypes' | 'failurePolicy'>;

/** Classes a new attempt can help with, and the policy that governs each. */
const POLICY_OF: Partial<Record<FailureClass, keyof TrainingPolicy['failurePolicy']>> = {
  capacity: 'capacity',
  stopped_by_sagemaker: 'stoppedBySageMaker',
  quota: 'quota',
  service_fault: 'serviceFault',
};

const NOT_RETRIED: Partial<Record<FailureClass, string>> = {
  stopped_by_operator: 'an operator stopped the job; that is a decision, not a fault',
  client_error: 'SageMaker rejected the request or the data (ClientError); the same attempt would fail the same way',
  algorithm_error: 'the training code failed (AlgorithmError); the same attempt would fail the same way',
};

export function nextAttempt(attempts: readonly AttemptRecord[], training: TrainingPolicy): NextAttempt {
  const last = attempts.at(-1);
  if (!last || last.outcome === 'completed') return { retry: false, why: 'the last attempt completed' };
  const policyName = POLICY_OF[last.outcome];
  if (!policyName) return { retry: false, why: NOT_RETRIED[last.outcome] ?? `a ${last.outcome.replace(/_/g, ' ')} is not retried as a new attempt` };
  const policy = training.failurePolicy[policyName];
  const sameClass = attempts.filter((a) => a.outcome === last.outcome).length;
  if (sameClass >= policy.attempts) {
    return { retry: false, why: `${sameClass} attempt(s) ended with ${last.outcome.replace(/_/g, ' ')}, and failurePolicy.${policyName}.attempts allows ${policy.attempts}` };
  }
  let instanceType = last.instanceType;
  if (last.outcome === 'capacity' || last.outcome === 'quota') {
    // Capacity and quota are per instance type: the next configured type may have room.
    const chain = [training.instanceType, ...training.fallbackInstanceTypes];
    const at = chain.indexOf(last.instanceType);
    if (at >= 0 && at + 1 < chain.length) instanceType = chain[at + 1]!;
  }
  const backoffSeconds = policy.backoffSeconds * 2 ** (sameClass - 1);
  const how = policy.resume ? 'resuming from the checkpoint' : 'starting afresh';
  const where = instanceType !== last.instanceType ? ` on ${instanceType} instead of ${last.instanceType}` : '';
  return {
    retry: true,
    backoffSeconds,
    resumeFromCheckpoint: policy.resume,
    instanceType,
    why: `attempt ${last.attempt} ended with ${last.outcome.replace(/_/g, ' ')}; attempt ${last.attempt + 1} follows in ${backoffSeconds}s${where}, ${how}`,
  };
}

/** One line per attempt, for the failure a person reads when the run gives up. */
export function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts
    .map((a) => `attempt ${a.attempt}: ${a.jobName} on ${a.instanceType}, ${a.outcome.replace(/_/g, ' ')} after ${Math.round(a.seconds)}s${a.reason ? ` — ${a.reason}` : ''}`)
    .join('\n');
}

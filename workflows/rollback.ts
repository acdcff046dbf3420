// The rollback command: put the previous champion back on the endpoint, as its own workflow.
// Deterministic orchestration only; the endpoint update and registry calls are activities.
import {
  ActivityCancellationType,
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { RetrainingActivities } from '../activities';
import type { Champion, EndpointRollback } from '../activities/types';
import type { RollbackTarget } from '../activities/registry';
import { approvalDescription, checkApprovalRequest } from '../domain/approval';
import { InvalidConfigError, parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { NON_RETRYABLE } from './retraining';
import * as attributes from './search-attributes';

export interface RollbackInput {
  config: PipelineConfigInput;
  /** The package to put back. Default: the one the serving champion was registered to replace. */
  toModelPackageArn?: string;
  /** Who asks, and why: written on the retired package's ApprovalDescription. */
  approver: string;
  reason: string;
}

export interface RollbackOutcome {
  model: string;
  /** The champion that was serving, now retired (Rejected in the registry). */
  retired: Champion;
  /** The package serving again. */
  restored: RollbackTarget;
  endpoint: EndpointRollback;
}

export type RollbackStage = 'resolving' | 'restoring' | 'retiring' | 'done';

export interface RollbackStatus {
  model: string;
  stage: RollbackStage;
  details: string;
  retired: Champion | null;
  restored: RollbackTarget | null;
}

export const rollbackStatusQuery = defineQuery<RollbackStatus>('status');

const RETRY: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE, 'RollbackTargetInvalid', 'RollbackFailed'] };

export async function rollbackModel(input: RollbackInput): Promise<RollbackOutcome> {
  const problems = checkApprovalRequest({ approver: input.approver, reason: input.reason });
  if (problems.length) throw ApplicationFailure.nonRetryable(`a rollback needs to say who asks and why: ${problems.join('; ')}`, 'InvalidRollbackRequest');
  let config;
  try {
    config = parsePipelineConfig(input.config, 'pipeline config (rollback input)');
  } catch (err) {
    if (err instanceof InvalidConfigError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidConfig', err.issues);
    throw err;
  }
  const heartbeatTimeout = config.orchestration.heartbeatTimeoutSeconds * 1000;
  const registry = proxyActivities<RetrainingActivities>({ startToCloseTimeout: config.orchestration.callTimeoutSeconds * 1000, heartbeatTimeout, retry: RETRY });
  // The endpoint update waits for InService; cancelling the rollback lets the activity finish its step.
  const endpoint = proxyActivities<RetrainingActivities>({
    startToCloseTimeout: '1 day',
    heartbeatTimeout,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...RETRY, initialInterval: '5 seconds', maximumInterval: '2 minutes' },
  });

  const status: RollbackStatus = { model: config.model, stage: 'resolving', details: '', retired: null, restored: null };
  setHandler(rollbackStatusQuery, () => status);
  const enter = (stage: RollbackStage, details: string) => {
    status.stage = stage;
    status.details = details;
    upsertSearchAttributes([{ key: attributes.RetrainingStage, value: stage === 'done' ? 'done' : `rollback-${stage}` }]);
    setCurrentDetails(`**${config.model}** · rollback · **${stage}**\n\n${details}\n\nAsked by ${input.approver}: ${input.reason}`);
  };
  upsertSearchAttributes([
    { key: attributes.RetrainingModel, value: config.model },
    { key: attributes.RetrainingTrigger, value: 'manual' },
  ]);

  enter('resolving', `Finding the champion serving on ${config.endpoint.name} and the package to put back`);
  const champion = await registry.resolveChampion({ config });
  if (!champion) throw ApplicationFailure.nonRetryable(`endpoint ${config.endpoint.name} does not exist or serves nothing: there is nothing to roll back`, 'RollbackTargetInvalid');
  status.retired = champion;
  const target = await registry.rollbackTarget({ config, champion, toModelPackageArn: input.toModelPackageArn });
  status.restored = target;

  enter('restoring', `Putting model package v${target.version} back on ${config.endpoint.name} in place of v${champion.modelPackageVersion}`);
  const restored = await endpoint.rollbackEndpoint.executeWithOptions({ summary: `endpoint ${config.endpoint.name}: back to model package v${target.version}` }, [
    { config, to: { modelPackageArn: target.modelPackageArn }, requestId: workflowInfo().runId },
  ]);
  if (restored.status !== 'rolled_back') {
    throw ApplicationFailure.nonRetryable(
      `endpoint ${config.endpoint.name} did not take model package v${target.version}: ${restored.reason ?? 'no reason given'}; it still serves ${restored.servingConfig ?? 'nothing'}`,
      'RollbackFailed',
      restored,
    );
  }

  enter('retiring', `Marking model package v${champion.modelPackageVersion} Rejected in the registry, so it is not taken for the champion again`);
  await registry.recordApproval({
    modelPackageArn: champion.modelPackageArn,
    approvalStatus: 'Rejected',
    description: `rolled back: ${approvalDescription({ approved: false, approver: input.approver, reason: input.reason, source: 'update', decidedAt: new Date().toISOString() })}`,
  });
  enter('done', `Model package v${target.version} serves on ${config.endpoint.name} again; v${champion.modelPackageVersion} is retired`);
  return { model: config.model, retired: champion, restored: target, endpoint: restored };
}

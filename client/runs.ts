// Starting runs the way every starter does it (the CLI, schedules, the alert receiver, the demo): one
// workflow id per model, so at most one retraining of a model runs at a time, and the same search
// attributes, summary and details, so the Web UI shows each run's model, trigger and origin.
import type { SearchAttributePair } from '@temporalio/common';
import type { PipelineConfigInput } from '../domain/config';
import type { RetrainingInput, Trigger } from '../workflows';
import { RetrainingModel, RetrainingStage, RetrainingTrigger } from '../workflows/search-attributes';

/** The per-model workflow id: a schedule, an alert and an operator all address the same run. */
export function retrainingWorkflowId(model: string): string {
  return `retrain-${model}`;
}

export interface RunOrigin {
  trigger: Trigger;
  /** Free text: who or what started the run (an operator, a schedule id, an alarm name). */
  reason: string;
  /** Extra lines for the run's static details, e.g. the alarm's ARN and state change, or the schedule's spec. */
  details?: string[];
}

/** Workflow start options every starter shares: id, arguments, search attributes, summary and details. */
export function retrainingStartOptions(config: PipelineConfigInput & { model: string; endpoint: { name: string } }, origin: RunOrigin, input: Omit<RetrainingInput, 'config' | 'trigger' | 'reason'> = {}) {
  const args: [RetrainingInput] = [{ ...input, config, trigger: origin.trigger, reason: origin.reason }];
  return {
    workflowId: retrainingWorkflowId(config.model),
    args,
    typedSearchAttributes: [
      { key: RetrainingModel, value: config.model },
      { key: RetrainingTrigger, value: origin.trigger },
      { key: RetrainingStage, value: 'starting' },
    ] satisfies SearchAttributePair[] as SearchAttributePair[],
    staticSummary: `Retrain ${config.model} (${origin.trigger})`,
    staticDetails: [
      `**Model** ${config.model}`,
      `**Endpoint** ${config.endpoint.name}`,
      `**Trigger** ${origin.trigger}: ${origin.reason}`,
      ...(input.force ? ['**Forced**: retrains even without drift'] : []),
      ...(origin.details ?? []),
    ].join('\n\n'),
  };
}

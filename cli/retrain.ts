#!/usr/bin/env -S node --import tsx
// `retrain`: operate the retraining pipeline from a terminal. Connects to Temporal through
// @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles), so the
// same commands work against a dev server, a self-hosted cluster or Temporal Cloud.
//
// Exit codes: 0 done; 1 the operation failed or was refused (the message says why); 2 bad usage.
import { readFile } from 'node:fs/promises';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '..';
import { checkApprovalRequest } from '../domain/approval';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { approveUpdate, rejectUpdate, rollbackModel, statusQuery } from '../workflows';

class UsageError extends Error {}

async function connect(): Promise<{ client: Client; close(): Promise<void> }> {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await Connection.connect(connectionOptions);
  return { client: new Client({ connection, namespace: namespace ?? 'default' }), close: () => connection.close() };
}

function print(json: boolean, human: string, data: unknown): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** A pipeline config from a JSON file, validated before anything starts. */
async function readConfig(file: string): Promise<PipelineConfigInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --config ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${file} is not JSON: ${(err as Error).message}`);
  }
  parsePipelineConfig(parsed, file); // throws InvalidConfigError naming every bad field
  return parsed as PipelineConfigInput;
}

function decisionRequest(options: { approver: string; reason: string }) {
  const request = { approver: options.approver, reason: options.reason };
  const problems = checkApprovalRequest(request);
  if (problems.length) throw new UsageError(problems.join('; '));
  return request;
}

const program = new Command('retrain')
  .description('Operate the SageMaker retraining pipeline through Temporal.')
  .showHelpAfterError()
  .exitOverride();

program
  .command('status')
  .description("a run's stage, details and results so far (the workflow's status query)")
  .argument('<workflow-id>', 'the run, e.g. retrain-churn-propensity')
  .option('--run-id <id>', 'a particular run (default: the latest)')
  .option('--json', 'print JSON')
  .action(async (workflowId: string, options: { runId?: string; json?: boolean }) => {
    const { client, close } = await connect();
    try {
      const status = await client.workflow.getHandle(workflowId, options.runId).query(statusQuery);
      print(!!options.json, `${workflowId}: ${status.stage}${status.decision ? ` (${status.decision})` : ''}\n${status.details}`, status);
    } finally {
      await close();
    }
  });

for (const [name, update, verb] of [
  ['approve', approveUpdate, 'approved'],
  ['reject', rejectUpdate, 'rejected'],
] as const) {
  program
    .command(name)
    .description(`${name} the candidate a run is awaiting approval for (approval.mode manual); returns once the registry has it`)
    .argument('<workflow-id>', 'the run awaiting approval')
    .requiredOption('--approver <identity>', 'who decides, as the registry and the run should show it')
    .requiredOption('--reason <text>', 'why')
    .option('--run-id <id>', 'a particular run (default: the latest)')
    .option('--json', 'print JSON')
    .action(async (workflowId: string, options: { approver: string; reason: string; runId?: string; json?: boolean }) => {
      const request = decisionRequest(options);
      const { client, close } = await connect();
      try {
        const state = await client.workflow.getHandle(workflowId, options.runId).executeUpdate(update, { args: [request] });
        print(!!options.json, `model package v${state.modelPackageVersion} ${state.status === verb ? verb : state.status} (${state.modelPackageArn})`, state);
      } finally {
        await close();
      }
    });
}

program
  .command('rollback')
  .description('put the previous champion back on the endpoint (its own workflow, rollback-<model>) and retire the serving package')
  .requiredOption('--config <file>', 'the pipeline config (JSON) of the model')
  .option('--to <model-package-arn>', 'the package to put back (default: the one the serving champion replaced)')
  .requiredOption('--approver <identity>', 'who asks')
  .requiredOption('--reason <text>', 'why')
  .addOption(new Option('--task-queue <name>', 'the workers’ task queue').default(DEFAULT_TASK_QUEUE))
  .option('--json', 'print JSON')
  .action(async (options: { config: string; to?: string; approver: string; reason: string; taskQueue: string; json?: boolean }) => {
    const request = decisionRequest(options);
    const config = await readConfig(options.config);
    const model = (config as { model: string }).model;
    const { client, close } = await connect();
    try {
      const handle = await client.workflow.start(rollbackModel, {
        taskQueue: options.taskQueue,
        workflowId: `rollback-${model}`,
        args: [{ config, toModelPackageArn: options.to, ...request }],
        staticSummary: `Roll back ${model}`,
        staticDetails: `**Model** ${model}\n\n**Asked by** ${request.approver}: ${request.reason}`,
      });
      if (!options.json) process.stderr.write(`rollback ${handle.workflowId} run ${handle.firstExecutionRunId} started\n`);
      const outcome = await handle.result();
      print(
        !!options.json,
        `${model}: model package v${outcome.restored.version} serves again on ${outcome.endpoint.endpointName}; v${outcome.retired.modelPackageVersion} retired`,
        outcome,
      );
    } finally {
      await close();
    }
  });

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError || (err as Error).name === 'InvalidConfigError') {
      process.stderr.write(`retrain: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`retrain: ${describeFailure(err)}\n`);
    return 1;
  }
}

/** The message an operator needs: the workflow's own failure, the update validator's refusal. */
function describeFailure(err: unknown): string {
  if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowFailedError) {
    // The root cause carries the reason (an activity's failure sits under ActivityFailure).
    let cause: Error | undefined = err.cause;
    while (cause?.cause instanceof Error) cause = cause.cause;
    return `${err.message}: ${cause?.message ?? 'no cause given'}`;
  }
  if (err instanceof WorkflowNotFoundError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

void main(process.argv).then((code) => process.exit(code));

#!/usr/bin/env node
// `retrain`: operate the retraining pipeline from a terminal. Connects to Temporal through
// @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles), so the
// same commands work against a dev server, a self-hosted cluster or Temporal Cloud.
//
// Exit codes: 0 done; 1 the operation failed or was refused (the message says why); 2 bad usage.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Client, Connection, isGrpcServiceError, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowUpdateFailedError, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../index';
import { retrainingStartOptions, retrainingWorkflowId } from '../client/runs';
import {
  createRetrainingSchedule,
  deleteRetrainingSchedule,
  describeRetrainingSchedule,
  listRetrainingSchedules,
  pauseRetrainingSchedule,
  triggerRetrainingSchedule,
  unpauseRetrainingSchedule,
  type RetrainingScheduleView,
} from '../client/schedules';
import { checkApprovalRequest } from '../domain/approval';
import { parsePipelineConfig, type PipelineConfigInput } from '../domain/config';
import { applyConfigOverrides, readOverride } from '../domain/config-overrides';
import { RUN_STATUSES, runListQuery } from '../domain/run-filters';
import { OVERLAP_POLICIES, parseRetrainingSchedule } from '../domain/schedule-spec';
import { approveUpdate, rejectUpdate, retrainingPipeline, rollbackModel, statusQuery } from '../workflows';

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
async function readConfig(file: string): Promise<PipelineConfigInput & { model: string; endpoint: { name: string } }> {
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
  return parsed as PipelineConfigInput & { model: string; endpoint: { name: string } };
}

/** A run named by its model (`churn` is `retrain-churn`) or by its workflow id; the model's run wins if both exist. */
async function resolveRun(client: Client, ref: string, runId?: string): Promise<{ workflowId: string; description: WorkflowExecutionDescription }> {
  const candidates = ref.startsWith('retrain-') || ref.startsWith('rollback-') ? [ref] : [retrainingWorkflowId(ref), ref];
  for (const workflowId of candidates) {
    try {
      return { workflowId, description: await client.workflow.getHandle(workflowId, runId).describe() };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  throw new Error(candidates.length > 1 ? `no run of model ${ref} (${candidates[0]}) and no workflow ${ref}` : `no workflow ${ref}${runId ? ` run ${runId}` : ''}`);
}

function searchAttribute(description: { typedSearchAttributes: { getAll(): { key: { name: string }; value: unknown }[] } }, name: string): unknown {
  return description.typedSearchAttributes.getAll().find((pair) => pair.key.name === name)?.value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInteger(flag: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} ${value} is not a whole number of at least 1`);
    return Number(value);
  };
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'an operator';
  }
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
  .argument('<model|workflow-id>', 'the model (its run is retrain-<model>) or the workflow id')
  .option('--run-id <id>', 'a particular run (default: the latest)')
  .option('--json', 'print JSON')
  .action(async (ref: string, options: { runId?: string; json?: boolean }) => {
    const { client, close } = await connect();
    try {
      const { workflowId } = await resolveRun(client, ref, options.runId);
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
    .argument('<model|workflow-id>', 'the run awaiting approval: its model or workflow id')
    .requiredOption('--approver <identity>', 'who decides, as the registry and the run should show it')
    .requiredOption('--reason <text>', 'why')
    .option('--run-id <id>', 'a particular run (default: the latest)')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { approver: string; reason: string; runId?: string; json?: boolean }) => {
      const request = decisionRequest(options);
      const { client, close } = await connect();
      try {
        const { workflowId } = await resolveRun(client, ref, options.runId);
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

program
  .command('start')
  .description('start a run for the model in the config (trigger manual); refused while a run of the model is active')
  .requiredOption('--config <file>', 'the pipeline config (JSON) of the model')
  .option('--force', 'retrain even when no drift is found')
  .option('--set <key.path=value>', 'override a config field for this run, e.g. training.hyperparameters.epochs=5 (repeatable; the value is JSON or a string)', collect, [])
  .option('--reason <text>', 'why, for the run’s details (default: who started it)')
  .option('--wait', 'wait for the run to end and print its outcome')
  .addOption(new Option('--task-queue <name>', 'the workers’ task queue').default(DEFAULT_TASK_QUEUE))
  .option('--json', 'print JSON')
  .action(async (options: { config: string; force?: boolean; set: string[]; reason?: string; wait?: boolean; taskQueue: string; json?: boolean }) => {
    const file = await readConfig(options.config);
    const overrides = options.set.map(readOverride);
    const config = applyConfigOverrides(file, overrides, options.config).input as typeof file;
    const reason = options.reason?.trim() || `started by ${operator()} with retrain start`;
    const start = retrainingStartOptions(config, { trigger: 'manual', reason, details: overrides.length ? [`**Overrides** ${overrides.map((o) => `\`${o.text}\``).join(', ')}`] : [] }, { force: !!options.force });
    const { client, close } = await connect();
    try {
      let handle;
      try {
        handle = await client.workflow.start(retrainingPipeline, { ...start, taskQueue: options.taskQueue });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const active = await client.workflow.getHandle(start.workflowId).describe();
        throw new Error(
          `a run of ${config.model} is already active: ${start.workflowId} run ${active.runId} (stage ${searchAttribute(active, 'RetrainingStage') ?? 'unknown'}, trigger ${searchAttribute(active, 'RetrainingTrigger') ?? 'unknown'}, started ${active.startTime.toISOString()}); ` +
            `one retraining of a model runs at a time, so none was started. Wait for it (retrain status ${config.model}) or cancel it (retrain cancel ${config.model}).`,
        );
      }
      const started = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, trigger: 'manual', reason, force: !!options.force, overrides: overrides.map((o) => o.text) };
      if (!options.wait) {
        print(!!options.json, `started ${started.workflowId} run ${started.runId} (trigger manual${options.force ? ', forced' : ''})`, started);
        return;
      }
      if (!options.json) process.stderr.write(`started ${started.workflowId} run ${started.runId}; waiting for it to end\n`);
      const outcome = await handle.result();
      print(!!options.json, `${started.workflowId}: ${outcome.decision}: ${outcome.reason}`, { ...started, outcome });
    } finally {
      await close();
    }
  });

program
  .command('cancel')
  .description('cancel a run; it stops the SageMaker job it is waiting on before it ends')
  .argument('<model|workflow-id>', 'the model (its run is retrain-<model>) or the workflow id')
  .option('--reason <text>', 'why, recorded in the run’s history')
  .option('--wait', 'wait until the run has ended')
  .option('--json', 'print JSON')
  .action(async (ref: string, options: { reason?: string; wait?: boolean; json?: boolean }) => {
    const { client, close } = await connect();
    try {
      const { workflowId, description } = await resolveRun(client, ref);
      if (description.status.name !== 'RUNNING') {
        throw new Error(`${workflowId} run ${description.runId} is not running (${description.status.name}${description.closeTime ? ` since ${description.closeTime.toISOString()}` : ''}): nothing to cancel`);
      }
      const reason = options.reason?.trim() || `cancelled by ${operator()} with retrain cancel`;
      // The SDK's cancel() sends no reason; the service call records it in the run's history.
      await client.workflowService.requestCancelWorkflowExecution({
        namespace: client.options.namespace,
        workflowExecution: { workflowId, runId: description.runId },
        identity: client.options.identity,
        requestId: randomUUID(),
        reason,
      });
      let status = 'CANCEL_REQUESTED';
      if (options.wait) {
        const handle = client.workflow.getHandle(workflowId, description.runId);
        await handle.result().catch(() => undefined);
        status = (await handle.describe()).status.name;
      }
      print(!!options.json, `${workflowId} run ${description.runId}: ${options.wait ? status : 'cancellation requested'} (${reason})`, { workflowId, runId: description.runId, status, reason });
    } finally {
      await close();
    }
  });

program
  .command('list')
  .description('list runs (open ones first, then the most recently closed): workflow id, run id, status, stage, trigger, gate decision, start time')
  .option('--model <model>', 'only this model’s runs (RetrainingModel)')
  .addOption(new Option('--status <status>', 'only runs in this state').choices(Object.keys(RUN_STATUSES)))
  .option('--stage <stage>', 'only runs at this stage (RetrainingStage), e.g. awaiting-approval')
  .option('--trigger <trigger>', 'only runs started this way: manual, schedule or alert')
  .option('--decision <decision>', 'only runs with this gate decision: promote, reject or skipped')
  .option('--query <visibility-query>', "any visibility query, ANDed with the rest, e.g. \"DriftScore > 0.3\" (see docs/operations.md)")
  .option('--limit <n>', 'at most this many', positiveInteger('--limit'), 20)
  .option('--json', 'print JSON')
  .action(async (options: { model?: string; status?: string; stage?: string; trigger?: string; decision?: string; query?: string; limit: number; json?: boolean }) => {
    const query = runListQuery(options);
    const { client, close } = await connect();
    try {
      const runs = [];
      const listing = client.workflow.list({ query, pageSize: Math.min(options.limit, 1000) });
      for await (const run of rejectedQueryAsUsage(listing, query)) {
        runs.push({
          workflowId: run.workflowId,
          runId: run.runId,
          status: run.status.name,
          model: searchAttribute(run, 'RetrainingModel') ?? null,
          stage: searchAttribute(run, 'RetrainingStage') ?? null,
          trigger: searchAttribute(run, 'RetrainingTrigger') ?? null,
          decision: searchAttribute(run, 'GateDecision') ?? null,
          driftScore: searchAttribute(run, 'DriftScore') ?? null,
          startTime: run.startTime.toISOString(),
          closeTime: run.closeTime?.toISOString() ?? null,
        });
        if (runs.length >= options.limit) break;
      }
      const header = ['WORKFLOW ID', 'RUN ID', 'STATUS', 'STAGE', 'TRIGGER', 'DECISION', 'STARTED'];
      const rows = runs.map((r) => [r.workflowId, r.runId, r.status, String(r.stage ?? '-'), String(r.trigger ?? '-'), String(r.decision ?? '-'), r.startTime]);
      print(!!options.json, runs.length ? table([header, ...rows]) : `no runs match ${query}`, { query, runs });
    } finally {
      await close();
    }
  });

const GRPC_INVALID_ARGUMENT = 3;

/** The server refusing a --query (INVALID_ARGUMENT) is bad usage, with the server's reason. */
async function* rejectedQueryAsUsage<T>(items: AsyncIterable<T>, query: string): AsyncIterable<T> {
  try {
    yield* items;
  } catch (err) {
    const cause = (err as Error).cause;
    const grpc = isGrpcServiceError(err) ? err : isGrpcServiceError(cause) ? cause : undefined;
    if (grpc?.code === GRPC_INVALID_ARGUMENT) throw new UsageError(`the server refused the query ${query}: ${grpc.details || grpc.message}`);
    throw err;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const schedule = program.command('schedule').description('Temporal Schedules that retrain a model: one per model, retrain-schedule-<model>');

function describeView(view: RetrainingScheduleView): string {
  const lines = [
    `${view.scheduleId}: ${view.schedule}${view.paused ? ' [PAUSED]' : ''}`,
    `  catch-up window ${view.catchupWindow}, pause on failure ${view.pauseOnFailure ? 'yes' : 'no'}${view.note ? `, note: ${view.note}` : ''}`,
    `  next runs: ${view.nextRuns.slice(0, 3).join(', ') || 'none'}`,
    `  ticks taken ${view.counts.taken}, skipped while a tick ran ${view.counts.skippedOverlap}, missed past the catch-up window ${view.counts.missedCatchupWindow}`,
    ...(view.runningTicks.length ? [`  running: ${view.runningTicks.join(', ')}`] : []),
    ...view.recentTicks.map((t) => {
      const o = t.outcome;
      const outcome = !o ? t.status : o.status === 'ran' ? `ran ${o.workflowId}: ${o.decision}` : `${o.status}: ${o.reason}`;
      return `  tick ${t.scheduledAt} ${t.workflowId}: ${outcome}`;
    }),
  ];
  return lines.join('\n');
}

schedule
  .command('create')
  .description('create the model’s schedule (refused if it exists, unless --replace)')
  .requiredOption('--config <file>', 'the pipeline config (JSON) each tick runs')
  .option('--cron <expr>', 'a cron expression in Temporal’s dialect, UTC unless --timezone (repeatable)', collect, [])
  .option('--every <interval>', 'an interval like 6h, 1d or 1d/2h (every day at 02:00 UTC) (repeatable)', collect, [])
  .option('--jitter <duration>', 'start each tick up to this much later, e.g. 5m (less than the time between ticks)')
  .option('--catchup-window <duration>', 'how late a tick missed while Temporal was unavailable may still run (at least 10s; default 365d)')
  .addOption(new Option('--overlap <policy>', 'what a tick does while the previous tick’s run is active').choices(OVERLAP_POLICIES).default('skip'))
  .option('--timezone <iana>', 'time zone for cron expressions, e.g. Europe/Berlin')
  .option('--force', 'each tick retrains even without drift (default: it checks drift and retrains only on drift)')
  .option('--pause-on-failure', 'pause the schedule when a scheduled run fails')
  .option('--paused', 'create it paused')
  .option('--note <text>', 'a note shown with the schedule')
  .option('--replace', 'update the model’s existing schedule in place')
  .addOption(new Option('--task-queue <name>', 'the workers’ task queue').default(DEFAULT_TASK_QUEUE))
  .option('--json', 'print JSON')
  .action(
    async (options: {
      config: string;
      cron: string[];
      every: string[];
      jitter?: string;
      catchupWindow?: string;
      overlap: string;
      timezone?: string;
      force?: boolean;
      pauseOnFailure?: boolean;
      paused?: boolean;
      note?: string;
      replace?: boolean;
      taskQueue: string;
      json?: boolean;
    }) => {
      const config = await readConfig(options.config);
      const spec = parseRetrainingSchedule({
        model: config.model,
        cron: options.cron,
        every: options.every,
        jitter: options.jitter,
        catchupWindow: options.catchupWindow,
        overlap: options.overlap,
        timezone: options.timezone,
        force: !!options.force,
        pauseOnFailure: !!options.pauseOnFailure,
        paused: !!options.paused,
        note: options.note,
      });
      const { client, close } = await connect();
      try {
        const view = await createRetrainingSchedule(client, { config, schedule: spec, taskQueue: options.taskQueue, replace: options.replace });
        print(!!options.json, `${options.replace ? 'updated' : 'created'} ${describeView(view)}`, view);
      } finally {
        await close();
      }
    },
  );

schedule
  .command('list')
  .description('the retraining schedules')
  .option('--model <model>', 'only this model’s')
  .option('--json', 'print JSON')
  .action(async (options: { model?: string; json?: boolean }) => {
    if (options.model !== undefined) runListQuery({ model: options.model }); // the same check of the name
    const { client, close } = await connect();
    try {
      const schedules = await listRetrainingSchedules(client, options.model);
      const rows = schedules.map((s) => [s.scheduleId, s.paused ? 'paused' : 'active', s.schedule, s.nextRun ?? '-', s.lastTick ?? '-']);
      print(!!options.json, schedules.length ? table([['SCHEDULE', 'STATE', 'TIMES', 'NEXT RUN', 'LAST TICK'], ...rows]) : 'no retraining schedules', { schedules });
    } finally {
      await close();
    }
  });

schedule
  .command('describe')
  .description('a schedule’s times, policies, state, counters and recent ticks (the run each started, or why it was skipped)')
  .argument('<model>', 'the model')
  .option('--json', 'print JSON')
  .action(async (model: string, options: { json?: boolean }) => {
    const { client, close } = await connect();
    try {
      const view = await describeRetrainingSchedule(client, model);
      print(!!options.json, describeView(view), view);
    } finally {
      await close();
    }
  });

for (const [name, act, what] of [
  ['pause', pauseRetrainingSchedule, 'pause the model’s schedule: no ticks until unpaused (a running tick and its run go on)'],
  ['unpause', unpauseRetrainingSchedule, 'unpause the model’s schedule: ticks resume at the next planned time'],
] as const) {
  schedule
    .command(name)
    .description(what)
    .argument('<model>', 'the model')
    .option('--note <text>', 'why, shown with the schedule')
    .option('--json', 'print JSON')
    .action(async (model: string, options: { note?: string; json?: boolean }) => {
      const { client, close } = await connect();
      try {
        const view = await act(client, model, options.note);
        print(!!options.json, describeView(view), view);
      } finally {
        await close();
      }
    });
}

schedule
  .command('trigger')
  .description('take a tick now, under the schedule’s overlap policy (skipped while its last tick’s run is active)')
  .argument('<model>', 'the model')
  .option('--json', 'print JSON')
  .action(async (model: string, options: { json?: boolean }) => {
    const { client, close } = await connect();
    try {
      const result = await triggerRetrainingSchedule(client, model);
      print(!!options.json, result.outcome === 'started' ? `started tick ${result.tick}` : `${result.outcome}: ${result.reason}`, result);
    } finally {
      await close();
    }
  });

schedule
  .command('delete')
  .description('delete the model’s schedule (a running tick and its run go on)')
  .argument('<model>', 'the model')
  .option('--json', 'print JSON')
  .action(async (model: string, options: { json?: boolean }) => {
    const { client, close } = await connect();
    try {
      await deleteRetrainingSchedule(client, model);
      print(!!options.json, `deleted retrain-schedule-${model}`, { deleted: `retrain-schedule-${model}` });
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
    if (err instanceof UsageError || ['InvalidConfigError', 'InvalidScheduleError', 'InvalidRunFilterError'].includes((err as Error).name)) {
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

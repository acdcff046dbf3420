// `npm run demo`: the whole loop, offline, on the embedded defaults.
//   1. start Temporal (dev server + Web UI), S3 and the local SageMaker, and a worker;
//   2. train and deploy a champion (the pipeline's first run: no champion yet);
//   3. send drifted traffic through InvokeEndpoint (captured by the endpoint);
//   4. deliver newly labelled data;
//   5. run the pipeline: drift → dataset → incremental training → evaluation → gate → promotion.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../index';
import { parsePipelineConfig } from '../domain/config';
import { LINEAR_LEARNER_METRIC_DEFINITIONS } from '../local/algorithms/linear-learner/metrics';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack } from '../local/stack';
import { freePort } from '../local/temporal';
import { startEventReceiver } from '../receiver/sagemaker-events';
import { retrainingStartOptions } from '../client/runs';
import { retrainingPipeline, statusQuery, type RetrainingOutcome } from '../workflows';

const ROOT = path.resolve(__dirname, '..');
const DATA_DIR = path.join(ROOT, '.data', 'demo');

const program = new Command('demo')
  .description('Run the whole retraining loop locally: a real Temporal dev server, S3 and a local SageMaker.')
  .option('--once', 'exit when the pipeline ends instead of keeping the Web UI up')
  .option('--json', 'print one JSON object with the results on the last line of stdout')
  .parse();
const options = program.opts<{ once?: boolean; json?: boolean }>();

// Offline demo on Node 20: the AWS SDK's notice about future Node.js support is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const started = Date.now();
function say(line: string): void {
  const at = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${at}s] ${line}\n`);
}

async function main(): Promise<number> {
  // Temporal's SQLite file survives between demos (earlier runs stay visible in the UI); S3 and SageMaker start empty.
  await rm(path.join(DATA_DIR, 's3'), { recursive: true, force: true });
  await rm(path.join(DATA_DIR, 'sagemaker'), { recursive: true, force: true });
  await mkdir(DATA_DIR, { recursive: true });

  say('starting Temporal dev server, S3 (s3rver), the local SageMaker and the event receiver');
  // The local SageMaker posts its state-change events, as EventBridge would through an API destination.
  const eventPort = await freePort();
  const eventKey = randomUUID();
  const stack = await startLocalStack({
    dataDir: DATA_DIR,
    temporalDbFile: path.join(DATA_DIR, 'temporal.db'),
    buckets: [DEMO_BUCKET],
    applyToProcess: true,
    log: say,
    sageMaker: { eventTargets: [`http://127.0.0.1:${eventPort}/`], eventHeaders: { 'x-api-key': eventKey } },
  });
  let worker: ChildProcess | undefined;
  let closeReceiver = async () => {};
  const shutdown = async () => {
    await closeReceiver();
    if (worker && worker.exitCode === null) {
      worker.kill('SIGINT');
      await Promise.race([once(worker, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
      worker.kill('SIGKILL');
    }
    await stack.close();
  };
  try {
    say(`Temporal at ${stack.temporal.address}, Web UI ${stack.temporal.uiUrl}; SageMaker at ${stack.sageMakerEndpoint}; S3 at ${stack.s3Endpoint}`);
    worker = startWorker(stack.env);

    const { connectionOptions, namespace } = loadClientConnectConfig();
    const connection = await Connection.connect(connectionOptions);
    const client = new Client({ connection, namespace: namespace ?? 'default' });
    const receiver = await startEventReceiver({ client, apiKey: eventKey, port: eventPort, log: (line) => say(`  receiver: ${line}`) });
    closeReceiver = () => receiver.close();
    const s3 = new S3Client({});
    const sagemaker = new SageMakerClient({});
    const runtime = new SageMakerRuntimeClient({});
    const configInput = demoConfig({ metricDefinitions: LINEAR_LEARNER_METRIC_DEFINITIONS });
    const config = parsePipelineConfig(configInput, 'demo config');
    // The config as a file, for the retrain commands printed at the end.
    const configFile = path.join(DATA_DIR, `${config.model}.json`);
    await writeFile(configFile, `${JSON.stringify(configInput, null, 2)}\n`);

    say('delivering the first labelled data (4,000 customers before the price change)');
    await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/2026-10-01-initial.csv', Body: labelledCsv(customers('before', 4000, 1)) }));

    say('run 1: no champion yet, so the pipeline trains and deploys the first model');
    const first = await runPipeline(client, config, 'demo: train and deploy the first champion');
    if (first.outcome.decision !== 'promoted') throw new Error(`the first model was not promoted: ${first.outcome.reason}`);
    const championArtifact = first.outcome.training.at(-1)?.modelDataUrl ?? null;
    say(`champion deployed to endpoint ${config.endpoint.name} (${first.outcome.modelPackageArn})`);

    const traffic = customers('after', 1200, 2);
    say(`sending drifted traffic: ${traffic.length} customers after the price change, through InvokeEndpoint`);
    await sendTraffic(runtime, config.endpoint.name, traffic.map((c) => c.features));

    const newLabels = customers('after', 2000, 3);
    const delivered = labelledCsv([...newLabels, ...newLabels.slice(0, 5)]) + ['0,12.5,abc,3,0.1', '7,50,20,3,0.1', '1,50,20'].join('\n') + '\n';
    say('delivering newly labelled data: 2,000 customers after the price change, 5 duplicates and 3 malformed rows');
    await s3.send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/2026-11-24-after-price-change.csv', Body: delivered }));
    await new Promise((r) => setTimeout(r, 1500)); // the endpoint flushes captured traffic to S3 every second

    say('run 2: the pipeline checks the endpoint for drift and retrains if it finds it');
    const second = await runPipeline(client, config, 'demo: captured traffic after a price change');
    const outcome = second.outcome;
    const candidateJob = outcome.training.at(-1);
    let modelChannel: string | null = null;
    if (candidateJob) {
      const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: candidateJob.jobName }));
      modelChannel = job.InputDataConfig?.find((c) => c.ChannelName === 'model')?.DataSource?.S3DataSource?.S3Uri ?? null;
    }
    const metric = config.evaluation.metric;
    const summary = {
      workflowId: second.workflowId,
      runId: second.runId,
      drift: { detected: outcome.drift.detected, verdict: outcome.drift.verdict, score: outcome.drift.score, driftedFeatures: outcome.drift.driftedFeatures, reportUri: outcome.drift.reportUri },
      dataset: outcome.dataset && {
        version: outcome.dataset.versionId,
        parent: outcome.dataset.parent,
        rows: outcome.dataset.rows,
        newRows: outcome.dataset.newRows,
        duplicates: outcome.dataset.duplicates,
        quarantined: outcome.dataset.quarantined,
        quarantinedByReason: outcome.dataset.quarantinedByReason,
      },
      training: { jobNames: outcome.training.map((t) => t.jobName), incrementalFrom: modelChannel, championArtifact, noticedBy: candidateJob?.noticedBy ?? null },
      evaluation: outcome.evaluation && {
        metric,
        candidate: outcome.evaluation.candidate[metric] ?? null,
        champion: outcome.evaluation.champion?.[metric] ?? null,
        holdoutRows: outcome.evaluation.holdoutRows,
        noticedBy: outcome.evaluation.noticedBy ?? null,
      },
      gate: outcome.gate && { decision: outcome.gate.decision, reasons: outcome.gate.reasons },
      decision: outcome.decision,
      reason: outcome.reason,
      endpoint: {
        name: config.endpoint.name,
        modelPackageArn: outcome.modelPackageArn,
        deployment: outcome.deployment?.status ?? null,
        smokeTest: outcome.smokeTest && { status: outcome.smokeTest.status, rows: outcome.smokeTest.rows, mismatches: outcome.smokeTest.mismatches.length },
        servingNewModel: outcome.serving?.servingNewModel ?? false,
      },
      historyEvents: second.historyEvents,
      overheadSeconds: round(second.wallSeconds - outcome.sageMakerSeconds),
      wallSeconds: round(second.wallSeconds),
      sageMakerSeconds: round(outcome.sageMakerSeconds),
      webUi: `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${encodeURIComponent(second.workflowId)}/${second.runId}/history`,
      next: operatorNext(stack.temporal, config.model, second, path.relative(process.cwd(), configFile) || configFile),
    };

    printSummary(summary);
    printNext(summary.next, !options.once);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!options.once) {
      process.stderr.write(`\nThe Temporal Web UI stays up at ${stack.temporal.uiUrl} — press Ctrl-C to stop.\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return outcome.decision === 'promoted' ? 0 : 2;
  } finally {
    await shutdown();
  }
}

function startWorker(env: Record<string, string>): ChildProcess {
  const logFile = path.join(DATA_DIR, 'worker.log');
  const log = createWriteStream(logFile, { flags: 'w' });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, RETRAINING_JOB_POLL_MAX_SECONDS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGINT' && signal !== 'SIGKILL') say(`the worker exited (${code ?? signal}); see ${path.relative(process.cwd(), logFile)}`);
  });
  say(`worker started (pid ${child.pid}), logging to ${path.relative(process.cwd(), logFile)}`);
  return child;
}

interface PipelineRun {
  workflowId: string;
  runId: string;
  outcome: RetrainingOutcome;
  historyEvents: number;
  wallSeconds: number;
}

async function runPipeline(client: Client, config: ReturnType<typeof parsePipelineConfig>, reason: string): Promise<PipelineRun> {
  const options = retrainingStartOptions(config, { trigger: 'manual', reason });
  const workflowId = options.workflowId;
  const handle = await client.workflow.start(retrainingPipeline, { taskQueue: DEFAULT_TASK_QUEUE, ...options });
  say(`  workflow ${workflowId} run ${handle.firstExecutionRunId}`);
  let lastLine = '';
  const follow = setInterval(() => {
    handle
      .query(statusQuery)
      .then((status) => {
        const line = `  ${status.stage.padEnd(10)} ${status.details}`;
        if (line !== lastLine) {
          lastLine = line;
          say(line);
        }
      })
      .catch(() => {});
  }, 250);
  try {
    const outcome = await handle.result();
    const description = await handle.describe();
    const history = await handle.fetchHistory();
    const wallSeconds = ((description.closeTime ?? new Date()).getTime() - description.startTime.getTime()) / 1000;
    say(`  ${outcome.decision}: ${outcome.reason}`);
    return { workflowId, runId: handle.firstExecutionRunId, outcome, historyEvents: history.events?.length ?? 0, wallSeconds };
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new Error(`pipeline run failed: ${err.cause?.message ?? err.message}`);
    throw err;
  } finally {
    clearInterval(follow);
  }
}

async function sendTraffic(runtime: SageMakerRuntimeClient, endpointName: string, rows: number[][]): Promise<void> {
  const batches: number[][][] = [];
  for (let i = 0; i < rows.length; i += 6) batches.push(rows.slice(i, i + 6));
  let next = 0;
  let sent = 0;
  const sender = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      await runtime.send(
        new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: 'text/csv', Accept: 'application/json', Body: new TextEncoder().encode(batch.map((r) => r.join(',')).join('\n')) }),
      );
      sent += batch.length;
      if (sent % 300 === 0) say(`  ${sent}/${rows.length} customers scored`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, sender));
}

function printSummary(s: {
  decision: string;
  reason: string;
  drift: { detected: boolean; score: number; driftedFeatures: string[] };
  dataset: { version: string; rows: number; newRows: number; quarantined: number } | null;
  training: { jobNames: string[]; incrementalFrom: string | null; noticedBy: string | null };
  evaluation: { metric: string; candidate: number | null; champion: number | null; noticedBy: string | null } | null;
  gate: { decision: string; reasons: string[] } | null;
  endpoint: { name: string; modelPackageArn: string | null; deployment: string | null; smokeTest: { status: string; rows: number; mismatches: number } | null; servingNewModel: boolean };
  historyEvents: number;
  overheadSeconds: number;
  webUi: string;
}): void {
  const lines = [
    '',
    `Decision: ${s.decision.toUpperCase()} — ${s.reason}`,
    `  drift       ${s.drift.detected ? 'detected' : 'not detected'}, score ${s.drift.score.toFixed(2)} (${s.drift.driftedFeatures.join(', ') || 'no feature'})`,
    s.dataset ? `  dataset     ${s.dataset.version}: ${s.dataset.rows} rows, ${s.dataset.newRows} new, ${s.dataset.quarantined} quarantined` : '',
    `  training    ${s.training.jobNames.join(', ')}, warm-started from ${s.training.incrementalFrom ?? '(nothing)'}; its end noticed by ${noticed(s.training.noticedBy)}`,
    s.evaluation
      ? `  evaluation  ${s.evaluation.metric}: candidate ${fmt(s.evaluation.candidate)} vs champion ${fmt(s.evaluation.champion)}; its end noticed by ${noticed(s.evaluation.noticedBy)}`
      : '',
    ...(s.gate ? [`  gate        ${s.gate.decision}`, ...s.gate.reasons.map((r) => `              - ${r}`)] : []),
    `  endpoint    ${s.endpoint.name} → ${s.endpoint.modelPackageArn ?? '(unchanged)'}: ${s.endpoint.deployment ?? 'not deployed'}` +
      `${s.endpoint.smokeTest ? `; smoke test ${s.endpoint.smokeTest.status} on ${s.endpoint.smokeTest.rows} holdout rows (${s.endpoint.smokeTest.mismatches} differed)` : ''}; serving the new model: ${s.endpoint.servingNewModel}`,
    `  temporal    ${s.historyEvents} history events, ${s.overheadSeconds}s orchestration overhead`,
    `  web ui      ${s.webUi}`,
    '',
  ];
  process.stderr.write(lines.filter((l) => l !== '').join('\n') + '\n');
}

interface OperatorNext {
  /** Web UI pages an operator opens next. */
  ui: { label: string; url: string }[];
  /** The environment the retrain commands need to reach this dev server. */
  env: Record<string, string>;
  /** retrain commands an operator runs next, with what each does. */
  cli: { label: string; command: string }[];
}

/** The UI links and CLI commands an operator would use next, for this demo's server and model. */
function operatorNext(temporal: { uiUrl: string; namespace: string; address: string }, model: string, run: { workflowId: string; runId: string }, configFile: string): OperatorNext {
  const ns = `${temporal.uiUrl}/namespaces/${temporal.namespace}`;
  const list = (query: string) => `${ns}/workflows?query=${encodeURIComponent(query)}`;
  const retrain = 'npx tsx cli/retrain.ts';
  return {
    ui: [
      { label: 'this run: summary, details and current details', url: `${ns}/workflows/${encodeURIComponent(run.workflowId)}/${run.runId}/user-metadata` },
      { label: 'this run: event history and activity summaries', url: `${ns}/workflows/${encodeURIComponent(run.workflowId)}/${run.runId}/history` },
      { label: `every run of ${model}`, url: list(`RetrainingModel="${model}"`) },
      { label: 'runs awaiting approval', url: list(`RetrainingStage="awaiting-approval" AND ExecutionStatus="Running"`) },
      { label: 'runs with drift above 0.3', url: list('DriftScore > 0.3') },
      { label: 'schedules', url: `${ns}/schedules` },
    ],
    env: { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace },
    cli: [
      { label: 'where the latest run is', command: `${retrain} status ${model}` },
      { label: "the model's runs", command: `${retrain} list --model ${model}` },
      { label: 'retrain now, drift or not', command: `${retrain} start --config ${configFile} --force --reason "checking the new labels"` },
      { label: 'retrain daily at 02:00 UTC, skipping while a run is active', command: `${retrain} schedule create --config ${configFile} --cron "0 2 * * *" --jitter 10m` },
      { label: 'decide a run awaiting approval (approval.mode manual)', command: `${retrain} approve ${model} --approver you@example.com --reason "holdout and slices look right"` },
      { label: 'put the previous champion back', command: `${retrain} rollback --config ${configFile} --approver you@example.com --reason "new model mis-scores"` },
    ],
  };
}

function printNext(next: OperatorNext, staysUp: boolean): void {
  const lines = [
    staysUp ? 'Next, while this stays up:' : 'Next (these need the demo running: drop --once to keep it up):',
    '  Web UI',
    ...next.ui.map((u) => `    ${u.label}\n      ${u.url}`),
    `  CLI, from this folder, in another terminal with ${Object.entries(next.env).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ...next.cli.map((c) => `    ${c.label}\n      ${c.command}`),
    '',
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

function noticed(by: string | null): string {
  return by === 'event' ? "SageMaker's event" : 'polling';
}

function fmt(n: number | null): string {
  return n === null ? 'n/a' : n.toFixed(4);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

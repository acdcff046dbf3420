// The retraining pipeline: drift → dataset → train → evaluate → gate → promote.
// Deterministic orchestration only; every side effect is an activity (see activities/).
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineSignal,
  isCancellation,
  defineQuery,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetrainingActivities } from '../activities';
import type { EvaluateCandidateInput } from '../activities/evaluation';
import type { TrainCandidateInput } from '../activities/training';
import type { Champion, DatasetVersionSummary, Deployment, DriftSummary, EvaluationOutcome, ServingCheck, SmokeTestOutcome, TrainingOutcome } from '../activities/types';
import { InvalidConfigError, parsePipelineConfig, type PipelineConfig, type PipelineConfigInput } from '../domain/config';
import { approvalDescription, checkApprovalRequest, type ApprovalDecision, type ApprovalRequest, type ApprovalState } from '../domain/approval';
import { decideGate, gatePolicy, type GateDecision } from '../domain/gate';
import { clientToken, sageMakerName } from '../domain/job-names';
import { describeAttempts, nextAttempt, type AttemptRecord } from '../domain/attempt-policy';
import { isTerminalStatus, type JobStateChange, type JobType, type ModelPackageStateChange } from '../domain/sagemaker-events';
import type { AlertRecord } from '../domain/alerts';
import * as attributes from './search-attributes';

export type Trigger = 'manual' | 'schedule' | 'alert';

export interface RetrainingInput {
  config: PipelineConfigInput;
  /** Retrain even when no drift is found. */
  force?: boolean;
  trigger?: Trigger;
  /** Free text: who or what started the run (an alarm name, a schedule id, an operator). */
  reason?: string;
  /**
   * The constraint_violations.json of the Model Monitor execution that raised the alert, if any: recorded
   * beside the drift stage's own statistics, and counted as drift with config.drift.trustModelMonitor.
   */
  modelMonitorViolationsS3Uri?: string;
  /** Alerts this run starts with: those a previous run received after its data cut-off (see PreviousRun). */
  alerts?: AlertRecord[];
  /** Set on a follow-up run: the run that continued as new into this one, and how it ended. */
  previousRun?: PreviousRun;
}

/** An alert as the run recorded it. */
export interface ReceivedAlert extends AlertRecord {
  /** Workflow time it reached this run (or, if carried from a previous run, that run's id). */
  receivedAt: string;
  carriedFrom?: string;
  /** It came after the drift stage fixed its window, so this run's data does not reflect it: it queues one follow-up. */
  afterDataCutOff: boolean;
}

/** The run a follow-up continues from: its outcome stays readable here and in its own history. */
export interface PreviousRun {
  runId: string;
  decision: Decision;
  reason: string;
  modelPackageArn: string | null;
  dataCutOff: string | null;
}

export type Stage = 'starting' | 'drift' | 'dataset' | 'training' | 'evaluation' | 'gate' | 'registry' | 'awaiting-approval' | 'promotion' | 'done';
/** rolled_back: the candidate was approved but its deployment or smoke test failed, and the champion serves again. */
export type Decision = 'promoted' | 'rejected' | 'skipped' | 'rolled_back';

export interface RetrainingOutcome {
  model: string;
  decision: Decision;
  reason: string;
  champion: Champion | null;
  drift: DriftSummary;
  dataset: DatasetVersionSummary | null;
  training: TrainingOutcome[];
  evaluation: EvaluationOutcome | null;
  gate: GateDecision | null;
  /** The manual approval, when config.approval.mode is manual and the gate promoted. */
  approval: ApprovalState | null;
  modelPackageArn: string | null;
  deployment: Deployment | null;
  /** Alerts recorded on this run, deduplicated by event id and key. */
  alerts: ReceivedAlert[];
  /** The smoke test after the switch: holdout rows answered as the evaluation predicted. */
  smokeTest: SmokeTestOutcome | null;
  serving: ServingCheck | null;
  /** Seconds spent inside SageMaker jobs and endpoint updates, to tell orchestration overhead apart. */
  sageMakerSeconds: number;
}

export interface RetrainingStatus {
  model: string;
  stage: Stage;
  details: string;
  decision: Decision | null;
  drift: DriftSummary | null;
  dataset: DatasetVersionSummary | null;
  training: TrainingOutcome[];
  attempts: AttemptRecord[];
  evaluation: EvaluationOutcome | null;
  gate: GateDecision | null;
  approval: ApprovalState | null;
  /** Alerts recorded on this run, deduplicated by event id and key; those after the data cut-off queue one follow-up run. */
  alerts: ReceivedAlert[];
  /** When the drift stage fixed its window (its end); null before. */
  dataCutOff: string | null;
  previousRun: PreviousRun | null;
}

export const statusQuery = defineQuery<RetrainingStatus>('status');

/** SageMaker's "Training Job State Change" events for this run's jobs, delivered by the event receiver. */
export const trainingJobStateChanged = defineSignal<[JobStateChange]>('trainingJobStateChanged');

/** SageMaker's "Processing Job State Change" events for this run's evaluation job, delivered likewise. */
export const processingJobStateChanged = defineSignal<[JobStateChange]>('processingJobStateChanged');

/** SageMaker's "Model Package State Change" events for this run's package: a status set in Model Registry. */
export const modelPackageStateChanged = defineSignal<[ModelPackageStateChange]>('modelPackageStateChanged');

/**
 * An alert for this model (a CloudWatch alarm, a monitoring execution with violations), delivered by the
 * event receiver with signal-with-start: it starts a run, or is recorded on the one running.
 */
export const alertReceived = defineSignal<[AlertRecord]>('alertReceived');

/**
 * A person's decision on a candidate awaiting approval. The validator refuses a request without an
 * approver and a reason, or when nothing awaits approval; the update returns once the registry has it.
 */
export const approveUpdate = defineUpdate<ApprovalState, [ApprovalRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalState, [ApprovalRequest]>('reject');

/** Activity failures a retry cannot fix: SageMaker's own rejections and what our activities raise (also marked nonRetryable where thrown). */
export const NON_RETRYABLE = ['ValidationException', 'ClientError', 'ChampionChanged', 'ChampionNotApproved', 'LineageMissing', 'DeploymentFailed', 'EvaluationFailed', 'ModelMonitorFormatError', 'ModelMonitorFileMissing'];

/** The activities as this run calls them: timeouts and retries sit here, where a reader looks for them. */
function activitiesFor(config: PipelineConfig) {
  const heartbeatTimeout = config.orchestration.heartbeatTimeoutSeconds * 1000;
  return {
    // Creating a job: short, and a cancelled run waits for it to finish so the job can then be stopped.
    // Short calls heartbeat while queued for the worker's SageMaker call budget (see activities/sagemaker-call-budget.ts).
    jobStart: proxyActivities<RetrainingActivities>({
      startToCloseTimeout: config.orchestration.callTimeoutSeconds * 1000,
      heartbeatTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
    }),
    // Registry calls and lookups: short, retried with backoff.
    registry: proxyActivities<RetrainingActivities>({
      startToCloseTimeout: config.orchestration.callTimeoutSeconds * 1000,
      heartbeatTimeout,
      // No attempt cap: what a retry cannot fix leaves the activity marked non-retryable (activities/aws-failures.ts),
      // and what remains is transient. A cap would fail a run on a busy account's throttling.
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
    }),
    // Streaming over captured traffic and datasets, or waiting for the processing job that does it past
    // drift/dataset.processingJobAboveBytes: long, and they heartbeat so a dead worker is noticed within
    // the heartbeat timeout; the day is only a cap.
    dataWork: proxyActivities<RetrainingActivities>({
      startToCloseTimeout: '1 day',
      heartbeatTimeout,
      retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
    }),
    // SageMaker jobs and endpoint updates: one activity waits for the whole job, heartbeating from its poll
    // loop (no timer per poll in history). Cancelling the run stops the job before the activity reports back.
    sageMaker: proxyActivities<RetrainingActivities>({
      startToCloseTimeout: '3 days',
      heartbeatTimeout,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', nonRetryableErrorTypes: NON_RETRYABLE },
    }),
  };
}
type RunActivities = ReturnType<typeof activitiesFor>;

export async function retrainingPipeline(input: RetrainingInput): Promise<RetrainingOutcome> {
  const config = validConfig(input.config);
  const run = new RunRecord(config, input);
  const outcome = await retrain(input, config, run);
  return followUpOnLateAlerts(input, run, outcome);
}

/**
 * Alerts that came after the data cut-off describe data this run did not read: the run continues as new
 * once, into a follow-up run triggered by them. `handle.result()` follows the chain to the follow-up's
 * outcome; this run's outcome stays in its history and in the follow-up's `previousRun`. A failed run does
 * not follow up (its alerts stay on it; the next alert starts a fresh run).
 */
async function followUpOnLateAlerts(input: RetrainingInput, run: RunRecord, outcome: RetrainingOutcome): Promise<RetrainingOutcome> {
  const late = run.alerts.filter((a) => a.afterDataCutOff);
  if (late.length === 0) return outcome;
  const violations = [...late].reverse().find((a) => a.violationsS3Uri)?.violationsS3Uri;
  log.info('alerts arrived after the data cut-off; continuing as a follow-up run', { alerts: late.length });
  return continueAsNew<typeof retrainingPipeline>({
    config: input.config,
    trigger: 'alert',
    reason: `follow-up: ${late.length} alert${late.length === 1 ? '' : 's'} after the data cut-off`,
    ...(violations ? { modelMonitorViolationsS3Uri: violations } : {}),
    alerts: late.map(({ eventId, key, time, kind, source, summary, violationsS3Uri }) => ({ eventId, key, time, kind, source, summary, ...(violationsS3Uri ? { violationsS3Uri } : {}) })),
    previousRun: { runId: run.runId, decision: outcome.decision, reason: outcome.reason, modelPackageArn: outcome.modelPackageArn, dataCutOff: run.dataCutOff },
  });
}

async function retrain(input: RetrainingInput, config: PipelineConfig, run: RunRecord): Promise<RetrainingOutcome> {
  const activities = activitiesFor(config);
  const { registry, dataWork, sageMaker } = activities;

  run.enter('drift', 'Resolving the champion and comparing captured traffic with its training data');
  const champion = await registry.resolveChampion({ config });
  run.champion = champion;
  const windowEnd = run.cutOffData();
  const drift = champion
    ? await dataWork.detectDrift({ config, champion, windowEnd, modelMonitorViolationsS3Uri: input.modelMonitorViolationsS3Uri })
    : firstModel();
  run.recordDrift(drift);
  if (!drift.detected && !input.force) {
    return run.finish('skipped', drift.verdict === 'insufficient_data' ? `insufficient data: ${drift.currentCount} captured records, fewer than ${config.drift.minSamples}` : `no drift: score ${drift.score.toFixed(3)} below ${config.drift.driftShare}`);
  }

  run.enter('dataset', 'Merging newly labelled data into a new dataset version');
  const dataset = await dataWork.expandDataset({ config, champion });
  run.dataset = dataset;

  run.enter('training', champion ? `Training incrementally from ${champion.modelDataUrl}` : 'Training the first model');
  const candidate = await trainCandidate(activities, config, champion, dataset, run);

  run.enter('evaluation', 'Scoring candidate and champion on the same holdout');
  const evaluation = await evaluateCandidate(activities, run, { config, candidate, champion, dataset, jobName: run.name('eval') });
  run.recordEvaluation(evaluation);

  run.enter('gate', 'Deciding whether the candidate earns its place');
  const gate = decideGate({
    candidate: evaluation.candidate,
    champion: evaluation.champion,
    slices: evaluation.slices,
    paired: evaluation.paired,
    policy: gatePolicy(config),
  });
  run.recordGate(gate);

  const manual = gate.decision === 'promote' && config.approval.mode === 'manual';
  const approvalStatus = gate.decision === 'reject' ? 'Rejected' : manual ? 'PendingManualApproval' : 'Approved';
  run.enter('registry', `Registering the candidate as ${approvalStatus}`);
  const registered = await registry.registerCandidate({
    config,
    candidate,
    dataset,
    drift,
    evaluation,
    gate,
    approvalStatus,
    champion,
    clientToken: clientToken({ model: config.model, workflowId: run.workflowId, runId: run.runId }),
  });
  run.modelPackageArn = registered.modelPackageArn;
  if (gate.decision === 'reject') return run.finish('rejected', gate.reasons.join(' '));
  if (manual) {
    const decision = await awaitApproval(activities, run, config, registered);
    if (!decision.approved) return run.finish('rejected', `${approvalDescription(decision)} (the gate had promoted: ${gate.reasons.join(' ')})`);
  }

  // Promotion: a blue/green update SageMaker rolls back by itself on a failed health check or alarm,
  // then a smoke test that rolls back if the endpoint's answers differ from the evaluation's.
  const shift = config.endpoint.deployment.trafficRouting;
  run.enter('promotion', `Deploying model package v${registered.version} to ${config.endpoint.name} (${champion ? `blue/green, ${shift}` : 'creating the endpoint'})`);
  const deployment = await sageMaker.deployCandidate.executeWithOptions(
    { summary: `endpoint ${config.endpoint.name}: ${champion ? `blue/green update (${shift})` : 'create'} to model package v${registered.version}` },
    [{ config, modelPackageArn: registered.modelPackageArn, champion, modelName: run.name('model'), endpointConfigName: run.name('config') }],
  );
  run.deployment = deployment;
  if (deployment.status !== 'deployed') {
    return rolledBack(activities, run, registered, `the deployment did not take: ${deployment.reason ?? 'no reason given'}`, deployment.status === 'rolled_back', deployment.servingConfig);
  }
  run.enter('promotion', `Smoke test: holdout rows through InvokeEndpoint, compared with the evaluation's predictions`);
  const smoke = await sageMaker.smokeTestCandidate.executeWithOptions({ summary: `endpoint ${config.endpoint.name}: smoke test of model package v${registered.version}` }, [
    { config, dataset, predictionsUri: evaluation.predictionsUri, champion, candidateConfigName: deployment.endpointConfigName },
  ]);
  run.smokeTest = smoke;
  if (smoke.status === 'rolled_back' || smoke.status === 'failed') {
    return rolledBack(activities, run, registered, `the smoke test failed: ${smoke.reason ?? `${smoke.mismatches.length} of ${smoke.rows} rows differed`}`, smoke.status === 'rolled_back', smoke.servingConfig);
  }
  run.serving =
    smoke.status === 'passed' ? { servingNewModel: smoke.answeredBy === candidate.jobName, answeredBy: smoke.answeredBy } : await registry.verifyServing({ config, expectedTrainingJob: candidate.jobName, dataset });
  if (!run.serving.servingNewModel) {
    throw ApplicationFailure.nonRetryable(`endpoint ${config.endpoint.name} answered with ${run.serving.answeredBy ?? 'an unknown model'}, not ${candidate.jobName}`, 'PromotionNotServing');
  }
  return run.finish('promoted', gate.reasons.join(' '));
}

/**
 * A deployment that did not take: the candidate's package is marked Rejected with the reason (so no one
 * deploys it as the latest Approved one), and the run reports the rollback, or fails when nothing
 * serves (a first model that never became healthy, or a rollback that did not take).
 */
async function rolledBack(
  activities: RunActivities,
  run: RunRecord,
  registered: { modelPackageArn: string; version: number },
  why: string,
  championServes: boolean,
  servingConfig: string | null,
): Promise<RetrainingOutcome> {
  await activities.registry.recordApproval.executeWithOptions({ summary: `model package v${registered.version}: marking it Rejected after the failed deployment` }, [
    { modelPackageArn: registered.modelPackageArn, approvalStatus: 'Rejected', description: `deployment rolled back: ${why}` },
  ]);
  if (!championServes) {
    run.enter('done', `failed: ${why}; ${servingConfig ? `${servingConfig} serves` : 'nothing serves'}`);
    throw ApplicationFailure.nonRetryable(`model package v${registered.version} was not deployed: ${why}; ${servingConfig ? `endpoint config ${servingConfig} serves` : 'no model serves on the endpoint'}`, 'DeploymentFailed');
  }
  return run.finish('rolled_back', `${why}. The champion serves again (endpoint config ${servingConfig}); model package v${registered.version} is marked Rejected.`);
}

async function trainCandidate(activities: RunActivities, config: PipelineConfig, champion: Champion | null, dataset: DatasetVersionSummary, run: RunRecord): Promise<TrainingOutcome> {
  const attempts: AttemptRecord[] = [];
  let instanceType = config.training.instanceType;
  let resumeFromCheckpoint = false;
  for (let attempt = 1; ; attempt++) {
    const jobName = run.name('train', attempt);
    const startedAt = Date.now();
    let outcome: TrainingOutcome;
    let record: AttemptRecord;
    try {
      outcome = await runAttempt(activities, run, { config, champion, dataset, jobName, attempt, instanceType, resumeFromCheckpoint });
      run.recordTraining(outcome);
      if (outcome.status === 'Completed') return outcome;
      record = { jobName, attempt, instanceType, outcome: outcome.failureClass ?? 'algorithm_error', reason: outcome.failureReason ?? outcome.secondaryStatus, seconds: outcome.sageMakerSeconds };
    } catch (err) {
      // A quota is refused at create (ResourceLimitExceeded): no job exists, but a later attempt may fit.
      if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'ResourceLimitExceeded')) throw err;
      record = { jobName, attempt, instanceType, outcome: 'quota', reason: err.cause.message, seconds: (Date.now() - startedAt) / 1000 };
    }
    attempts.push(record);
    run.recordAttempt(record);
    if (record.outcome === 'stopped_by_operator') {
      // Temporal marks a run Cancelled only when the cancellation came through Temporal; a stop made in
      // SageMaker ends it with this type, which the UI and `temporal workflow list` show.
      throw ApplicationFailure.nonRetryable(
        `cancelled by an operator: training job ${jobName} was stopped outside this workflow (StopTrainingJob), so the run ends here and is not retried.\n${describeAttempts(attempts)}`,
        'CancelledByOperator',
        attempts,
      );
    }
    const next = nextAttempt(attempts, config.training);
    if (!next.retry) {
      throw ApplicationFailure.nonRetryable(`training failed after ${attempts.length} attempt(s): ${next.why}\n${describeAttempts(attempts)}`, 'TrainingFailed', attempts);
    }
    log.warn('training attempt ended early; starting a new attempt', { jobName, why: next.why });
    run.enter('training', next.why);
    if (next.backoffSeconds > 0) await sleep(next.backoffSeconds * 1000);
    instanceType = next.instanceType;
    resumeFromCheckpoint = next.resumeFromCheckpoint;
  }
}

/** One training attempt: its job, created once and waited on as every SageMaker job of the run is. */
function runAttempt(activities: RunActivities, run: RunRecord, input: TrainCandidateInput): Promise<TrainingOutcome> {
  const { registry, jobStart, sageMaker } = activities;
  const job = `training job ${input.jobName}, attempt ${input.attempt}`;
  return runSageMakerJob(run, {
    type: 'training',
    name: input.jobName,
    start: () => jobStart.startTraining.executeWithOptions({ summary: `start ${job}${input.resumeFromCheckpoint ? ', resuming from checkpoint' : ''}` }, [input]),
    poll: (start) => sageMaker.awaitTraining.executeWithOptions({ summary: `${job}: waiting for it to end` }, [start]),
    check: (start) => registry.checkTraining.executeWithOptions({ summary: `training job ${input.jobName}: SageMaker says it ended` }, [start]),
    stop: () => registry.stopTraining({ jobName: input.jobName }),
  });
}

/** The evaluation: a processing job scoring candidate and champion, waited on the same way. */
function evaluateCandidate(activities: RunActivities, run: RunRecord, input: EvaluateCandidateInput): Promise<EvaluationOutcome> {
  const { registry, jobStart, sageMaker } = activities;
  return runSageMakerJob(run, {
    type: 'processing',
    name: input.jobName,
    start: () => jobStart.startEvaluation.executeWithOptions({ summary: `start evaluation job ${input.jobName}: ${input.candidate.jobName} against ${input.champion?.trainingJobName ?? 'no champion'}` }, [input]),
    poll: (start) => sageMaker.awaitEvaluation.executeWithOptions({ summary: `evaluation job ${input.jobName}: waiting for it to end` }, [start]),
    check: (start) => registry.checkEvaluation.executeWithOptions({ summary: `evaluation job ${input.jobName}: SageMaker says it ended` }, [start]),
    stop: () => registry.stopEvaluation({ jobName: input.jobName }),
  });
}

/**
 * Waits for a person to approve or reject the registered candidate: the `approve`/`reject` Update, or a
 * status set in SageMaker Model Registry (its event, confirmed by reading the package, since events can
 * be late or duplicated). No decision by the deadline is a rejection. The decision is then written to
 * the package (ModelApprovalStatus and ApprovalDescription), unless it was made there.
 */
async function awaitApproval(
  activities: RunActivities,
  run: RunRecord,
  config: PipelineConfig,
  registered: { modelPackageArn: string; version: number; approvalStatus: string },
): Promise<ApprovalDecision> {
  const { registry } = activities;
  const arn = registered.modelPackageArn;
  const timeoutMs = config.approval.timeoutSeconds * 1000;
  const deadline = new Date(Date.now() + timeoutMs).toISOString();
  run.startApproval({ modelPackageArn: arn, modelPackageVersion: registered.version, status: 'awaiting', deadline, decision: null });
  run.enter(
    'awaiting-approval',
    `Awaiting approval of model package v${registered.version} (${arn}): approve or reject it with the run's \`approve\`/\`reject\` Update ` +
      `(retrain approve|reject), or set its status in SageMaker Model Registry. Without a decision it is rejected at ${deadline}.`,
  );
  // A retried registration can find the package already decided in the registry.
  if (registered.approvalStatus === 'Approved' || registered.approvalStatus === 'Rejected') run.notePackageEvent(arn);
  let decision: ApprovalDecision | undefined;
  while (!decision) {
    const remaining = Date.parse(deadline) - Date.now();
    const woken = remaining > 0 && (await condition(() => run.requestedDecision !== null || run.packageEventPending, remaining));
    if (run.requestedDecision) {
      decision = run.requestedDecision;
    } else if (run.packageEventPending) {
      run.packageEventPending = false;
      const current = await registry.readApproval.executeWithOptions({ summary: `model package v${registered.version}: reading the status set in Model Registry` }, [{ modelPackageArn: arn }]);
      if (current.approvalStatus !== 'PendingManualApproval') {
        decision = {
          approved: current.approvalStatus === 'Approved',
          approver: 'SageMaker Model Registry',
          reason: current.approvalDescription ?? `ModelApprovalStatus set to ${current.approvalStatus} in SageMaker Model Registry`,
          source: 'model-registry',
          decidedAt: new Date().toISOString(),
        };
      }
    } else if (!woken) {
      decision = {
        approved: false,
        approver: 'timeout',
        reason: `no approval within ${config.approval.timeoutSeconds} s (approval.timeoutSeconds)`,
        source: 'timeout',
        decidedAt: new Date().toISOString(),
      };
    }
  }
  if (decision.source !== 'model-registry') {
    await registry.recordApproval.executeWithOptions({ summary: `model package v${registered.version}: recording ${decision.approved ? 'approval' : 'rejection'}` }, [
      { modelPackageArn: arn, approvalStatus: decision.approved ? 'Approved' : 'Rejected', description: approvalDescription(decision) },
    ]);
  }
  run.finishApproval(decision);
  return decision;
}

/** A SageMaker job as the run drives it: each step is an activity. */
interface SageMakerJob<TStart, TOutcome> {
  type: JobType;
  name: string;
  /** Creates the job unless it exists. */
  start(): Promise<TStart>;
  /** Waits for the end, heartbeating; cancelled once an event's end is confirmed. */
  poll(start: TStart): Promise<TOutcome>;
  /** One Describe: the outcome if the job has ended, otherwise null. */
  check(start: TStart): Promise<TOutcome | null>;
  stop(): Promise<void>;
}

/**
 * Creates the job once, then waits for whichever comes first: the heartbeating poll noticing the end,
 * or SageMaker's state-change event, confirmed by one Describe (events can be duplicated, late or out
 * of order). A confirmed end cancels the poll. If the run is cancelled after the job may exist, the
 * job is stopped before the cancellation goes on.
 */
async function runSageMakerJob<TStart, TOutcome>(run: RunRecord, job: SageMakerJob<TStart, TOutcome>): Promise<TOutcome & { noticedBy: 'event' | 'poll' }> {
  const polling = new CancellationScope();
  let settled: { outcome: TOutcome } | { error: unknown } | undefined;
  try {
    const start = await job.start();
    polling.run(() => job.poll(start)).then(
      (outcome) => (settled = { outcome }),
      (error) => (settled = { error }),
    );
    for (;;) {
      await condition(() => settled !== undefined || run.jobEnded(job.type, job.name));
      if (settled) {
        if ('error' in settled) throw settled.error;
        return { ...settled.outcome, noticedBy: 'poll' };
      }
      const confirmed = await job.check(start);
      if (confirmed) return { ...confirmed, noticedBy: 'event' };
      run.forgetJobEnd(job.type, job.name); // a stale or out-of-order event: keep waiting
    }
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => job.stop());
    throw err;
  } finally {
    // The event won, or the confirming Describe failed: the poll is no longer needed. Its activity stops
    // the job only if it is still running (a failed run should not leave it behind).
    if (!settled) polling.cancel();
  }
}

function validConfig(input: PipelineConfigInput): PipelineConfig {
  try {
    return parsePipelineConfig(input, 'pipeline config (workflow input)');
  } catch (err) {
    if (err instanceof InvalidConfigError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidConfig', err.issues);
    throw err;
  }
}

function firstModel(): DriftSummary {
  return {
    verdict: 'no_champion',
    detected: true,
    score: 0,
    driftedFeatures: [],
    features: [],
    reportUri: null,
    htmlReportUri: null,
    statisticsUri: null,
    violationsUri: null,
    mode: null,
    currentCount: 0,
    referenceCount: 0,
    modelMonitor: null,
  };
}

/** What the run has done so far: answers the status query and keeps search attributes and UI details current. */
class RunRecord {
  readonly workflowId = workflowInfo().workflowId;
  readonly runId = workflowInfo().runId;
  stage: Stage = 'starting';
  details = '';
  champion: Champion | null = null;
  drift: DriftSummary | null = null;
  dataset: DatasetVersionSummary | null = null;
  training: TrainingOutcome[] = [];
  /** Training attempts that ended early, with their class and reason. */
  attempts: AttemptRecord[] = [];
  evaluation: EvaluationOutcome | null = null;
  gate: GateDecision | null = null;
  approval: ApprovalState | null = null;
  /** A decision made through the approve/reject Update, waiting for the run to record it. */
  requestedDecision: ApprovalDecision | null = null;
  /** A Model Registry event for the awaited package arrived and is not yet confirmed. */
  packageEventPending = false;
  modelPackageArn: string | null = null;
  deployment: Deployment | null = null;
  smokeTest: SmokeTestOutcome | null = null;
  serving: ServingCheck | null = null;
  decision: Decision | null = null;
  /** Alerts recorded on this run, in arrival order, one per event id. */
  alerts: ReceivedAlert[] = [];
  /** The drift window's end: alerts after it queue a follow-up run. */
  dataCutOff: string | null = null;
  readonly previousRun: PreviousRun | null;

  constructor(
    private readonly config: PipelineConfig,
    input: RetrainingInput,
  ) {
    upsertSearchAttributes([
      { key: attributes.RetrainingModel, value: config.model },
      { key: attributes.RetrainingTrigger, value: input.trigger ?? 'manual' },
    ]);
    this.previousRun = input.previousRun ?? null;
    for (const alert of input.alerts ?? []) this.noteAlert(alert, this.previousRun?.runId);
    // Registered before the first await, so the signal of a signal-with-start is never missed.
    setHandler(alertReceived, (alert) => this.noteAlert(alert));
    // Duplicates and late events are harmless: an ended job stays ended, and a Describe confirms it.
    setHandler(trainingJobStateChanged, (change) => this.noteJobEnd('training', change));
    setHandler(processingJobStateChanged, (change) => this.noteJobEnd('processing', change));
    setHandler(modelPackageStateChanged, (change) => this.notePackageEvent(change.modelPackageArn));
    const decide = (approved: boolean) => async (request: ApprovalRequest) => {
      this.requestedDecision = {
        approved,
        approver: request.approver.trim(),
        reason: request.reason.trim(),
        source: 'update',
        decidedAt: new Date().toISOString(),
      };
      // Answer once the decision is on the run and in the registry (or another source decided first).
      await condition(() => this.approval?.status !== 'awaiting');
      return this.approval!;
    };
    const validate = (request: ApprovalRequest) => {
      const problems = checkApprovalRequest(request);
      if (this.approval?.status !== 'awaiting' || this.requestedDecision) {
        problems.unshift(
          this.approval
            ? `model package v${this.approval.modelPackageVersion} is already ${this.requestedDecision ? (this.requestedDecision.approved ? 'being approved' : 'being rejected') : this.approval.status}`
            : `the run is at stage ${this.stage}, not awaiting approval (approval.mode ${this.config.approval.mode})`,
        );
      }
      if (problems.length) throw new Error(problems.join('; '));
    };
    setHandler(approveUpdate, decide(true), { validator: validate, description: 'Approve the candidate awaiting approval: { approver, reason }.' });
    setHandler(rejectUpdate, decide(false), { validator: validate, description: 'Reject the candidate awaiting approval: { approver, reason }.' });
    setHandler(statusQuery, () => ({
      model: this.config.model,
      stage: this.stage,
      details: this.details,
      decision: this.decision,
      drift: this.drift,
      dataset: this.dataset,
      training: this.training,
      attempts: this.attempts,
      evaluation: this.evaluation,
      gate: this.gate,
      approval: this.approval,
      alerts: this.alerts,
      dataCutOff: this.dataCutOff,
      previousRun: this.previousRun,
    }));
  }

  /**
   * Records an alert once per event id and once per key (EventBridge may deliver one event more than
   * once, and SageMaker may send one state change as several events).
   */
  private noteAlert(alert: AlertRecord, carriedFrom?: string): void {
    if (this.alerts.some((a) => a.eventId === alert.eventId || (alert.key !== undefined && a.key === alert.key))) return;
    this.alerts.push({
      ...alert,
      receivedAt: new Date().toISOString(),
      ...(carriedFrom ? { carriedFrom } : {}),
      afterDataCutOff: this.dataCutOff !== null && !carriedFrom,
    });
    // Runs from before this attribute replay without it.
    if (patched('alert-event-ids-search-attribute')) {
      upsertSearchAttributes([{ key: attributes.RetrainingAlertEventIds, value: this.alerts.slice(-attributes.ALERT_EVENT_IDS_KEPT).map((a) => a.eventId) }]);
    }
    this.publish();
  }

  /** Fixes the data cut-off (the drift window's end) and returns it. */
  cutOffData(): string {
    this.dataCutOff = new Date().toISOString();
    return this.dataCutOff;
  }

  name(kind: 'train' | 'eval' | 'model' | 'config', attempt?: number): string {
    return sageMakerName({ model: this.config.model, kind, workflowId: this.workflowId, runId: this.runId, attempt });
  }

  enter(stage: Stage, details: string): void {
    this.stage = stage;
    this.details = details;
    upsertSearchAttributes([{ key: attributes.RetrainingStage, value: stage }]);
    this.publish();
  }

  recordDrift(drift: DriftSummary): void {
    this.drift = drift;
    if (drift.verdict !== 'no_champion') upsertSearchAttributes([{ key: attributes.DriftScore, value: drift.score }]);
    this.publish();
  }

  recordTraining(outcome: TrainingOutcome): void {
    this.training.push(outcome);
    this.publish();
  }

  /** Jobs an event says have ended, until a Describe confirms or refutes it. */
  private readonly endedJobs = new Set<string>();
  private noteJobEnd(type: JobType, change: JobStateChange): void {
    if (isTerminalStatus(change.status)) this.endedJobs.add(`${type} ${change.jobName}`);
  }

  jobEnded(type: JobType, jobName: string): boolean {
    return this.endedJobs.has(`${type} ${jobName}`);
  }

  forgetJobEnd(type: JobType, jobName: string): void {
    this.endedJobs.delete(`${type} ${jobName}`);
  }

  recordAttempt(attempt: AttemptRecord): void {
    this.attempts.push(attempt);
    this.publish();
  }

  recordEvaluation(evaluation: EvaluationOutcome): void {
    this.evaluation = evaluation;
    const metric = this.config.evaluation.metric;
    const candidate = evaluation.candidate[metric];
    const champion = evaluation.champion?.[metric];
    upsertSearchAttributes([
      ...(candidate !== undefined && Number.isFinite(candidate) ? [{ key: attributes.CandidateMetric, value: candidate }] : []),
      ...(champion !== undefined && Number.isFinite(champion) ? [{ key: attributes.ChampionMetric, value: champion }] : []),
    ]);
    this.publish();
  }

  startApproval(state: ApprovalState): void {
    this.approval = state;
    this.publish();
  }

  notePackageEvent(modelPackageArn: string): void {
    if (this.approval?.status === 'awaiting' && this.approval.modelPackageArn === modelPackageArn) this.packageEventPending = true;
  }

  finishApproval(decision: ApprovalDecision): void {
    this.approval = { ...this.approval!, status: decision.approved ? 'approved' : 'rejected', decision };
    this.requestedDecision = null;
    this.publish();
  }

  recordGate(gate: GateDecision): void {
    this.gate = gate;
    upsertSearchAttributes([{ key: attributes.GateDecision, value: gate.decision }]);
    this.publish();
  }

  finish(decision: Decision, reason: string): RetrainingOutcome {
    this.decision = decision;
    this.enter('done', `${decision}: ${reason}`);
    // GateDecision tells runs apart in list filters: skipped (no drift) and rolled_back (the gate promoted,
    // the deployment did not take) beside the gate's own promote and reject.
    if (decision === 'skipped' || decision === 'rolled_back') upsertSearchAttributes([{ key: attributes.GateDecision, value: decision }]);
    const sageMakerSeconds =
      this.training.reduce((s, t) => s + t.sageMakerSeconds, 0) + (this.evaluation?.sageMakerSeconds ?? 0) + (this.deployment?.sageMakerSeconds ?? 0);
    return {
      model: this.config.model,
      decision,
      reason,
      champion: this.champion,
      drift: this.drift ?? firstModel(),
      dataset: this.dataset,
      training: this.training,
      evaluation: this.evaluation,
      gate: this.gate,
      approval: this.approval,
      modelPackageArn: this.modelPackageArn,
      deployment: this.deployment,
      smokeTest: this.smokeTest,
      serving: this.serving,
      alerts: this.alerts,
      sageMakerSeconds,
    };
  }

  /** The UI's "current details": where the run is and what it waits for. */
  private publish(): void {
    const lines = [`**${this.config.model}** · stage **${this.stage}**`, '', this.details];
    if (this.drift && this.drift.verdict !== 'no_champion') {
      lines.push('', `Drift: ${this.drift.verdict}, score ${this.drift.score.toFixed(3)}${this.drift.driftedFeatures.length ? ` (${this.drift.driftedFeatures.join(', ')})` : ''}`);
      if (this.drift.modelMonitor) lines.push(`${this.drift.modelMonitor.summary}.`);
      if (this.drift.htmlReportUri) lines.push(`Drift report: ${this.drift.htmlReportUri}`);
    }
    if (this.dataset) lines.push(`Dataset version: ${this.dataset.versionId} (${this.dataset.rows} rows, ${this.dataset.newRows} new, ${this.dataset.quarantined} quarantined)`);
    for (const t of this.training) lines.push(`Training job ${t.jobName}: ${t.status}${t.failureReason ? ` (${t.failureReason})` : ''}`);
    if (this.gate) lines.push(`Gate: ${this.gate.decision}. ${this.gate.reasons.join(' ')}`);
    if (this.approval) {
      const a = this.approval;
      lines.push(
        a.decision
          ? `Approval: ${a.status} by ${a.decision.approver} (${a.decision.source}): ${a.decision.reason}`
          : `Approval: awaiting a decision on model package v${a.modelPackageVersion} until ${a.deadline}`,
      );
    }
    if (this.deployment) {
      const d = this.deployment;
      lines.push(`Deployment: ${d.status} (${d.endpointConfigName}${d.reattached ? ', re-attached' : ''})${d.reason ? `: ${d.reason}` : ''}`);
    }
    if (this.previousRun) lines.push(`Follow-up of run ${this.previousRun.runId}, which ended ${this.previousRun.decision}: ${this.previousRun.reason}`);
    if (this.alerts.length) {
      const late = this.alerts.filter((a) => a.afterDataCutOff).length;
      lines.push(`Alerts: ${this.alerts.length} (latest: ${this.alerts[this.alerts.length - 1]!.summary})${late ? `; ${late} after the data cut-off, so one follow-up run starts when this one ends` : ''}`);
    }
    if (this.smokeTest) {
      const t = this.smokeTest;
      lines.push(`Smoke test: ${t.status}, ${t.rows} holdout rows${t.mismatches.length ? `, ${t.mismatches.length} differed (first: row ${t.mismatches[0].row}, ${t.mismatches[0].detail})` : ''}`);
    }
    // Markdown: each line its own paragraph, or the UI runs them together.
    setCurrentDetails(lines.filter((line) => line !== '').join('\n\n'));
  }
}

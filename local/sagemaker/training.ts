// Training jobs: SageMaker's CreateTrainingJob contract, run as a local container.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  Channel,
  CreateTrainingJobRequest,
  CreateTrainingJobResponse,
  DescribeTrainingJobResponse,
  ListTrainingJobsRequest,
  ListTrainingJobsResponse,
  SecondaryStatus,
} from '@aws-sdk/client-sagemaker';
import { assertValid } from './constraints';
import { containerProgram, hostPath, LocalContainer, translateArgument } from './container';
import { arnOf, assertRoleAssumable, jobLogFile, type ServiceContext } from './context';
import { resourceInUse, resourceLimitExceeded, validationError } from './errors';
import { TRAINING_JOB_STATE_CHANGE, trainingJobDetail, type TrainingJobStateChange } from './events';
import {
  ALGORITHM_ERROR_REASON,
  CAPACITY_ERROR_REASON,
  faultsFromTags,
  INTERNAL_ERROR_REASON,
  type Fault,
  type FaultKind,
  withFaultTagSeparatorsAllowed,
} from './faults';
import { parseImageUri } from './images';
import { CheckpointMirror, isNonEmptyDir, JobFailure, uploadTarGz } from './job-artifacts';
import { jobListPage } from './listing';
import { assertChannelsValid, downloadChannel, isPipeChannel, PipeChannelFeeder } from './channel-data';
import { joinKey, parseS3Uri } from './s3-objects';
import * as shapes from './shapes';
import type { TrainingJobRecord } from './store';

const DEFAULT_MAX_RUNTIME_SECONDS = 86400;
const CURRENT_HOST = 'algo-1';

type StopCause = 'Stopped' | 'MaxRuntimeExceeded' | 'MaxWaitTimeExceeded';

interface RunningTraining {
  container?: LocalContainer;
  stopCause?: StopCause;
  lifecycle?: Promise<void>;
  /** The faults this job gets (its tag's and the server's, after `xN` counting). */
  faults: Fault[];
  /** A spot interruption is under way: the container is going, and a new one will follow. */
  interrupted?: boolean;
  /** The FailureReason of an injected crash. */
  injectedFailure?: string;
  /** Ends a pause (an injected slow step) early, on stop. */
  wake?: () => void;
  /** Why feeding a Pipe channel failed (a bad augmented manifest, say): the job fails with it. */
  pipeFailure?: string;
}

export class TrainingService {
  private readonly running = new Map<string, RunningTraining>();
  private closing = false;

  constructor(private readonly ctx: ServiceContext) {}

  create(input: CreateTrainingJobRequest): CreateTrainingJobResponse {
    assertValid(shapes.CreateTrainingJob, withFaultTagSeparatorsAllowed(input));
    const name = input.TrainingJobName!;
    assertSpotSettings(input);
    assertUniqueChannels(input.InputDataConfig ?? []);
    assertChannelsValid(input);
    const tagged = faultsFromTags(input.Tags);
    const algorithm = input.AlgorithmSpecification!;
    if (!algorithm.TrainingImage) {
      throw validationError(
        algorithm.AlgorithmName
          ? `The local SageMaker runs container images only; algorithm resource ${algorithm.AlgorithmName} is not available.`
          : 'Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification.',
      );
    }
    const existing = this.ctx.store.trainingJobs.get(name);
    if (existing) {
      throw resourceInUse(
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${existing.arn})`,
      );
    }
    assertRoleAssumable(this.ctx, input.RoleArn!);
    this.assertImagePullable(algorithm.TrainingImage, input.RoleArn!);
    this.assertWithinQuota(input);

    const now = new Date();
    const record: TrainingJobRecord = {
      arn: arnOf(this.ctx, 'training-job', name),
      request: structuredClone(input),
      status: 'InProgress',
      secondaryStatus: 'Starting',
      transitions: [{ Status: 'Starting', StartTime: now, StatusMessage: 'Launching requested ML instances' }],
      creationTime: now,
      lastModifiedTime: now,
      finalMetrics: [],
    };
    this.ctx.store.trainingJobs.set(name, record);
    if (input.Tags?.length) this.ctx.store.tags.set(record.arn, structuredClone(input.Tags));
    this.publishStateChange(record);
    const runtime: RunningTraining = { faults: this.admitFaults(input, tagged) };
    this.running.set(name.toLowerCase(), runtime);
    runtime.lifecycle = this.run(record, runtime).finally(() => this.running.delete(name.toLowerCase()));
    return { TrainingJobArn: record.arn };
  }

  /** The job's faults: its tag's and the server's, less the `xN` ones already used up. */
  private admitFaults(input: CreateTrainingJobRequest, tagged: { value: string; faults: Fault[] } | undefined): Fault[] {
    const checkpointUri = input.CheckpointConfig?.S3Uri;
    const admitted: Fault[] = [];
    for (const list of [this.ctx.trainingFaults, tagged]) {
      if (list) admitted.push(...this.ctx.faultCounter.admit(list.faults, checkpointUri ?? list.value));
    }
    return admitted;
  }

  describe(input: { TrainingJobName?: string }): DescribeTrainingJobResponse {
    assertValid(shapes.DescribeTrainingJob, input);
    const record = this.ctx.store.trainingJobs.get(input.TrainingJobName!);
    // DescribeTrainingJob answers a missing job with a ValidationException, not ResourceNotFound.
    if (!record) throw validationError('Requested resource not found.');
    return this.describeRecord(record);
  }

  private describeRecord(record: TrainingJobRecord): DescribeTrainingJobResponse {
    const { Tags: _tags, ...request } = record.request;
    const end = record.trainingEndTime;
    const trainingSeconds =
      record.trainingStartTime && end ? Math.max(1, Math.round((end.getTime() - record.trainingStartTime.getTime()) / 1000)) : undefined;
    return {
      ...request,
      TrainingJobName: request.TrainingJobName,
      TrainingJobArn: record.arn,
      ModelArtifacts: record.s3ModelArtifacts ? { S3ModelArtifacts: record.s3ModelArtifacts } : undefined,
      TrainingJobStatus: record.status,
      SecondaryStatus: record.secondaryStatus,
      FailureReason: record.failureReason,
      AlgorithmSpecification: { EnableSageMakerMetricsTimeSeries: false, ...request.AlgorithmSpecification! },
      InputDataConfig: request.InputDataConfig?.map(withChannelDefaults),
      StoppingCondition: { MaxRuntimeInSeconds: DEFAULT_MAX_RUNTIME_SECONDS, ...request.StoppingCondition },
      EnableNetworkIsolation: request.EnableNetworkIsolation ?? false,
      EnableInterContainerTrafficEncryption: request.EnableInterContainerTrafficEncryption ?? false,
      EnableManagedSpotTraining: request.EnableManagedSpotTraining ?? false,
      CreationTime: record.creationTime,
      TrainingStartTime: record.trainingStartTime,
      TrainingEndTime: record.trainingEndTime,
      LastModifiedTime: record.lastModifiedTime,
      SecondaryStatusTransitions: record.transitions,
      FinalMetricDataList: record.finalMetrics.length ? record.finalMetrics : undefined,
      TrainingTimeInSeconds: trainingSeconds,
      BillableTimeInSeconds: trainingSeconds,
    };
  }

  stop(input: { TrainingJobName?: string }): Record<string, never> {
    assertValid(shapes.StopTrainingJob, input);
    const record = this.ctx.store.trainingJobs.get(input.TrainingJobName!);
    if (!record) throw validationError('Requested resource not found.');
    if (record.status !== 'InProgress') {
      throw validationError(`The request was rejected because the training job is in status ${record.status}.`);
    }
    this.beginStop(record, 'Stopped');
    return {};
  }

  list(input: ListTrainingJobsRequest): ListTrainingJobsResponse {
    assertValid(shapes.ListTrainingJobs, input);
    const { page, nextToken } = jobListPage(this.ctx.store.trainingJobs.values(), (r) => r.request.TrainingJobName!, input);
    return {
      TrainingJobSummaries: page.map((record) => ({
        TrainingJobName: record.request.TrainingJobName,
        TrainingJobArn: record.arn,
        CreationTime: record.creationTime,
        TrainingEndTime: record.trainingEndTime,
        LastModifiedTime: record.lastModifiedTime,
        TrainingJobStatus: record.status,
        SecondaryStatus: record.secondaryStatus,
      })),
      NextToken: nextToken,
    };
  }

  /** Stops every running job, including ones still downloading, and waits for the bookkeeping. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const runtimes = [...this.running.values()];
    for (const runtime of runtimes) {
      runtime.stopCause ??= 'Stopped';
      runtime.wake?.();
      void runtime.container?.stop(this.graceMs());
    }
    await Promise.all(runtimes.map((r) => r.lifecycle));
  }

  /** SageMaker's SIGTERM grace, cut short when the whole server is closing. */
  private graceMs(): number {
    return this.closing ? Math.min(this.ctx.stopGraceMs, 2000) : this.ctx.stopGraceMs;
  }

  private assertImagePullable(imageUri: string, roleArn: string): void {
    const image = parseImageUri(imageUri);
    if (!image) throw validationError('Invalid training image. Please provide a valid Amazon Elastic Container Registry path of the Docker image to run.');
    if (!this.ctx.images.lookup(image)) {
      throw validationError(
        `Cannot find repository: ${image.repository} in registry ID: ${image.registryId} Please check if your ECR repository exists and role ${roleArn} has proper pull permissions for SageMaker: ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer`,
      );
    }
  }

  /** The account quota on instances across all running training jobs. */
  private assertWithinQuota(input: CreateTrainingJobRequest): void {
    const inUse = this.ctx.store.trainingJobs
      .values()
      .filter((r) => r.status === 'InProgress' || r.status === 'Stopping')
      .reduce((sum, r) => sum + (r.request.ResourceConfig?.InstanceCount ?? 1), 0);
    const delta = input.ResourceConfig?.InstanceCount ?? 1;
    const quota = this.ctx.trainingInstanceQuota;
    if (inUse + delta > quota) {
      throw resourceLimitExceeded(
        `The account-level service limit 'Number of instances across all training jobs' is ${quota} Instances, with current utilization of ${inUse} Instances and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.`,
      );
    }
  }

  private transition(record: TrainingJobRecord, status: SecondaryStatus, message: string, terminal = false): void {
    const now = this.now(record);
    const last = record.transitions[record.transitions.length - 1];
    if (last && last.Status === status) {
      last.StatusMessage = message;
    } else {
      if (last) last.EndTime = now;
      record.transitions.push({ Status: status, StartTime: now, StatusMessage: message });
    }
    if (terminal) record.transitions[record.transitions.length - 1].EndTime = now;
    const changed = record.secondaryStatus !== status || !last || last.Status !== status;
    record.secondaryStatus = status;
    record.lastModifiedTime = now;
    // A new SecondaryStatus (every primary status change comes with one) is a state change.
    if (changed) this.publishStateChange(record);
  }

  /** "SageMaker Training Job State Change", with the job as DescribeTrainingJob would show it now. */
  private publishStateChange(record: TrainingJobRecord): void {
    if (!this.ctx.events.enabled) return;
    const detail = trainingJobDetail(this.describeRecord(record), this.ctx.store.tags.get(record.arn));
    this.ctx.events.publish<TrainingJobStateChange>(TRAINING_JOB_STATE_CHANGE, record.arn, detail);
  }

  private beginStop(record: TrainingJobRecord, cause: StopCause): void {
    const runtime = this.running.get(record.request.TrainingJobName!.toLowerCase());
    if (!runtime || runtime.stopCause) return;
    runtime.stopCause = cause;
    runtime.wake?.();
    record.status = 'Stopping';
    this.transition(record, 'Stopping', 'Stopping the training job');
    void runtime.container?.stop(this.graceMs());
  }

  private async run(record: TrainingJobRecord, runtime: RunningTraining): Promise<void> {
    const request = record.request;
    const name = request.TrainingJobName!;
    const time = this.ctx.time;
    const jobRoot = path.join(this.ctx.dataDir, 'training', name);
    const optMl = path.join(jobRoot, 'opt_ml');
    const faults = runtime.faults;
    const has = (kind: FaultKind) => faults.some((f) => f.kind === kind && f.seconds === undefined);
    const slowSeconds = faults.filter((f) => f.kind === 'slow').reduce((sum, f) => sum + f.seconds!, 0);
    // Faults that fire at a point in Training; each fires once, even across spot restarts.
    const timed = faults.filter((f) => f.seconds !== undefined && f.kind !== 'slow');
    const maxWaitSeconds = request.EnableManagedSpotTraining ? request.StoppingCondition?.MaxWaitTimeInSeconds : undefined;
    const maxWaitTimer = maxWaitSeconds
      ? setTimeout(
          () => this.beginStop(record, 'MaxWaitTimeExceeded'),
          Math.max(0, time.realMs(maxWaitSeconds) - (Date.now() - record.creationTime.getTime())),
        )
      : undefined;
    let timers: NodeJS.Timeout[] = [];
    const clearTimers = () => {
      for (const timer of timers) clearTimeout(timer);
      timers = [];
    };
    let checkpointTimer: NodeJS.Timeout | undefined;
    let checkpoints: CheckpointMirror | undefined;
    let pipes: PipeChannelFeeder[] = [];
    // Real time at which Training first began; timed faults and MaxRuntime count from it.
    let trainingSince: number | undefined;
    try {
      await rm(jobRoot, { recursive: true, force: true });
      for (let attempt = 0; ; attempt++) {
        // A spot restart gets a fresh instance: nothing local survives but what S3 holds.
        await rm(optMl, { recursive: true, force: true });
        for (const dir of ['input/config', 'input/data', 'model', 'output/data', 'code']) await mkdir(path.join(optMl, dir), { recursive: true });
        this.transition(record, 'Starting', attempt === 0 ? 'Preparing the instances for training' : 'Restarting training on a new spot instance');
        if (attempt === 0 && has('capacity-error')) throw new JobFailure(CAPACITY_ERROR_REASON);
        if (runtime.stopCause) return await this.finishStopped(record, runtime, optMl);

        this.transition(record, 'Downloading', 'Downloading input data');
        // SageMaker bills from the moment the instances are up, download included.
        record.trainingStartTime ??= this.now(record);
        if (attempt === 0 && slowSeconds > 0) await this.pause(runtime, time.realMs(slowSeconds));
        if (attempt === 0 && has('internal-error')) throw new JobFailure(INTERNAL_ERROR_REASON);
        await this.writeInputConfig(request, optMl);
        await this.downloadChannels(request, optMl);
        if (request.CheckpointConfig) {
          const localDir = hostPath(request.CheckpointConfig.LocalPath ?? '/opt/ml/checkpoints', optMl);
          checkpoints = new CheckpointMirror(this.ctx.s3, localDir, request.CheckpointConfig.S3Uri!);
          await checkpoints.restore();
        }
        if (runtime.stopCause) return await this.finishStopped(record, runtime, optMl);

        this.transition(record, 'Training', 'Downloading the training image');
        const image = parseImageUri(request.AlgorithmSpecification!.TrainingImage!)!;
        const imageEntry = this.ctx.images.entryPoint(image, 'train');
        if (!imageEntry) throw new JobFailure(`ClientError: The image ${image.uri} has no training entry point in the local image map.`);
        const program = containerProgram(imageEntry, request.AlgorithmSpecification!.ContainerEntrypoint, optMl);
        const args = request.AlgorithmSpecification!.ContainerArguments?.map((a) => translateArgument(a, optMl)) ?? ['train'];
        this.transition(record, 'Training', 'Training image download completed. Training in progress.');
        const metrics = metricMatchers(request);
        pipes = await this.startPipes(request, optMl, runtime);
        const container = await LocalContainer.start({
          entryFile: program.entryFile,
          args: [...program.leadingArgs, ...args],
          optMl,
          env: this.containerEnvironment(record, optMl),
          logFile: jobLogFile(this.ctx, name),
          onLine: (line) => this.recordMetrics(record, metrics, line),
        });
        runtime.container = container;
        trainingSince ??= Date.now();
        const since = trainingSince;
        const after = (simSeconds: number, action: () => void) =>
          timers.push(setTimeout(action, Math.max(0, time.realMs(simSeconds) - (Date.now() - since))));
        if (runtime.stopCause) void container.stop(this.graceMs());
        after(request.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS, () => this.beginStop(record, 'MaxRuntimeExceeded'));
        for (const fault of timed) after(fault.seconds!, () => this.fire(record, runtime, fault, timed));
        if (checkpoints) checkpointTimer = setInterval(() => void checkpoints!.sync(), this.ctx.checkpointSyncMs);
        const exit = await container.exited;
        await Promise.all(pipes.map((p) => p.stop()));
        clearTimers();
        clearInterval(checkpointTimer);

        if (runtime.interrupted && !runtime.stopCause) {
          // Managed spot: checkpoints go up, and training resumes from them on a new instance.
          runtime.interrupted = false;
          runtime.container = undefined;
          if (!this.closing) await checkpoints?.sync();
          continue;
        }
        record.trainingEndTime = this.now(record);
        if (!this.closing) await checkpoints?.sync();

        if (runtime.stopCause) return await this.finishStopped(record, runtime, optMl);
        if (runtime.injectedFailure) throw new JobFailure(runtime.injectedFailure);
        if (runtime.pipeFailure) throw new JobFailure(runtime.pipeFailure);
        if (exit.code !== 0) {
          throw new JobFailure(await algorithmFailureReason(optMl, container, exit.code));
        }
        this.transition(record, 'Uploading', 'Uploading generated training model');
        await this.uploadModel(record, optMl);
        if (await isNonEmptyDir(path.join(optMl, 'output', 'data'))) {
          await uploadTarGz(this.ctx.s3, path.join(optMl, 'output', 'data'), path.join(jobRoot, 'output.tar.gz'), this.outputUri(request, 'output.tar.gz'));
        }
        record.status = 'Completed';
        this.transition(record, 'Completed', 'Training job completed', true);
        return;
      }
    } catch (err) {
      clearTimers();
      clearInterval(checkpointTimer);
      await Promise.all(pipes.map((p) => p.stop()));
      record.trainingEndTime ??= this.now(record);
      if (runtime.stopCause) return await this.finishStopped(record, runtime, optMl).catch(() => undefined);
      record.status = 'Failed';
      record.failureReason = truncate(err instanceof JobFailure ? err.message : `InternalServerError: ${(err as Error).message}`, 1024);
      this.transition(record, 'Failed', 'Training job failed', true);
    } finally {
      clearTimeout(maxWaitTimer);
    }
  }

  /** A timed fault's moment in Training has come. */
  private fire(record: TrainingJobRecord, runtime: RunningTraining, fault: Fault, pending: Fault[]): void {
    const index = pending.indexOf(fault);
    if (index < 0) return;
    pending.splice(index, 1);
    if (runtime.stopCause || runtime.injectedFailure || runtime.interrupted) return;
    switch (fault.kind) {
      case 'spot-interruption':
        runtime.interrupted = true;
        this.transition(record, 'Interrupted', 'The spot instance was interrupted; training will resume on a new instance');
        void runtime.container?.stop(this.graceMs());
        return;
      case 'max-wait-exceeded':
        return this.beginStop(record, 'MaxWaitTimeExceeded');
      case 'max-runtime-exceeded':
        return this.beginStop(record, 'MaxRuntimeExceeded');
      case 'algorithm-error':
      case 'internal-error':
        // The container dies without a chance to save anything, as on a crash or a lost host.
        runtime.injectedFailure = fault.kind === 'algorithm-error' ? ALGORITHM_ERROR_REASON : INTERNAL_ERROR_REASON;
        void runtime.container?.stop(0);
        return;
      default:
        return;
    }
  }

  /** Waits, unless the job is stopped first. */
  private pause(runtime: RunningTraining, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        runtime.wake = undefined;
        resolve();
      }
      runtime.wake = done;
    });
  }

  /** The job's simulated clock (the real one at time scale 1). */
  private now(record: TrainingJobRecord): Date {
    return this.ctx.time.jobNow(record.creationTime);
  }

  /** A stopped job keeps whatever model it saved, as SageMaker uploads it on stop. */
  private async finishStopped(record: TrainingJobRecord, runtime: RunningTraining, optMl: string): Promise<void> {
    record.trainingEndTime ??= this.now(record);
    if (!this.closing && (await isNonEmptyDir(path.join(optMl, 'model')))) {
      this.transition(record, 'Uploading', 'Uploading generated training model');
      await this.uploadModel(record, optMl);
    }
    record.status = 'Stopped';
    const cause = runtime.stopCause ?? 'Stopped';
    const message =
      cause === 'MaxRuntimeExceeded'
        ? 'Training job stopped because it reached the maximum runtime'
        : cause === 'MaxWaitTimeExceeded'
          ? 'Training job stopped because it reached the maximum wait time'
          : 'Training job stopped';
    this.transition(record, cause, message, true);
  }

  private outputUri(request: CreateTrainingJobRequest, file: string): string {
    const { bucket, key } = parseS3Uri(request.OutputDataConfig!.S3OutputPath!);
    return `s3://${bucket}/${joinKey(key, request.TrainingJobName!, 'output', file)}`;
  }

  private async uploadModel(record: TrainingJobRecord, optMl: string): Promise<void> {
    const uri = this.outputUri(record.request, 'model.tar.gz');
    await uploadTarGz(this.ctx.s3, path.join(optMl, 'model'), path.join(path.dirname(optMl), 'model.tar.gz'), uri);
    record.s3ModelArtifacts = uri;
  }

  private async writeInputConfig(request: CreateTrainingJobRequest, optMl: string): Promise<void> {
    const configDir = path.join(optMl, 'input', 'config');
    const channels = Object.fromEntries(
      (request.InputDataConfig ?? []).map((c) => {
        const withDefaults = withChannelDefaults(c);
        return [
          c.ChannelName,
          {
            ...(c.ContentType ? { ContentType: c.ContentType } : {}),
            TrainingInputMode: c.InputMode ?? request.AlgorithmSpecification!.TrainingInputMode,
            S3DistributionType: withDefaults.DataSource?.S3DataSource?.S3DataDistributionType,
            RecordWrapperType: withDefaults.RecordWrapperType,
            CompressionType: withDefaults.CompressionType,
          },
        ];
      }),
    );
    const hyperparameters = Object.fromEntries(Object.entries(request.HyperParameters ?? {}).map(([k, v]) => [k, String(v)]));
    await writeFile(path.join(configDir, 'hyperparameters.json'), JSON.stringify(hyperparameters));
    await writeFile(path.join(configDir, 'inputdataconfig.json'), JSON.stringify(channels));
    await writeFile(
      path.join(configDir, 'resourceconfig.json'),
      JSON.stringify({ current_host: CURRENT_HOST, hosts: [CURRENT_HOST], network_interface_name: 'eth0' }),
    );
  }

  /** Pipe channels' FIFOs, made before the container starts and fed while it runs (channel-data.ts). */
  private async startPipes(request: CreateTrainingJobRequest, optMl: string, runtime: RunningTraining): Promise<PipeChannelFeeder[]> {
    const feeders: PipeChannelFeeder[] = [];
    for (const channel of request.InputDataConfig ?? []) {
      if (!isPipeChannel(channel, request)) continue;
      feeders.push(
        await PipeChannelFeeder.start(this.ctx.s3, channel, path.join(optMl, 'input', 'data'), (reason) => {
          runtime.pipeFailure ??= reason;
          void runtime.container?.stop(0);
        }),
      );
    }
    return feeders;
  }

  private async downloadChannels(request: CreateTrainingJobRequest, optMl: string): Promise<void> {
    for (const channel of request.InputDataConfig ?? []) {
      const source = channel.DataSource?.S3DataSource;
      if (!source) throw new JobFailure(`ClientError: Channel ${channel.ChannelName} has no S3DataSource; only S3 data sources are available locally.`);
      // Pipe channels stream while the container runs; nothing lands on the volume.
      if (isPipeChannel(channel, request)) continue;
      const dest = path.join(optMl, 'input', 'data', channel.ChannelName!);
      await mkdir(dest, { recursive: true });
      const count = await downloadChannel(this.ctx.s3, channel, dest);
      if (count === 0) {
        const { bucket } = parseS3Uri(source.S3Uri!);
        throw new JobFailure(
          `ClientError: No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. Please ensure that the bucket exists in the selected region (${this.ctx.region}), that objects exist under that S3 prefix, and that the role "${request.RoleArn}" has "s3:ListBucket" permissions on bucket "${bucket}".`,
        );
      }
    }
  }

  private containerEnvironment(record: TrainingJobRecord, optMl: string): Record<string, string> {
    const request = record.request;
    const channelNames = (request.InputDataConfig ?? []).map((c) => c.ChannelName!);
    return {
      AWS_REGION: this.ctx.region,
      TRAINING_JOB_NAME: request.TrainingJobName!,
      TRAINING_JOB_ARN: record.arn,
      SM_MODEL_DIR: path.join(optMl, 'model'),
      SM_CHANNELS: JSON.stringify(channelNames),
      ...Object.fromEntries(channelNames.map((c) => [`SM_CHANNEL_${c.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, path.join(optMl, 'input', 'data', c)])),
      SM_HPS: JSON.stringify(request.HyperParameters ?? {}),
      SM_INPUT_DIR: path.join(optMl, 'input'),
      SM_INPUT_CONFIG_DIR: path.join(optMl, 'input', 'config'),
      SM_OUTPUT_DIR: path.join(optMl, 'output'),
      SM_OUTPUT_DATA_DIR: path.join(optMl, 'output', 'data'),
      SM_CURRENT_HOST: CURRENT_HOST,
      SM_HOSTS: JSON.stringify([CURRENT_HOST]),
      ...request.Environment,
    };
  }

  private recordMetrics(record: TrainingJobRecord, matchers: { name: string; regex: RegExp }[], line: string): void {
    for (const { name, regex } of matchers) {
      const match = regex.exec(line);
      const value = match ? Number.parseFloat(match[1] ?? match[0]) : Number.NaN;
      if (!Number.isFinite(value)) continue;
      const entry = { MetricName: name, Value: value, Timestamp: this.now(record) };
      const index = record.finalMetrics.findIndex((m) => m.MetricName === name);
      if (index >= 0) record.finalMetrics[index] = entry;
      else record.finalMetrics.push(entry);
    }
  }
}

function metricMatchers(request: CreateTrainingJobRequest): { name: string; regex: RegExp }[] {
  return (request.AlgorithmSpecification?.MetricDefinitions ?? []).flatMap((d) => {
    try {
      return [{ name: d.Name!, regex: new RegExp(d.Regex!) }];
    } catch {
      return [];
    }
  });
}

function withChannelDefaults(channel: Channel): Channel {
  const s3 = channel.DataSource?.S3DataSource;
  return {
    ...channel,
    DataSource: s3 ? { ...channel.DataSource, S3DataSource: { S3DataDistributionType: 'FullyReplicated', ...s3 } } : channel.DataSource,
    CompressionType: channel.CompressionType ?? 'None',
    RecordWrapperType: channel.RecordWrapperType ?? 'None',
  };
}

function assertSpotSettings(input: CreateTrainingJobRequest): void {
  const maxWait = input.StoppingCondition?.MaxWaitTimeInSeconds;
  const maxRuntime = input.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS;
  if (!input.EnableManagedSpotTraining) {
    if (maxWait !== undefined) throw validationError('Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true');
    return;
  }
  if (maxWait === undefined || maxWait < maxRuntime) {
    throw validationError('Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds');
  }
}

function assertUniqueChannels(channels: Channel[]): void {
  const seen = new Set<string>();
  for (const channel of channels) {
    if (seen.has(channel.ChannelName!)) throw validationError(`Channel names must be unique. Duplicate channel name: ${channel.ChannelName}`);
    seen.add(channel.ChannelName!);
  }
}

/**
 * `AlgorithmError: ` plus /opt/ml/output/failure, or the last stderr lines when the algorithm wrote
 * none. A reason the algorithm already classified (`ClientError:`, `AlgorithmError:`) is kept as is.
 */
async function algorithmFailureReason(optMl: string, container: LocalContainer, code: number | null): Promise<string> {
  const failure = (await readFile(path.join(optMl, 'output', 'failure'), 'utf8').catch(() => '')).trim();
  if (/^(ClientError|AlgorithmError):/.test(failure)) return failure;
  if (failure) return `AlgorithmError: ${failure}`;
  const tail = container.recentStderr().slice(-5).join('\n').trim();
  return `AlgorithmError: ${tail || 'See job logs for more information'}, exit code: ${code ?? 'killed'}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

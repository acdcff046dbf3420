// Processing jobs: SageMaker's CreateProcessingJob contract, run as a local container.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  CreateProcessingJobRequest,
  CreateProcessingJobResponse,
  DescribeProcessingJobResponse,
  ListProcessingJobsRequest,
  ListProcessingJobsResponse,
  ProcessingInput,
} from '@aws-sdk/client-sagemaker';
import { assertValid } from './constraints';
import { containerProgram, hostPath, LocalContainer, translateArgument } from './container';
import { arnOf, assertRoleAssumable, jobLogFile, type ServiceContext } from './context';
import { resourceInUse, validationError } from './errors';
import { PROCESSING_JOB_STATE_CHANGE, processingJobDetail, type ProcessingJobStateChange } from './events';
import {
  ALGORITHM_ERROR_REASON,
  CAPACITY_ERROR_REASON,
  faultsFromTags,
  INTERNAL_ERROR_REASON,
  withFaultTagSeparatorsAllowed,
  type Fault,
  type FaultKind,
} from './faults';
import { parseImageUri } from './images';
import { JobFailure } from './job-artifacts';
import { jobListPage } from './listing';
import { downloadManifest, downloadPrefix, parseS3Uri, uploadDirectory } from './s3-objects';
import * as shapes from './shapes';
import type { ProcessingJobRecord } from './store';

const PROCESSING_ROOT = '/opt/ml/processing/';
const EXIT_MESSAGE_BYTES = 1024;
/** Processing has no spot capacity, checkpoints or max wait, so only these faults apply. */
const PROCESSING_FAULTS: FaultKind[] = ['capacity-error', 'internal-error', 'algorithm-error', 'max-runtime-exceeded', 'slow'];

interface RunningProcessing {
  container?: LocalContainer;
  stopped?: boolean;
  lifecycle?: Promise<void>;
  /** The faults this job gets, after `xN` counting. */
  faults: Fault[];
  /** The FailureReason of an injected crash. */
  injectedFailure?: string;
}

export class ProcessingService {
  private readonly running = new Map<string, RunningProcessing>();
  private closing = false;

  constructor(private readonly ctx: ServiceContext) {}

  create(input: CreateProcessingJobRequest): CreateProcessingJobResponse {
    assertValid(shapes.CreateProcessingJob, withFaultTagSeparatorsAllowed(input));
    const name = input.ProcessingJobName!;
    assertLocalPaths(input);
    const tagged = faultsFromTags(input.Tags, PROCESSING_FAULTS);
    const existing = this.ctx.store.processingJobs.get(name);
    if (existing) {
      throw resourceInUse(
        `Processing job names must be unique within an AWS account and region, and a processing job with this name already exists (${existing.arn})`,
      );
    }
    assertRoleAssumable(this.ctx, input.RoleArn!);
    const image = parseImageUri(input.AppSpecification!.ImageUri!);
    if (!image) throw validationError('Invalid image. Please provide a valid Amazon Elastic Container Registry path of the Docker image to run.');
    if (!this.ctx.images.lookup(image)) {
      throw validationError(
        `Cannot find repository: ${image.repository} in registry ID: ${image.registryId} Please check if your ECR repository exists and role ${input.RoleArn} has proper pull permissions for SageMaker: ecr:BatchCheckLayerAvailability, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer`,
      );
    }
    const now = new Date();
    const record: ProcessingJobRecord = {
      arn: arnOf(this.ctx, 'processing-job', name),
      request: structuredClone(input),
      status: 'InProgress',
      creationTime: now,
      lastModifiedTime: now,
    };
    this.ctx.store.processingJobs.set(name, record);
    if (input.Tags?.length) this.ctx.store.tags.set(record.arn, structuredClone(input.Tags));
    this.publishStateChange(record);
    const runtime: RunningProcessing = { faults: tagged ? this.ctx.faultCounter.admit(tagged.faults, tagged.value) : [] };
    this.running.set(name.toLowerCase(), runtime);
    runtime.lifecycle = this.run(record, runtime).finally(() => this.running.delete(name.toLowerCase()));
    return { ProcessingJobArn: record.arn };
  }

  describe(input: { ProcessingJobName?: string }): DescribeProcessingJobResponse {
    assertValid(shapes.DescribeProcessingJob, input);
    return this.describeRecord(this.find(input.ProcessingJobName!));
  }

  private describeRecord(record: ProcessingJobRecord): DescribeProcessingJobResponse {
    const { Tags: _tags, ...request } = record.request;
    return {
      ...request,
      ProcessingInputs: request.ProcessingInputs?.map(withInputDefaults),
      StoppingCondition: request.StoppingCondition,
      ProcessingJobArn: record.arn,
      ProcessingJobStatus: record.status,
      ExitMessage: record.exitMessage,
      FailureReason: record.failureReason,
      ProcessingStartTime: record.processingStartTime,
      ProcessingEndTime: record.processingEndTime,
      LastModifiedTime: record.lastModifiedTime,
      CreationTime: record.creationTime,
    };
  }

  stop(input: { ProcessingJobName?: string }): Record<string, never> {
    assertValid(shapes.StopProcessingJob, input);
    const record = this.find(input.ProcessingJobName!);
    if (record.status !== 'InProgress') {
      throw validationError(`The request was rejected because the processing job is in status ${record.status}.`);
    }
    const runtime = this.running.get(record.request.ProcessingJobName!.toLowerCase());
    if (runtime && !runtime.stopped) {
      runtime.stopped = true;
      record.status = 'Stopping';
      record.lastModifiedTime = new Date();
      this.publishStateChange(record);
      void runtime.container?.stop(this.graceMs());
    }
    return {};
  }

  list(input: ListProcessingJobsRequest): ListProcessingJobsResponse {
    assertValid(shapes.ListProcessingJobs, input);
    const { page, nextToken } = jobListPage(this.ctx.store.processingJobs.values(), (r) => r.request.ProcessingJobName!, input);
    return {
      ProcessingJobSummaries: page.map((record) => ({
        ProcessingJobName: record.request.ProcessingJobName,
        ProcessingJobArn: record.arn,
        CreationTime: record.creationTime,
        ProcessingEndTime: record.processingEndTime,
        LastModifiedTime: record.lastModifiedTime,
        ProcessingJobStatus: record.status,
        FailureReason: record.failureReason,
        ExitMessage: record.exitMessage,
      })),
      NextToken: nextToken,
    };
  }

  /** Stops every running job, including ones still downloading, and waits for the bookkeeping. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const runtimes = [...this.running.values()];
    for (const runtime of runtimes) {
      runtime.stopped = true;
      void runtime.container?.stop(this.graceMs());
    }
    await Promise.all(runtimes.map((r) => r.lifecycle));
  }

  /** SageMaker's SIGTERM grace, cut short when the whole server is closing. */
  private graceMs(): number {
    return this.closing ? Math.min(this.ctx.stopGraceMs, 2000) : this.ctx.stopGraceMs;
  }

  private find(name: string): ProcessingJobRecord {
    const record = this.ctx.store.processingJobs.get(name);
    if (!record) throw validationError(`Could not find requested job with name ${name}`);
    return record;
  }

  private async run(record: ProcessingJobRecord, runtime: RunningProcessing): Promise<void> {
    const request = record.request;
    const name = request.ProcessingJobName!;
    const jobRoot = path.join(this.ctx.dataDir, 'processing', name);
    const optMl = path.join(jobRoot, 'opt_ml');
    let maxRuntimeTimer: NodeJS.Timeout | undefined;
    const faultTimers: NodeJS.Timeout[] = [];
    const untimed = (kind: FaultKind) => runtime.faults.some((f) => f.kind === kind && f.seconds === undefined);
    try {
      if (untimed('capacity-error')) throw new JobFailure(CAPACITY_ERROR_REASON);
      const slowSeconds = runtime.faults.filter((f) => f.kind === 'slow').reduce((sum, f) => sum + f.seconds!, 0);
      if (slowSeconds > 0) await new Promise((resolve) => setTimeout(resolve, this.ctx.time.realMs(slowSeconds)));
      if (untimed('internal-error')) throw new JobFailure(INTERNAL_ERROR_REASON);
      await rm(jobRoot, { recursive: true, force: true });
      await mkdir(path.join(optMl, 'config'), { recursive: true });
      await mkdir(path.join(optMl, 'output'), { recursive: true });
      await this.writeConfig(record, optMl);
      for (const input of request.ProcessingInputs ?? []) await this.downloadInput(input, optMl, request.RoleArn!);
      for (const output of request.ProcessingOutputConfig?.Outputs ?? []) {
        if (output.S3Output?.LocalPath) await mkdir(hostPath(output.S3Output.LocalPath, optMl), { recursive: true });
      }
      if (runtime.stopped) return await this.finish(record, 'Stopped', optMl);

      const image = parseImageUri(request.AppSpecification!.ImageUri!)!;
      const imageEntry = this.ctx.images.entryPoint(image, 'process');
      if (!imageEntry) throw new JobFailure(`ClientError: The image ${image.uri} has no processing entry point in the local image map.`);
      const program = containerProgram(imageEntry, request.AppSpecification!.ContainerEntrypoint, optMl);
      const args = request.AppSpecification!.ContainerArguments?.map((a) => translateArgument(a, optMl)) ?? [];
      record.processingStartTime = new Date();
      record.lastModifiedTime = record.processingStartTime;
      runtime.container = await LocalContainer.start({
        entryFile: program.entryFile,
        args: [...program.leadingArgs, ...args],
        optMl,
        env: { AWS_REGION: this.ctx.region, ...request.Environment },
        logFile: jobLogFile(this.ctx, name),
      });
      if (runtime.stopped) void runtime.container.stop(this.graceMs());
      const stopForRuntime = () => {
        if (runtime.stopped || runtime.injectedFailure) return;
        runtime.stopped = true;
        record.status = 'Stopping';
        record.lastModifiedTime = new Date();
        this.publishStateChange(record);
        void runtime.container?.stop(this.graceMs());
      };
      maxRuntimeTimer = setTimeout(stopForRuntime, this.ctx.time.realMs(request.StoppingCondition?.MaxRuntimeInSeconds ?? 86400));
      for (const fault of runtime.faults) {
        if (fault.seconds === undefined || fault.kind === 'slow') continue;
        const crash = () => {
          if (runtime.stopped || runtime.injectedFailure) return;
          runtime.injectedFailure = fault.kind === 'algorithm-error' ? ALGORITHM_ERROR_REASON : INTERNAL_ERROR_REASON;
          void runtime.container?.stop(0);
        };
        faultTimers.push(setTimeout(fault.kind === 'max-runtime-exceeded' ? stopForRuntime : crash, this.ctx.time.realMs(fault.seconds)));
      }
      const exit = await runtime.container.exited;
      clearTimeout(maxRuntimeTimer);
      for (const timer of faultTimers) clearTimeout(timer);
      if (runtime.stopped) return await this.finish(record, 'Stopped', optMl);
      if (runtime.injectedFailure) throw new JobFailure(runtime.injectedFailure);
      if (exit.code !== 0) throw new JobFailure('AlgorithmError: See job logs for more information');
      if (!this.closing) {
        for (const output of request.ProcessingOutputConfig?.Outputs ?? []) {
          const s3Output = output.S3Output;
          if (s3Output?.LocalPath) await uploadDirectory(this.ctx.s3, hostPath(s3Output.LocalPath, optMl), s3Output.S3Uri!);
        }
      }
      await this.finish(record, 'Completed', optMl);
    } catch (err) {
      clearTimeout(maxRuntimeTimer);
      for (const timer of faultTimers) clearTimeout(timer);
      if (runtime.stopped) return await this.finish(record, 'Stopped', optMl);
      record.failureReason = (err instanceof JobFailure ? err.message : `InternalServerError: ${(err as Error).message}`).slice(0, 1024);
      await this.finish(record, 'Failed', optMl);
    }
  }

  /** Every terminal status carries the first KB of /opt/ml/output/message as ExitMessage. */
  private async finish(record: ProcessingJobRecord, status: 'Completed' | 'Failed' | 'Stopped', optMl: string): Promise<void> {
    const message = await readFile(path.join(optMl, 'output', 'message')).catch(() => undefined);
    if (message?.length) record.exitMessage = message.subarray(0, EXIT_MESSAGE_BYTES).toString('utf8');
    record.status = status;
    record.processingEndTime = new Date();
    record.lastModifiedTime = record.processingEndTime;
    this.publishStateChange(record);
  }

  /** "SageMaker Processing Job State Change", with the job as DescribeProcessingJob would show it now. */
  private publishStateChange(record: ProcessingJobRecord): void {
    if (!this.ctx.events.enabled) return;
    this.ctx.events.publish<ProcessingJobStateChange>(PROCESSING_JOB_STATE_CHANGE, record.arn, processingJobDetail(this.describeRecord(record)));
  }

  /** The request as the container sees it, with /opt/ml paths pointing at the local stand-in. */
  private async writeConfig(record: ProcessingJobRecord, optMl: string): Promise<void> {
    const { Tags: _tags, ...request } = record.request;
    const config = {
      ...request,
      ProcessingJobArn: record.arn,
      ProcessingInputs: request.ProcessingInputs?.map((input) => {
        const withDefaults = withInputDefaults(input);
        return withDefaults.S3Input?.LocalPath
          ? { ...withDefaults, S3Input: { ...withDefaults.S3Input, LocalPath: hostPath(withDefaults.S3Input.LocalPath, optMl) } }
          : withDefaults;
      }),
      ProcessingOutputConfig: request.ProcessingOutputConfig && {
        ...request.ProcessingOutputConfig,
        Outputs: request.ProcessingOutputConfig.Outputs?.map((output) =>
          output.S3Output?.LocalPath ? { ...output, S3Output: { ...output.S3Output, LocalPath: hostPath(output.S3Output.LocalPath, optMl) } } : output,
        ),
      },
    };
    await writeFile(path.join(optMl, 'config', 'processingjobconfig.json'), JSON.stringify(config, null, 2));
    await writeFile(
      path.join(optMl, 'config', 'resourceconfig.json'),
      JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }),
    );
  }

  private async downloadInput(input: ProcessingInput, optMl: string, roleArn: string): Promise<void> {
    const source = input.S3Input;
    if (!source) throw new JobFailure(`ClientError: Input ${input.InputName} has no S3Input; only S3 inputs are available locally.`);
    const dest = hostPath(source.LocalPath!, optMl);
    await mkdir(dest, { recursive: true });
    const count =
      source.S3DataType === 'ManifestFile' ? await downloadManifest(this.ctx.s3, source.S3Uri!, dest) : await downloadPrefix(this.ctx.s3, source.S3Uri!, dest);
    if (count === 0) {
      const { bucket } = parseS3Uri(source.S3Uri!);
      throw new JobFailure(
        `ClientError: No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. Please ensure that the bucket exists in the selected region (${this.ctx.region}), that objects exist under that S3 prefix, and that the role "${roleArn}" has "s3:ListBucket" permissions on bucket "${bucket}".`,
      );
    }
  }
}

function withInputDefaults(input: ProcessingInput): ProcessingInput {
  if (!input.S3Input) return input;
  return {
    AppManaged: false,
    ...input,
    S3Input: { S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated', S3CompressionType: 'None', ...input.S3Input },
  };
}

/** Inputs and outputs live under /opt/ml/processing/, each at its own path. */
function assertLocalPaths(input: CreateProcessingJobRequest): void {
  const seen = new Set<string>();
  const check = (localPath: string | undefined, what: string) => {
    if (localPath === undefined) throw validationError(`LocalPath is required for ${what}.`);
    if (!localPath.startsWith(PROCESSING_ROOT)) throw validationError(`LocalPath ${localPath} of ${what} must begin with ${PROCESSING_ROOT}.`);
    const normalized = localPath.replace(/\/+$/, '');
    if (seen.has(normalized)) throw validationError(`LocalPath ${localPath} of ${what} is used more than once; each input and output needs its own LocalPath.`);
    seen.add(normalized);
  };
  for (const i of input.ProcessingInputs ?? []) if (i.S3Input) check(i.S3Input.LocalPath, `input ${i.InputName}`);
  for (const o of input.ProcessingOutputConfig?.Outputs ?? []) if (o.S3Output) check(o.S3Output.LocalPath, `output ${o.OutputName}`);
}

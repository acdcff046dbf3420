// Hosting: models, endpoint configs and endpoints, served by local containers that speak the
// SageMaker inference contract (GET /ping, POST /invocations on SAGEMAKER_BIND_TO_PORT).
import http from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import type {
  ContainerDefinition,
  CreateEndpointConfigInput,
  CreateEndpointConfigOutput,
  CreateEndpointInput,
  CreateEndpointOutput,
  CreateModelInput,
  CreateModelOutput,
  DataCaptureConfig,
  DeploymentConfig,
  DescribeEndpointConfigOutput,
  DescribeEndpointOutput,
  DescribeModelOutput,
  ListEndpointsInput,
  ListEndpointsOutput,
  ProductionVariant,
  UpdateEndpointInput,
  UpdateEndpointOutput,
} from '@aws-sdk/client-sagemaker';
import { extract as extractTar } from 'tar';
import { assertValid } from './constraints';
import { LocalContainer } from './container';
import { arnOf, assertRoleAssumable, type ServiceContext } from './context';
import { DataCaptureWriter } from './data-capture';
import { modelError, runtimeValidationError, validationError } from './errors';
import { hostingFaultsFromTags, withFaultTagSeparatorsAllowed, type AlarmFault, type HostingFaults } from './faults';
import { parseImageUri } from './images';
import { listPage } from './listing';
import type { ModelRegistryService } from './model-registry';
import { downloadObject, objectExists, parseS3Uri } from './s3-objects';
import * as shapes from './shapes';
import type { EndpointRecord } from './store';

/** One container of a variant, as the model defines it once model packages are resolved. */
interface ResolvedContainer {
  hostname: string;
  image: string;
  entryFile: string;
  modelDataUrl?: string;
  environment: Record<string, string>;
}

interface ServingContainer {
  hostname: string;
  port: number;
  process: LocalContainer;
}

interface VariantDeployment {
  variantName: string;
  weight: number;
  instanceCount: number;
  /** More than one container is an inference pipeline: each output feeds the next container. */
  containers: ServingContainer[];
  /** The `invocation-errors` fault: /invocations answers 500. */
  invocationErrors: boolean;
}

interface Deployment {
  configName: string;
  variants: VariantDeployment[];
  dataCapture?: DataCaptureConfig;
  deployedImages: EndpointRecord['deployedImages'];
}

/** An UpdateEndpoint in progress: the new (green) fleet beside the serving (blue) one. */
interface Rollout {
  configName: string;
  /** Set once every green container answers /ping. */
  green?: Deployment;
  /** The share of traffic the green fleet takes, 0..1. */
  greenShare: number;
  /** Requests routed since the share last changed, and how many went to green. */
  routed: { total: number; green: number };
  phase: 'Creating' | 'ActivatingTraffic' | 'Baking';
  phaseStart: Date;
  startTime: Date;
  /** Why the rollout must stop now (DeleteEndpoint, server shutdown). */
  abandoned?: string;
}

interface EndpointRuntime {
  active?: Deployment;
  rollout?: Rollout;
  /** The deploy, update or delete in progress, so operations on one endpoint never overlap. */
  operation?: Promise<void>;
}

class DeploymentFailure extends Error {}

/** SageMaker's wording when a rollout is rolled back; see docs/local-sagemaker.md (unverified texts). */
const alarmRollbackReason = (alarms: string[]) =>
  `Deployment was rolled back because the following CloudWatch alarm(s) went into ALARM state: ${alarms.join(', ')}.`;
const timeoutRollbackReason = (seconds: number) =>
  `Deployment was rolled back because it did not complete within MaximumExecutionTimeoutInSeconds (${seconds} seconds).`;

export interface InvocationRequest {
  endpointName: string;
  body: Buffer;
  contentType?: string;
  accept?: string;
  customAttributes?: string;
  targetVariant?: string;
  inferenceId?: string;
}

export interface InvocationResult {
  body: Buffer;
  contentType?: string;
  invokedVariant: string;
  customAttributes?: string;
}

const PING_INTERVAL_MS = 100;
/** How often a rollout looks at its alarms and deadline while it waits. */
const WATCH_INTERVAL_MS = 25;
const INVOCATION_TIMEOUT_MS = 60_000;

export class HostingService {
  private readonly runtimes = new Map<string, EndpointRuntime>();
  /** Alarm states set through setAlarmState (there is no local CloudWatch). */
  private readonly alarmStates = new Map<string, 'OK' | 'ALARM'>();
  private deploymentSequence = 0;
  private closing = false;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly registry: ModelRegistryService,
    private readonly capture: DataCaptureWriter,
  ) {}

  // ---- Models ---------------------------------------------------------------------------------

  async createModel(input: CreateModelInput): Promise<CreateModelOutput> {
    assertValid(shapes.CreateModel, withFaultTagSeparatorsAllowed(input));
    hostingFaultsFromTags(input.Tags);
    const name = input.ModelName!;
    const arn = arnOf(this.ctx, 'model', name);
    if (this.ctx.store.models.has(name)) throw validationError(`Cannot create already existing model "${arn}".`);
    const containers = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
    if (containers.length === 0) throw validationError('Either PrimaryContainer or Containers must be specified.');
    if (input.PrimaryContainer && input.Containers?.length) throw validationError('PrimaryContainer and Containers cannot both be specified.');
    if (input.ExecutionRoleArn) assertRoleAssumable(this.ctx, input.ExecutionRoleArn);
    const resolved = containers.map((c, i) => this.resolveContainer(c, i, containers.length));
    for (const container of resolved) {
      if (container.modelDataUrl && !(await objectExists(this.ctx.s3, parseS3Uri(container.modelDataUrl)))) {
        throw validationError(`Could not find model data at ${container.modelDataUrl}.`);
      }
    }
    if (this.ctx.store.models.has(name)) throw validationError(`Cannot create already existing model "${arn}".`);
    this.ctx.store.models.set(name, { arn, request: structuredClone(input), creationTime: new Date() });
    if (input.Tags?.length) this.ctx.store.tags.set(arn, structuredClone(input.Tags));
    return { ModelArn: arn };
  }

  describeModel(input: { ModelName?: string }): DescribeModelOutput {
    assertValid(shapes.DescribeModel, input);
    const model = this.findModel(input.ModelName!);
    const { Tags: _tags, ...request } = model.request;
    return { ...request, ModelArn: model.arn, CreationTime: model.creationTime, EnableNetworkIsolation: request.EnableNetworkIsolation ?? false };
  }

  deleteModel(input: { ModelName?: string }): Record<string, never> {
    assertValid(shapes.DeleteModel, input);
    const model = this.findModel(input.ModelName!);
    this.ctx.store.models.delete(input.ModelName!);
    this.ctx.store.tags.delete(model.arn);
    return {};
  }

  // ---- Endpoint configs -----------------------------------------------------------------------

  createEndpointConfig(input: CreateEndpointConfigInput): CreateEndpointConfigOutput {
    assertValid(shapes.CreateEndpointConfig, withFaultTagSeparatorsAllowed(input));
    hostingFaultsFromTags(input.Tags);
    const name = input.EndpointConfigName!;
    const arn = arnOf(this.ctx, 'endpoint-config', name);
    if (this.ctx.store.endpointConfigs.has(name)) throw validationError(`Cannot create already existing endpoint configuration "${arn}".`);
    const variantNames = new Set<string>();
    for (const variant of input.ProductionVariants!) {
      if (variantNames.has(variant.VariantName!)) throw validationError(`Production variant names must be unique. Duplicate name: ${variant.VariantName}`);
      variantNames.add(variant.VariantName!);
      if (!variant.ModelName) throw validationError(`ModelName is required for production variant ${variant.VariantName}.`);
      this.findModel(variant.ModelName);
    }
    this.ctx.store.endpointConfigs.set(name, { arn, request: structuredClone(input), creationTime: new Date() });
    if (input.Tags?.length) this.ctx.store.tags.set(arn, structuredClone(input.Tags));
    return { EndpointConfigArn: arn };
  }

  describeEndpointConfig(input: { EndpointConfigName?: string }): DescribeEndpointConfigOutput {
    assertValid(shapes.DescribeEndpointConfig, input);
    const config = this.findEndpointConfig(input.EndpointConfigName!);
    const { Tags: _tags, ...request } = config.request;
    return {
      ...request,
      ProductionVariants: request.ProductionVariants!.map((v) => ({ InitialVariantWeight: 1, ...v })),
      DataCaptureConfig: request.DataCaptureConfig && { EnableCapture: true, ...request.DataCaptureConfig },
      EndpointConfigArn: config.arn,
      CreationTime: config.creationTime,
    };
  }

  deleteEndpointConfig(input: { EndpointConfigName?: string }): Record<string, never> {
    assertValid(shapes.DeleteEndpointConfig, input);
    const config = this.findEndpointConfig(input.EndpointConfigName!);
    this.ctx.store.endpointConfigs.delete(input.EndpointConfigName!);
    this.ctx.store.tags.delete(config.arn);
    return {};
  }

  // ---- Endpoints ------------------------------------------------------------------------------

  createEndpoint(input: CreateEndpointInput): CreateEndpointOutput {
    assertValid(shapes.CreateEndpoint, input);
    const name = input.EndpointName!;
    const arn = arnOf(this.ctx, 'endpoint', name);
    if (this.ctx.store.endpoints.has(name)) throw validationError(`Cannot create already existing endpoint "${arn}".`);
    const config = this.findEndpointConfig(input.EndpointConfigName!);
    for (const variant of config.request.ProductionVariants!) this.findModel(variant.ModelName!);
    const now = new Date();
    const record: EndpointRecord = {
      arn,
      name,
      configName: config.request.EndpointConfigName!,
      status: 'Creating',
      creationTime: now,
      lastModifiedTime: now,
      lastDeploymentConfig: input.DeploymentConfig,
      deployedImages: {},
    };
    this.ctx.store.endpoints.set(name, record);
    if (input.Tags?.length) this.ctx.store.tags.set(arn, structuredClone(input.Tags));
    const runtime: EndpointRuntime = {};
    this.runtimes.set(name.toLowerCase(), runtime);
    runtime.operation = this.deploy(record, record.configName)
      .then((deployment) => {
        runtime.active = deployment;
        record.deployedImages = deployment.deployedImages;
        record.status = 'InService';
      })
      .catch((err: Error) => {
        record.status = 'Failed';
        record.failureReason = err.message;
      })
      .finally(() => {
        record.lastModifiedTime = new Date();
      });
    return { EndpointArn: arn };
  }

  /**
   * Blue/green: the new config's containers start next to the serving ones; traffic moves only once
   * they answer /ping, in the steps the DeploymentConfig asks for (ALL_AT_ONCE, CANARY, LINEAR), each
   * followed by its wait, then the final baking period, with the auto-rollback alarms watched
   * throughout; then the old ones stop. A failed health check, an alarm in ALARM or the maximum
   * execution timeout rolls all traffic back: the endpoint ends InService on the old config, with the
   * reason in FailureReason, as SageMaker's rollback does.
   */
  updateEndpoint(input: UpdateEndpointInput): UpdateEndpointOutput {
    assertValid(shapes.UpdateEndpoint, input);
    const record = this.findEndpoint(input.EndpointName!);
    if (record.status !== 'InService') throw validationError(`Cannot update in-progress endpoint "${record.arn}".`);
    const config = this.findEndpointConfig(input.EndpointConfigName!);
    for (const variant of config.request.ProductionVariants!) this.findModel(variant.ModelName!);
    const deploymentConfig = input.DeploymentConfig ?? (input.RetainDeploymentConfig ? record.lastDeploymentConfig : undefined);
    if (deploymentConfig) checkDeploymentConfig(deploymentConfig, this.findEndpointConfig(record.configName).request, config.request);
    const runtime = this.runtimes.get(record.name.toLowerCase())!;
    const now = new Date();
    record.status = 'Updating';
    record.pendingConfigName = config.request.EndpointConfigName!;
    record.failureReason = undefined;
    record.lastModifiedTime = now;
    record.lastDeploymentConfig = deploymentConfig;
    const rollout: Rollout = { configName: record.pendingConfigName, greenShare: 0, routed: { total: 0, green: 0 }, phase: 'Creating', phaseStart: now, startTime: now };
    runtime.rollout = rollout;
    runtime.operation = this.rollOut(record, runtime, rollout, deploymentConfig)
      .catch((err: Error) => {
        record.failureReason = err.message;
      })
      .finally(() => {
        runtime.rollout = undefined;
        // A DeleteEndpoint that abandoned the rollout owns the status from here.
        if (record.status === 'Updating') record.status = 'InService';
        record.pendingConfigName = undefined;
        record.lastModifiedTime = new Date();
      });
    return { EndpointArn: record.arn };
  }

  /** Puts a named alarm into ALARM or back to OK, as CloudWatch would; rollouts watching it react within 25 ms. */
  setAlarmState(alarmName: string, state: 'OK' | 'ALARM'): void {
    this.alarmStates.set(alarmName, state);
  }

  private async rollOut(record: EndpointRecord, runtime: EndpointRuntime, rollout: Rollout, deploymentConfig: DeploymentConfig | undefined): Promise<void> {
    const policy = deploymentConfig?.BlueGreenUpdatePolicy;
    const routing = policy?.TrafficRoutingConfiguration;
    const watched = (deploymentConfig?.AutoRollbackConfiguration?.Alarms ?? []).map((a) => a.AlarmName!);
    const alarmFaults = this.alarmFaultsOf(rollout.configName);
    const deadline = policy?.MaximumExecutionTimeoutInSeconds;
    const green = await this.deploy(record, rollout.configName);
    try {
      if (rollout.abandoned) throw new DeploymentFailure(rollout.abandoned);
      rollout.green = green;
      const trafficStart = new Date();
      const instanceCount = green.variants[0]?.instanceCount ?? 1;
      const steps = trafficSteps(routing?.Type ?? 'ALL_AT_ONCE', routing?.CanarySize ?? routing?.LinearStepSize, instanceCount);
      for (const [index, share] of steps.entries()) {
        const last = index === steps.length - 1;
        rollout.greenShare = share;
        rollout.routed = { total: 0, green: 0 };
        rollout.phase = last ? 'Baking' : 'ActivatingTraffic';
        rollout.phaseStart = new Date();
        const waitSeconds = last ? (policy?.TerminationWaitInSeconds ?? 0) : (routing?.WaitIntervalInSeconds ?? 0);
        await this.watch(rollout, waitSeconds, { watched, alarmFaults, trafficStart, deadline });
      }
    } catch (err) {
      rollout.greenShare = 0;
      rollout.green = undefined;
      await this.stopDeployment(green);
      throw err;
    }
    const retired = runtime.active;
    runtime.active = green;
    record.configName = green.configName;
    record.deployedImages = green.deployedImages;
    await this.stopDeployment(retired);
  }

  /**
   * Waits `seconds` of simulated time with traffic where it is, looking at the watched alarms and the
   * rollout's deadline. Throws (so the rollout rolls back) as soon as one trips.
   */
  private async watch(
    rollout: Rollout,
    seconds: number,
    opts: { watched: string[]; alarmFaults: AlarmFault[]; trafficStart: Date; deadline?: number },
  ): Promise<void> {
    const until = Date.now() + this.ctx.time.realMs(seconds);
    for (;;) {
      if (rollout.abandoned || this.closing) throw new DeploymentFailure(rollout.abandoned ?? 'The local SageMaker is shutting down.');
      const elapsedSinceTraffic = ((Date.now() - opts.trafficStart.getTime()) / 1000) * this.ctx.time.scale;
      const inAlarm = opts.watched.filter(
        (name) => this.alarmStates.get(name) === 'ALARM' || opts.alarmFaults.some((f) => f.alarmName === name && elapsedSinceTraffic >= f.seconds),
      );
      if (inAlarm.length > 0) throw new DeploymentFailure(alarmRollbackReason(inAlarm));
      const elapsedSinceStart = ((Date.now() - rollout.startTime.getTime()) / 1000) * this.ctx.time.scale;
      if (opts.deadline !== undefined && elapsedSinceStart > opts.deadline) throw new DeploymentFailure(timeoutRollbackReason(opts.deadline));
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(WATCH_INTERVAL_MS, left)));
    }
  }

  /** Alarm faults on the config's tags and on the tags of every model it deploys. */
  private alarmFaultsOf(configName: string): AlarmFault[] {
    const config = this.findEndpointConfig(configName);
    const models = config.request.ProductionVariants!.map((v) => this.findModel(v.ModelName!));
    return [config.request.Tags, ...models.map((m) => m.request.Tags)].flatMap((tags) => hostingFaultsFromTags(tags)?.alarms ?? []);
  }

  describeEndpoint(input: { EndpointName?: string }): DescribeEndpointOutput {
    assertValid(shapes.DescribeEndpoint, input);
    const record = this.findEndpoint(input.EndpointName!);
    const runtime = this.runtimes.get(record.name.toLowerCase());
    const active = runtime?.active;
    const rollout = runtime?.rollout;
    const capture = active?.dataCapture;
    const blueShare = 1 - (rollout?.greenShare ?? 0);
    return {
      EndpointName: record.name,
      EndpointArn: record.arn,
      EndpointConfigName: record.configName,
      ProductionVariants: active?.variants.map((v) => ({
        VariantName: v.variantName,
        DeployedImages: record.deployedImages[v.variantName],
        CurrentWeight: v.weight * blueShare,
        DesiredWeight: v.weight,
        CurrentInstanceCount: v.instanceCount,
        DesiredInstanceCount: v.instanceCount,
      })),
      DataCaptureConfig: capture && {
        EnableCapture: capture.EnableCapture ?? true,
        CaptureStatus: capture.EnableCapture === false ? 'Stopped' : 'Started',
        CurrentSamplingPercentage: capture.InitialSamplingPercentage,
        DestinationS3Uri: capture.DestinationS3Uri,
        KmsKeyId: capture.KmsKeyId,
      },
      EndpointStatus: record.status,
      FailureReason: record.failureReason,
      CreationTime: record.creationTime,
      LastModifiedTime: record.lastModifiedTime,
      LastDeploymentConfig: record.lastDeploymentConfig,
      PendingDeploymentSummary: rollout && {
        EndpointConfigName: rollout.configName,
        StartTime: rollout.startTime,
        ProductionVariants: this.pendingVariants(rollout),
      },
    };
  }

  /** The green fleet as DescribeEndpoint shows it: its weight is the traffic share it has taken so far. */
  private pendingVariants(rollout: Rollout) {
    const config = this.ctx.store.endpointConfigs.get(rollout.configName)?.request;
    return (config?.ProductionVariants ?? []).map((v) => {
      const weight = v.InitialVariantWeight ?? 1;
      const count = v.InitialInstanceCount ?? 1;
      const status = rollout.green ? rollout.phase : 'Creating';
      const share = `${Math.round(rollout.greenShare * 100)}% of traffic`;
      return {
        VariantName: v.VariantName,
        DeployedImages: rollout.green?.deployedImages[v.VariantName!],
        CurrentWeight: weight * rollout.greenShare,
        DesiredWeight: weight,
        CurrentInstanceCount: rollout.green ? count : 0,
        DesiredInstanceCount: count,
        InstanceType: v.InstanceType,
        VariantStatus: [{ Status: status, StatusMessage: status === 'Creating' ? 'Provisioning the new fleet' : share, StartTime: rollout.phaseStart }],
      };
    });
  }

  deleteEndpoint(input: { EndpointName?: string }): Record<string, never> {
    assertValid(shapes.DeleteEndpoint, input);
    const record = this.findEndpoint(input.EndpointName!);
    const runtime = this.runtimes.get(record.name.toLowerCase());
    if (runtime?.rollout) runtime.rollout.abandoned = 'The endpoint is being deleted.';
    record.status = 'Deleting';
    record.lastModifiedTime = new Date();
    const previous = runtime?.operation ?? Promise.resolve();
    const deletion = previous.then(async () => {
      await this.stopDeployment(runtime?.active);
      await this.capture.flush();
      this.ctx.store.endpoints.delete(record.name);
      this.ctx.store.tags.delete(record.arn);
      this.runtimes.delete(record.name.toLowerCase());
    });
    if (runtime) runtime.operation = deletion;
    return {};
  }

  listEndpoints(input: ListEndpointsInput): ListEndpointsOutput {
    assertValid(shapes.ListEndpoints, input);
    const rows = this.ctx.store.endpoints
      .values()
      .filter((e) => !input.StatusEquals || e.status === input.StatusEquals)
      .map((e) => ({ name: e.name, creationTime: e.creationTime, lastModifiedTime: e.lastModifiedTime, endpoint: e }));
    const { page, nextToken } = listPage(rows, input, {
      sortBy: (row) => (input.SortBy === 'Name' ? row.name : input.SortBy === 'Status' ? row.endpoint.status : row.creationTime.getTime()),
      defaultOrder: 'Descending',
      defaultMaxResults: 10,
    });
    return {
      Endpoints: page.map(({ endpoint }) => ({
        EndpointName: endpoint.name,
        EndpointArn: endpoint.arn,
        CreationTime: endpoint.creationTime,
        LastModifiedTime: endpoint.lastModifiedTime,
        EndpointStatus: endpoint.status,
      })),
      NextToken: nextToken,
    };
  }

  // ---- Runtime --------------------------------------------------------------------------------

  async invoke(request: InvocationRequest): Promise<InvocationResult> {
    const record = this.ctx.store.endpoints.get(request.endpointName);
    const runtime = record && this.runtimes.get(record.name.toLowerCase());
    if (!record || !runtime?.active) throw runtimeValidationError(`Endpoint ${request.endpointName} of account ${this.ctx.accountId} not found.`);
    const deployment = routeFleet(runtime.active, runtime.rollout);
    const variant = request.targetVariant
      ? deployment.variants.find((v) => v.variantName === request.targetVariant)
      : pickByWeight(deployment.variants);
    if (!variant) {
      throw runtimeValidationError(`Variant ${request.targetVariant} not found for endpoint ${record.name} of account ${this.ctx.accountId}.`);
    }
    const inferenceTime = new Date();
    let body = request.body;
    let contentType = request.contentType;
    let customAttributes: string | undefined;
    if (variant.invocationErrors) {
      throw this.modelFailure(record.name, variant.containers[0]?.hostname ?? 'primary', 500, 'Internal Server Error (local-sagemaker fault invocation-errors)');
    }
    for (const [index, container] of variant.containers.entries()) {
      const last = index === variant.containers.length - 1;
      const response = await containerRequest(container.port, 'POST', '/invocations', {
        ...(contentType ? { 'Content-Type': contentType } : {}),
        ...(last && request.accept ? { Accept: request.accept } : {}),
        ...(request.customAttributes ? { 'X-Amzn-SageMaker-Custom-Attributes': request.customAttributes } : {}),
      }, body).catch((err: Error) => {
        throw this.modelFailure(record.name, container.hostname, 500, `The container did not answer: ${err.message}`);
      });
      if (response.status >= 400) throw this.modelFailure(record.name, container.hostname, response.status, response.body.toString('utf8'));
      body = response.body;
      contentType = headerValue(response.headers['content-type']);
      customAttributes = headerValue(response.headers['x-amzn-sagemaker-custom-attributes']);
    }
    this.capture.capture(deployment.dataCapture, {
      endpointName: record.name,
      variantName: variant.variantName,
      input: { contentType: request.contentType ?? 'application/octet-stream', body: request.body },
      output: { contentType: contentType ?? 'application/octet-stream', body },
      inferenceId: request.inferenceId,
      inferenceTime,
    });
    return { body, contentType, invokedVariant: variant.variantName, customAttributes };
  }

  /** Abandons rollouts still waiting for /ping, then stops every serving container. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const runtimes = [...this.runtimes.values()];
    for (const runtime of runtimes) if (runtime.rollout) runtime.rollout.abandoned = 'The local SageMaker is shutting down.';
    await Promise.all(runtimes.map((r) => r.operation?.catch(() => undefined)));
    await Promise.all(runtimes.map((r) => this.stopDeployment(r.active, 2000)));
  }

  // ---- Internals ------------------------------------------------------------------------------

  private modelFailure(endpointName: string, hostname: string, status: number, message: string) {
    const region = this.ctx.region;
    const kind = status >= 500 ? 'server' : 'client';
    return modelError(
      `Received ${kind} error (${status}) from ${hostname} with message "${message}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} in account ${this.ctx.accountId} for more information.`,
      status,
      message,
      `arn:aws:logs:${region}:${this.ctx.accountId}:log-group:/aws/sagemaker/Endpoints/${endpointName}`,
    );
  }

  private resolveContainer(container: ContainerDefinition, index: number, count: number): ResolvedContainer {
    const hostname = container.ContainerHostname ?? (count === 1 ? 'primary' : `container-${index + 1}`);
    let image = container.Image;
    let modelDataUrl = container.ModelDataUrl;
    let environment: Record<string, string> = {};
    if (container.ModelPackageName) {
      const pkg = this.registry.findPackage(container.ModelPackageName);
      const packaged = pkg.request.InferenceSpecification?.Containers?.[0];
      if (!packaged) throw validationError(`ModelPackage ${pkg.arn} has no InferenceSpecification to deploy.`);
      image ??= packaged.Image;
      modelDataUrl ??= packaged.ModelDataUrl;
      environment = { ...packaged.Environment };
    }
    environment = { ...environment, ...container.Environment };
    if (!image) throw validationError('Image is required for a container that does not name a ModelPackageName.');
    const reference = parseImageUri(image);
    const entryFile = reference && this.ctx.images.entryPoint(reference, 'serve');
    if (!entryFile) throw validationError(`Requested image ${image} not found.`);
    return { hostname, image, entryFile, modelDataUrl, environment };
  }

  /** Starts every variant of a config and waits until each container answers /ping. */
  private async deploy(record: EndpointRecord, configName: string): Promise<Deployment> {
    const configRecord = this.findEndpointConfig(configName);
    const config = configRecord.request;
    const configFaults = hostingFaultsFromTags(config.Tags);
    const sequence = ++this.deploymentSequence;
    const started: ServingContainer[] = [];
    const deployedImages: EndpointRecord['deployedImages'] = {};
    try {
      const variants: VariantDeployment[] = [];
      for (const variant of config.ProductionVariants!) {
        const modelRecord = this.findModel(variant.ModelName!);
        const model = modelRecord.request;
        const faults = mergeFaults(configFaults, hostingFaultsFromTags(model.Tags));
        const definitions = model.PrimaryContainer ? [model.PrimaryContainer] : (model.Containers ?? []);
        const resolved = definitions.map((c, i) => this.resolveContainer(c, i, definitions.length));
        const containers: ServingContainer[] = [];
        for (const [index, container] of resolved.entries()) {
          const serving = await this.startServing(record, variant, container, `${sequence}-${variant.VariantName}-${index + 1}`, faults.unhealthy);
          started.push(serving);
          containers.push(serving);
        }
        const resolutionTime = new Date();
        deployedImages[variant.VariantName!] = resolved.map((c) => ({ SpecifiedImage: c.image, ResolvedImage: c.image, ResolutionTime: resolutionTime }));
        variants.push({
          variantName: variant.VariantName!,
          weight: variant.InitialVariantWeight ?? 1,
          instanceCount: variant.InitialInstanceCount ?? 1,
          containers,
          invocationErrors: faults.invocationErrors,
        });
      }
      return { configName: config.EndpointConfigName!, variants, dataCapture: config.DataCaptureConfig, deployedImages };
    } catch (err) {
      await Promise.all(started.map((s) => s.process.stop(0)));
      throw err instanceof DeploymentFailure ? err : new DeploymentFailure((err as Error).message);
    }
  }

  private async startServing(record: EndpointRecord, variant: ProductionVariant, container: ResolvedContainer, instance: string, unhealthy: boolean): Promise<ServingContainer> {
    const root = path.join(this.ctx.dataDir, 'endpoints', record.name, instance);
    const optMl = path.join(root, 'opt_ml');
    await rm(root, { recursive: true, force: true });
    const modelDir = path.join(optMl, 'model');
    await mkdir(modelDir, { recursive: true });
    if (container.modelDataUrl) {
      const archive = path.join(root, 'model.tar.gz');
      try {
        await downloadObject(this.ctx.s3, parseS3Uri(container.modelDataUrl), archive);
        await extractTar({ file: archive, cwd: modelDir });
      } catch {
        throw new DeploymentFailure(
          `Failed to download model data for container "${container.hostname}" from URL: "${container.modelDataUrl}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.`,
        );
      }
    }
    const port = await freePort();
    const server = await LocalContainer.start({
      entryFile: container.entryFile,
      args: ['serve'],
      optMl,
      env: { AWS_REGION: this.ctx.region, SAGEMAKER_BIND_TO_PORT: String(port), SAGEMAKER_SAFE_PORT_RANGE: `${port}-${port}`, ...container.environment },
      logFile: path.join(this.ctx.dataDir, 'logs', 'endpoints', record.name, `${variant.VariantName}.log`),
    });
    const timeoutMs = variant.ContainerStartupHealthCheckTimeoutInSeconds
      ? variant.ContainerStartupHealthCheckTimeoutInSeconds * 1000
      : this.ctx.endpointStartupTimeoutMs;
    // The `unhealthy` fault: the container runs, but its /ping is never taken as healthy.
    if (!(await waitForPing(port, server, timeoutMs, () => this.closing, unhealthy))) {
      await server.stop(0);
      throw new DeploymentFailure(
        `The ${container.hostname} container for production variant ${variant.VariantName} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`,
      );
    }
    return { hostname: container.hostname, port, process: server };
  }

  private async stopDeployment(deployment: Deployment | undefined, graceMs = this.ctx.stopGraceMs): Promise<void> {
    if (!deployment) return;
    await Promise.all(deployment.variants.flatMap((v) => v.containers.map((c) => c.process.stop(graceMs))));
  }

  private findModel(name: string) {
    const model = this.ctx.store.models.get(name);
    if (!model) throw validationError(`Could not find model "${arnOf(this.ctx, 'model', name)}".`);
    return model;
  }

  private findEndpointConfig(name: string) {
    const config = this.ctx.store.endpointConfigs.get(name);
    if (!config) throw validationError(`Could not find endpoint configuration "${arnOf(this.ctx, 'endpoint-config', name)}".`);
    return config;
  }

  private findEndpoint(name: string): EndpointRecord {
    const endpoint = this.ctx.store.endpoints.get(name);
    if (!endpoint) throw validationError(`Could not find endpoint "${arnOf(this.ctx, 'endpoint', name)}".`);
    return endpoint;
  }
}

function mergeFaults(a: HostingFaults | undefined, b: HostingFaults | undefined): HostingFaults {
  return {
    unhealthy: !!(a?.unhealthy || b?.unhealthy),
    invocationErrors: !!(a?.invocationErrors || b?.invocationErrors),
    alarms: [...(a?.alarms ?? []), ...(b?.alarms ?? [])],
  };
}

/**
 * Which fleet answers a request during a rollout: exactly the green share of requests, in a fixed
 * order (the n-th request goes to green when floor(share x n) grows), so tests can count on it.
 */
function routeFleet(active: Deployment, rollout: Rollout | undefined): Deployment {
  if (!rollout?.green || rollout.greenShare <= 0) return active;
  if (rollout.greenShare >= 1) return rollout.green;
  rollout.routed.total++;
  if (Math.floor(rollout.greenShare * rollout.routed.total) > rollout.routed.green) {
    rollout.routed.green++;
    return rollout.green;
  }
  return active;
}

type CapacitySizeInput = { Type?: string; Value?: number };

/** The green fleet's traffic share after each step: [1], [canary, 1] or [step, 2 x step, ..., 1]. */
function trafficSteps(type: string, size: CapacitySizeInput | undefined, instanceCount: number): number[] {
  if (type === 'ALL_AT_ONCE' || !size) return [1];
  const share = capacityShare(size, instanceCount);
  if (type === 'CANARY') return [share, 1];
  const steps: number[] = [];
  for (let n = 1; n * share < 1 - 1e-9; n++) steps.push(n * share);
  return [...steps, 1];
}

function capacityShare(size: CapacitySizeInput, instanceCount: number): number {
  return size.Type === 'CAPACITY_PERCENT' ? size.Value! / 100 : size.Value! / instanceCount;
}

/**
 * The checks UpdateEndpoint makes on a blue/green DeploymentConfig beyond its shape (API reference:
 * TrafficRoutingConfig, BlueGreenUpdatePolicy; guide: deployment guardrails, Exclusions). SageMaker's
 * texts for these are not published; these keep its style (docs/local-sagemaker.md lists them).
 */
function checkDeploymentConfig(deployment: DeploymentConfig, serving: CreateEndpointConfigInput, next: CreateEndpointConfigInput): void {
  const policy = deployment.BlueGreenUpdatePolicy;
  if (!policy) return;
  const servingNames = serving.ProductionVariants!.map((v) => v.VariantName!).sort();
  const nextNames = next.ProductionVariants!.map((v) => v.VariantName!).sort();
  if (servingNames.join('\u0000') !== nextNames.join('\u0000')) {
    throw validationError(
      `The production variant names of endpoint config ${next.EndpointConfigName} (${nextNames.join(', ')}) must match the endpoint's current production variants (${servingNames.join(', ')}) for a blue/green deployment.`,
    );
  }
  const routing = policy.TrafficRoutingConfiguration!;
  const type = routing.Type!;
  if (type === 'CANARY' && !routing.CanarySize) throw validationError('CanarySize must be specified for CANARY traffic routing.');
  if (type === 'LINEAR' && !routing.LinearStepSize) throw validationError('LinearStepSize must be specified for LINEAR traffic routing.');
  if (type !== 'CANARY' && routing.CanarySize) throw validationError(`CanarySize can only be specified for CANARY traffic routing, not ${type}.`);
  if (type !== 'LINEAR' && routing.LinearStepSize) throw validationError(`LinearStepSize can only be specified for LINEAR traffic routing, not ${type}.`);
  for (const variant of next.ProductionVariants!) {
    const count = variant.InitialInstanceCount ?? 1;
    if (routing.CanarySize && capacityShare(routing.CanarySize, count) > 0.5) {
      throw validationError(
        `Invalid CanarySize for production variant ${variant.VariantName}: Value must be less than or equal to 50% of the variant's total instance count (${count}).`,
      );
    }
    if (routing.LinearStepSize) {
      const share = capacityShare(routing.LinearStepSize, count);
      if (share < 0.1 || share > 0.5) {
        throw validationError(
          `Invalid LinearStepSize for production variant ${variant.VariantName}: Value must be 10-50% of the variant's total instance count (${count}).`,
        );
      }
    }
  }
  if (policy.MaximumExecutionTimeoutInSeconds !== undefined) {
    const count = next.ProductionVariants![0].InitialInstanceCount ?? 1;
    const steps = trafficSteps(type, routing.CanarySize ?? routing.LinearStepSize, count).length;
    const waits = (routing.WaitIntervalInSeconds ?? 0) * (steps - 1) + (policy.TerminationWaitInSeconds ?? 0);
    if (policy.MaximumExecutionTimeoutInSeconds <= waits) {
      throw validationError(
        `MaximumExecutionTimeoutInSeconds (${policy.MaximumExecutionTimeoutInSeconds}) must be larger than the total waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds (${waits}).`,
      );
    }
  }
}

function pickByWeight(variants: VariantDeployment[]): VariantDeployment | undefined {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  if (total <= 0) return variants[0];
  let ticket = Math.random() * total;
  for (const variant of variants) {
    ticket -= variant.weight;
    if (ticket < 0) return variant;
  }
  return variants[variants.length - 1];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface ContainerResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function containerRequest(port: number, method: string, urlPath: string, headers: Record<string, string>, body?: Buffer): Promise<ContainerResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) }, timeout: INVOCATION_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForPing(port: number, container: LocalContainer, timeoutMs: number, abandoned: () => boolean, unhealthy = false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && container.running && !abandoned()) {
    const healthy = await containerRequest(port, 'GET', '/ping', {})
      .then((r) => r.status === 200 && !unhealthy)
      .catch(() => false);
    if (healthy) return true;
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
  }
  return false;
}

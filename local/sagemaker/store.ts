// Resource state of the local SageMaker. Records are plain data (requests as sent, plus the state
// the service adds), so a persistent store can replace these Maps without touching the services.
// Running processes, timers and sockets never live here.
import type {
  CreateEndpointConfigInput,
  CreateModelInput,
  CreateModelPackageGroupInput,
  CreateModelPackageInput,
  CreateProcessingJobRequest,
  CreateTrainingJobRequest,
  DeploymentConfig,
  EndpointStatus,
  ModelApprovalStatus,
  ProcessingJobStatus,
  SecondaryStatus,
  SecondaryStatusTransition,
  Tag,
  TrainingJobStatus,
} from '@aws-sdk/client-sagemaker';

export interface TrainingJobRecord {
  arn: string;
  request: CreateTrainingJobRequest;
  status: TrainingJobStatus;
  secondaryStatus: SecondaryStatus;
  transitions: SecondaryStatusTransition[];
  failureReason?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  trainingStartTime?: Date;
  trainingEndTime?: Date;
  s3ModelArtifacts?: string;
  finalMetrics: { MetricName: string; Value: number; Timestamp: Date }[];
}

export interface ProcessingJobRecord {
  arn: string;
  request: CreateProcessingJobRequest;
  status: ProcessingJobStatus;
  failureReason?: string;
  exitMessage?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  processingStartTime?: Date;
  processingEndTime?: Date;
}

export interface ModelPackageGroupRecord {
  arn: string;
  request: CreateModelPackageGroupInput;
  creationTime: Date;
  /** Versions ever issued, so deleted versions are never reused. */
  lastVersion: number;
}

export interface ModelPackageRecord {
  arn: string;
  request: CreateModelPackageInput;
  name: string;
  groupName?: string;
  version?: number;
  approvalStatus: ModelApprovalStatus;
  approvalDescription?: string;
  customerMetadata?: Record<string, string>;
  sourceUri?: string;
  creationTime: Date;
  lastModifiedTime: Date;
}

export interface ModelRecord {
  arn: string;
  request: CreateModelInput;
  creationTime: Date;
}

export interface EndpointConfigRecord {
  arn: string;
  request: CreateEndpointConfigInput;
  creationTime: Date;
}

export interface EndpointRecord {
  arn: string;
  name: string;
  configName: string;
  /** The config being rolled out by an UpdateEndpoint, while Updating. */
  pendingConfigName?: string;
  status: EndpointStatus;
  failureReason?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  lastDeploymentConfig?: DeploymentConfig;
  /** Images resolved for each variant of the serving config. */
  deployedImages: Record<string, { SpecifiedImage: string; ResolvedImage: string; ResolutionTime: Date }[]>;
}

/** Names are unique per account and region regardless of case (ARNs are lower-cased). */
export class ResourceTable<T> {
  private readonly rows = new Map<string, T>();
  get(name: string): T | undefined {
    return this.rows.get(name.toLowerCase());
  }
  has(name: string): boolean {
    return this.rows.has(name.toLowerCase());
  }
  set(name: string, row: T): void {
    this.rows.set(name.toLowerCase(), row);
  }
  delete(name: string): boolean {
    return this.rows.delete(name.toLowerCase());
  }
  values(): T[] {
    return [...this.rows.values()];
  }
}

export class SageMakerStore {
  readonly trainingJobs = new ResourceTable<TrainingJobRecord>();
  readonly processingJobs = new ResourceTable<ProcessingJobRecord>();
  readonly modelPackageGroups = new ResourceTable<ModelPackageGroupRecord>();
  /** Keyed by ARN, which covers both `group/version` and unversioned packages. */
  readonly modelPackages = new ResourceTable<ModelPackageRecord>();
  readonly models = new ResourceTable<ModelRecord>();
  readonly endpointConfigs = new ResourceTable<EndpointConfigRecord>();
  readonly endpoints = new ResourceTable<EndpointRecord>();
  /** Tags by resource ARN. */
  readonly tags = new ResourceTable<Tag[]>();
}

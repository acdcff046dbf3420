// Request shapes of the operations the local SageMaker serves, with the length, pattern, range and
// enum constraints of the SageMaker API reference. Enum value sets come from the SDK's own enums, so
// they track the API model the clients were generated from.
import {
  CaptureMode,
  CompressionType,
  EndpointSortKey,
  EndpointStatus,
  ModelApprovalStatus,
  ModelPackageGroupSortBy,
  ModelPackageSortBy,
  ModelPackageType,
  OrderKey,
  OutputCompressionType,
  ProcessingInstanceType,
  ProcessingJobStatus,
  ProcessingS3CompressionType,
  ProcessingS3DataDistributionType,
  ProcessingS3DataType,
  ProcessingS3InputMode,
  ProcessingS3UploadMode,
  ProductionVariantInstanceType,
  RecordWrapper,
  S3DataDistribution,
  S3DataType,
  SortBy,
  SortOrder,
  TrainingInputMode,
  TrainingInstanceType,
  TrainingJobStatus,
} from '@aws-sdk/client-sagemaker';
import { boolean, enumOf, list, map, number, string, structure, timestamp, type StructureShape } from './constraints';

export const ENTITY_NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}';
const entityName = () => string({ min: 1, max: 63, pattern: ENTITY_NAME_PATTERN });
const roleArn = () => string({ min: 20, max: 2048, pattern: '^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$' });
const s3Uri = () => string({ max: 1024, pattern: '^(https|s3)://([^/]+)/?(.*)$' });
const kmsKeyId = () => string({ max: 2048, pattern: '^[a-zA-Z0-9:/_-]*$' });
const tagText = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';
const tags = () =>
  list(structure({ Key: string({ min: 1, max: 128, pattern: tagText }), Value: string({ max: 256, pattern: tagText }) }, ['Key', 'Value']), {
    max: 50,
  });
const vpcConfig = () =>
  structure(
    {
      SecurityGroupIds: list(string({ max: 32, pattern: '[-0-9a-zA-Z]+' }), { min: 1, max: 5 }),
      Subnets: list(string({ max: 32, pattern: '[-0-9a-zA-Z]+' }), { min: 1, max: 16 }),
    },
    ['SecurityGroupIds', 'Subnets'],
  );
const environmentVariables = (keyMax: number, valueMax: number, entries = 100) =>
  map(string({ max: keyMax, pattern: '[a-zA-Z_][a-zA-Z0-9_]*' }), string({ max: valueMax, pattern: '[\\S\\s]*' }), { max: entries });
const experimentConfig = () =>
  structure({
    ExperimentName: string({ min: 1, max: 120 }),
    TrialName: string({ min: 1, max: 120 }),
    TrialComponentDisplayName: string({ min: 1, max: 120 }),
    RunName: string({ min: 1, max: 120 }),
  });
const listPaging = {
  MaxResults: number({ min: 1, max: 100 }),
  NextToken: string({ max: 8192, pattern: '.*' }),
  NameContains: string({ max: 63, pattern: '[a-zA-Z0-9\\-]+' }),
  CreationTimeAfter: timestamp(),
  CreationTimeBefore: timestamp(),
};
const MODEL_PACKAGE_GROUP_REF = '(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$';
const MODEL_PACKAGE_REF = '(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\\/[0-9]{1,5})?$';
const description = () => string({ max: 1024, pattern: '[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]*' });
const customerMetadata = () =>
  map(string({ min: 1, max: 128, pattern: tagText }), string({ min: 1, max: 256, pattern: tagText }), { min: 1, max: 50 });

// ---- Training -------------------------------------------------------------------------------

const channel = structure(
  {
    ChannelName: string({ min: 1, max: 64, pattern: '[A-Za-z0-9\\.\\-_]+' }),
    DataSource: structure({
      S3DataSource: structure(
        {
          S3DataType: enumOf(S3DataType),
          S3Uri: s3Uri(),
          S3DataDistributionType: enumOf(S3DataDistribution),
          AttributeNames: list(string({ min: 1, max: 256, pattern: '.+' }), { max: 16 }),
        },
        ['S3DataType', 'S3Uri'],
      ),
    }),
    ContentType: string({ max: 256, pattern: '.*' }),
    CompressionType: enumOf(CompressionType),
    RecordWrapperType: enumOf(RecordWrapper),
    InputMode: enumOf(TrainingInputMode),
    ShuffleConfig: structure({ Seed: number() }, ['Seed']),
  },
  ['ChannelName', 'DataSource'],
);

export const CreateTrainingJob = structure(
  {
    TrainingJobName: entityName(),
    HyperParameters: map(string({ max: 256, pattern: '.*' }), string({ max: 2500, pattern: '.*' }), { max: 100 }),
    AlgorithmSpecification: structure(
      {
        TrainingImage: string({ max: 255, pattern: '.*' }),
        AlgorithmName: string({ min: 1, max: 170 }),
        TrainingInputMode: enumOf(TrainingInputMode),
        MetricDefinitions: list(
          structure({ Name: string({ min: 1, max: 255, pattern: '.+' }), Regex: string({ min: 1, max: 500, pattern: '.+' }) }, ['Name', 'Regex']),
          { max: 40 },
        ),
        EnableSageMakerMetricsTimeSeries: boolean(),
        ContainerEntrypoint: list(string({ max: 256, pattern: '.*' }), { min: 1, max: 10 }),
        ContainerArguments: list(string({ max: 256, pattern: '.*' }), { min: 1, max: 100 }),
      },
      ['TrainingInputMode'],
    ),
    RoleArn: roleArn(),
    InputDataConfig: list(channel, { min: 1, max: 20 }),
    OutputDataConfig: structure({ KmsKeyId: kmsKeyId(), S3OutputPath: s3Uri(), CompressionType: enumOf(OutputCompressionType) }, ['S3OutputPath']),
    ResourceConfig: structure(
      {
        InstanceType: enumOf(TrainingInstanceType),
        InstanceCount: number({ min: 0 }),
        VolumeSizeInGB: number({ min: 0 }),
        VolumeKmsKeyId: string({ max: 2048, pattern: '[a-zA-Z0-9:/_-]*' }),
        KeepAlivePeriodInSeconds: number({ min: 0, max: 3600 }),
      },
      ['InstanceType', 'InstanceCount', 'VolumeSizeInGB'],
    ),
    VpcConfig: vpcConfig(),
    StoppingCondition: structure({
      MaxRuntimeInSeconds: number({ min: 1 }),
      MaxWaitTimeInSeconds: number({ min: 1 }),
      MaxPendingTimeInSeconds: number({ min: 7200, max: 2419200 }),
    }),
    Tags: tags(),
    EnableNetworkIsolation: boolean(),
    EnableInterContainerTrafficEncryption: boolean(),
    EnableManagedSpotTraining: boolean(),
    CheckpointConfig: structure({ S3Uri: s3Uri(), LocalPath: string({ max: 4096, pattern: '.*' }) }, ['S3Uri']),
    ExperimentConfig: experimentConfig(),
    Environment: environmentVariables(512, 512),
    RetryStrategy: structure({ MaximumRetryAttempts: number({ min: 1, max: 30 }) }, ['MaximumRetryAttempts']),
  },
  // AlgorithmSpecification, ResourceConfig and StoppingCondition became optional in the model when
  // serverless jobs and instance groups arrived; every job this server can run needs them.
  ['TrainingJobName', 'AlgorithmSpecification', 'RoleArn', 'OutputDataConfig', 'ResourceConfig', 'StoppingCondition'],
);

const trainingJobName = structure({ TrainingJobName: entityName() }, ['TrainingJobName']);
export const DescribeTrainingJob = trainingJobName;
export const StopTrainingJob = trainingJobName;
export const ListTrainingJobs = structure({
  ...listPaging,
  LastModifiedTimeAfter: timestamp(),
  LastModifiedTimeBefore: timestamp(),
  StatusEquals: enumOf(TrainingJobStatus),
  SortBy: enumOf(SortBy),
  SortOrder: enumOf(SortOrder),
});

// ---- Processing -----------------------------------------------------------------------------

export const CreateProcessingJob = structure(
  {
    ProcessingInputs: list(
      structure(
        {
          InputName: string(),
          AppManaged: boolean(),
          S3Input: structure(
            {
              S3Uri: s3Uri(),
              LocalPath: string({ max: 256, pattern: '.*' }),
              S3DataType: enumOf(ProcessingS3DataType),
              S3InputMode: enumOf(ProcessingS3InputMode),
              S3DataDistributionType: enumOf(ProcessingS3DataDistributionType),
              S3CompressionType: enumOf(ProcessingS3CompressionType),
            },
            ['S3Uri', 'S3DataType'],
          ),
        },
        ['InputName'],
      ),
      { max: 10 },
    ),
    ProcessingOutputConfig: structure(
      {
        Outputs: list(
          structure(
            {
              OutputName: string(),
              S3Output: structure(
                { S3Uri: s3Uri(), LocalPath: string({ max: 256, pattern: '.*' }), S3UploadMode: enumOf(ProcessingS3UploadMode) },
                ['S3Uri', 'S3UploadMode'],
              ),
              AppManaged: boolean(),
            },
            ['OutputName'],
          ),
          { max: 10 },
        ),
        KmsKeyId: kmsKeyId(),
      },
      ['Outputs'],
    ),
    ProcessingJobName: entityName(),
    ProcessingResources: structure(
      {
        ClusterConfig: structure(
          {
            InstanceCount: number({ min: 1, max: 100 }),
            InstanceType: enumOf(ProcessingInstanceType),
            VolumeSizeInGB: number({ min: 1, max: 16384 }),
            VolumeKmsKeyId: kmsKeyId(),
          },
          ['InstanceCount', 'InstanceType', 'VolumeSizeInGB'],
        ),
      },
      ['ClusterConfig'],
    ),
    StoppingCondition: structure({ MaxRuntimeInSeconds: number({ min: 1, max: 777600 }) }, ['MaxRuntimeInSeconds']),
    AppSpecification: structure(
      {
        ImageUri: string({ max: 255, pattern: '.*' }),
        ContainerEntrypoint: list(string({ max: 256, pattern: '.*' }), { min: 1, max: 100 }),
        ContainerArguments: list(string({ max: 256, pattern: '.*' }), { min: 1, max: 100 }),
      },
      ['ImageUri'],
    ),
    Environment: environmentVariables(256, 256),
    NetworkConfig: structure({ EnableInterContainerTrafficEncryption: boolean(), EnableNetworkIsolation: boolean(), VpcConfig: vpcConfig() }),
    RoleArn: roleArn(),
    Tags: tags(),
    ExperimentConfig: experimentConfig(),
  },
  ['ProcessingJobName', 'ProcessingResources', 'AppSpecification', 'RoleArn'],
);

const processingJobName = structure({ ProcessingJobName: entityName() }, ['ProcessingJobName']);
export const DescribeProcessingJob = processingJobName;
export const StopProcessingJob = processingJobName;
export const ListProcessingJobs = structure({
  ...listPaging,
  LastModifiedTimeAfter: timestamp(),
  LastModifiedTimeBefore: timestamp(),
  StatusEquals: enumOf(ProcessingJobStatus),
  SortBy: enumOf(SortBy),
  SortOrder: enumOf(SortOrder),
});

// ---- Model registry ---------------------------------------------------------------------------

export const CreateModelPackageGroup = structure(
  { ModelPackageGroupName: entityName(), ModelPackageGroupDescription: description(), Tags: tags() },
  ['ModelPackageGroupName'],
);
export const DescribeModelPackageGroup = structure(
  { ModelPackageGroupName: string({ min: 1, max: 170, pattern: MODEL_PACKAGE_GROUP_REF }) },
  ['ModelPackageGroupName'],
);
export const ListModelPackageGroups = structure({ ...listPaging, SortBy: enumOf(ModelPackageGroupSortBy), SortOrder: enumOf(SortOrder) });

const modelPackageContainer = structure(
  {
    ContainerHostname: string({ max: 63, pattern: ENTITY_NAME_PATTERN }),
    Image: string({ max: 255, pattern: '[\\S]+' }),
    ImageDigest: string({ max: 72, pattern: '^[Ss][Hh][Aa]256:[0-9a-fA-F]{64}$' }),
    ModelDataUrl: string({ max: 1024, pattern: '^(https|s3)://([^/]+)/?(.*)$' }),
    ProductId: string({ max: 256, pattern: '^[a-zA-Z0-9](-*[a-zA-Z0-9])*$' }),
    Environment: environmentVariables(1024, 1024, 16),
    Framework: string(),
    FrameworkVersion: string({ min: 3, max: 10, pattern: '[0-9]\\.[A-Za-z0-9.-]+' }),
    NearestModelName: string(),
  },
  [],
);

export const CreateModelPackage = structure({
  ModelPackageName: entityName(),
  ModelPackageGroupName: string({ min: 1, max: 170, pattern: MODEL_PACKAGE_GROUP_REF }),
  ModelPackageDescription: description(),
  InferenceSpecification: structure(
    {
      Containers: list(modelPackageContainer, { min: 1, max: 15 }),
      SupportedTransformInstanceTypes: list(string(), { min: 1 }),
      SupportedRealtimeInferenceInstanceTypes: list(enumOf(ProductionVariantInstanceType)),
      SupportedContentTypes: list(string({ max: 256, pattern: '.*' })),
      SupportedResponseMIMETypes: list(string({ max: 1024, pattern: '^[-\\w]+\\/.+$' })),
    },
    ['Containers'],
  ),
  CertifyForMarketplace: boolean(),
  Tags: tags(),
  ModelApprovalStatus: enumOf(ModelApprovalStatus),
  ClientToken: string({ min: 1, max: 36, pattern: '^[a-zA-Z0-9-]+$' }),
  Domain: string(),
  Task: string(),
  SamplePayloadUrl: string({ max: 1024, pattern: '^(https|s3)://([^/]+)/?(.*)$' }),
  CustomerMetadataProperties: customerMetadata(),
  SourceUri: string({ min: 0, max: 1024 }),
});

export const DescribeModelPackage = structure({ ModelPackageName: string({ min: 1, max: 170, pattern: MODEL_PACKAGE_REF }) }, ['ModelPackageName']);

export const ListModelPackages = structure({
  ...listPaging,
  ModelApprovalStatus: enumOf(ModelApprovalStatus),
  ModelPackageGroupName: string({ min: 1, max: 170, pattern: MODEL_PACKAGE_GROUP_REF }),
  ModelPackageType: enumOf(ModelPackageType),
  SortBy: enumOf(ModelPackageSortBy),
  SortOrder: enumOf(SortOrder),
});

export const UpdateModelPackage = structure(
  {
    ModelPackageArn: string({ min: 1, max: 2048, pattern: 'arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:model-package/[\\S]{1,2048}$' }),
    ModelApprovalStatus: enumOf(ModelApprovalStatus),
    ApprovalDescription: string({ max: 1024, pattern: '.*' }),
    CustomerMetadataProperties: customerMetadata(),
    CustomerMetadataPropertiesToRemove: list(string({ min: 1, max: 128, pattern: tagText })),
    SourceUri: string({ min: 0, max: 1024 }),
    ClientToken: string({ min: 1, max: 36, pattern: '^[a-zA-Z0-9-]+$' }),
  },
  ['ModelPackageArn'],
);

// ---- Hosting ----------------------------------------------------------------------------------

const containerDefinition = structure({
  ContainerHostname: string({ max: 63, pattern: ENTITY_NAME_PATTERN }),
  Image: string({ max: 255, pattern: '[\\S]+' }),
  Mode: enumOf(['SingleModel', 'MultiModel']),
  ModelDataUrl: string({ max: 1024, pattern: '^(https|s3)://([^/]+)/?(.*)$' }),
  Environment: environmentVariables(1024, 1024),
  ModelPackageName: string({ min: 1, max: 176, pattern: MODEL_PACKAGE_REF }),
});

export const CreateModel = structure(
  {
    ModelName: entityName(),
    PrimaryContainer: containerDefinition,
    Containers: list(containerDefinition, { max: 15 }),
    ExecutionRoleArn: roleArn(),
    Tags: tags(),
    VpcConfig: vpcConfig(),
    EnableNetworkIsolation: boolean(),
  },
  ['ModelName'],
);
export const DescribeModel = structure({ ModelName: entityName() }, ['ModelName']);
export const DeleteModel = DescribeModel;

const contentTypes = () =>
  list(string({ min: 1, max: 256, pattern: '^[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*' }), { min: 1, max: 10 });

export const CreateEndpointConfig = structure(
  {
    EndpointConfigName: entityName(),
    ProductionVariants: list(
      structure(
        {
          VariantName: entityName(),
          ModelName: entityName(),
          InitialInstanceCount: number({ min: 1 }),
          InstanceType: enumOf(ProductionVariantInstanceType),
          InitialVariantWeight: number({ min: 0 }),
          VolumeSizeInGB: number({ min: 1, max: 512 }),
          ModelDataDownloadTimeoutInSeconds: number({ min: 60, max: 3600 }),
          ContainerStartupHealthCheckTimeoutInSeconds: number({ min: 60, max: 3600 }),
          EnableSSMAccess: boolean(),
        },
        ['VariantName'],
      ),
      { min: 1, max: 10 },
    ),
    DataCaptureConfig: structure(
      {
        EnableCapture: boolean(),
        InitialSamplingPercentage: number({ min: 0, max: 100 }),
        DestinationS3Uri: string({ max: 512, pattern: '^(https|s3)://([^/])/?(.*)$' }),
        KmsKeyId: kmsKeyId(),
        CaptureOptions: list(structure({ CaptureMode: enumOf(CaptureMode) }, ['CaptureMode']), { min: 1, max: 32 }),
        CaptureContentTypeHeader: structure({ CsvContentTypes: contentTypes(), JsonContentTypes: contentTypes() }),
      },
      ['InitialSamplingPercentage', 'DestinationS3Uri', 'CaptureOptions'],
    ),
    Tags: tags(),
    KmsKeyId: kmsKeyId(),
    ExecutionRoleArn: roleArn(),
    VpcConfig: vpcConfig(),
    EnableNetworkIsolation: boolean(),
  },
  ['EndpointConfigName', 'ProductionVariants'],
);
export const DescribeEndpointConfig = structure({ EndpointConfigName: entityName() }, ['EndpointConfigName']);
export const DeleteEndpointConfig = DescribeEndpointConfig;

const deploymentConfig = structure({
  BlueGreenUpdatePolicy: structure(
    {
      TrafficRoutingConfiguration: structure(
        {
          Type: enumOf(['ALL_AT_ONCE', 'CANARY', 'LINEAR']),
          WaitIntervalInSeconds: number({ min: 0, max: 3600 }),
          CanarySize: structure({ Type: enumOf(['INSTANCE_COUNT', 'CAPACITY_PERCENT']), Value: number({ min: 1 }) }, ['Type', 'Value']),
          LinearStepSize: structure({ Type: enumOf(['INSTANCE_COUNT', 'CAPACITY_PERCENT']), Value: number({ min: 1 }) }, ['Type', 'Value']),
        },
        ['Type', 'WaitIntervalInSeconds'],
      ),
      TerminationWaitInSeconds: number({ min: 0, max: 3600 }),
      MaximumExecutionTimeoutInSeconds: number({ min: 600, max: 28800 }),
    },
    ['TrafficRoutingConfiguration'],
  ),
  AutoRollbackConfiguration: structure({
    Alarms: list(structure({ AlarmName: string({ min: 1, max: 255, pattern: '^(?!\\s*$).+' }) }), { min: 1, max: 10 }),
  }),
});

export const CreateEndpoint = structure(
  { EndpointName: entityName(), EndpointConfigName: entityName(), DeploymentConfig: deploymentConfig, Tags: tags() },
  ['EndpointName', 'EndpointConfigName'],
);
export const UpdateEndpoint = structure(
  {
    EndpointName: entityName(),
    EndpointConfigName: entityName(),
    RetainAllVariantProperties: boolean(),
    DeploymentConfig: deploymentConfig,
    RetainDeploymentConfig: boolean(),
  },
  ['EndpointName', 'EndpointConfigName'],
);
export const DescribeEndpoint = structure({ EndpointName: entityName() }, ['EndpointName']);
export const DeleteEndpoint = DescribeEndpoint;
export const ListEndpoints = structure({
  ...listPaging,
  LastModifiedTimeAfter: timestamp(),
  LastModifiedTimeBefore: timestamp(),
  StatusEquals: enumOf(EndpointStatus),
  SortBy: enumOf(EndpointSortKey),
  SortOrder: enumOf(OrderKey),
});

// ---- Tags -------------------------------------------------------------------------------------

const resourceArn = () => string({ max: 256, pattern: 'arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:.+' });
export const AddTags = structure({ ResourceArn: resourceArn(), Tags: tags() }, ['ResourceArn', 'Tags']);
export const ListTags = structure(
  { ResourceArn: resourceArn(), NextToken: string({ max: 8192, pattern: '.*' }), MaxResults: number({ min: 50, max: 100 }) },
  ['ResourceArn'],
);
export const DeleteTags = structure(
  { ResourceArn: resourceArn(), TagKeys: list(string({ min: 1, max: 128, pattern: tagText }), { min: 1, max: 50 }) },
  ['ResourceArn', 'TagKeys'],
);

export type OperationShapes = Record<string, StructureShape>;

// The operations behind `X-Amz-Target: SageMaker.<Operation>`.
import type { HostingService } from './hosting';
import type { ModelRegistryService } from './model-registry';
import type { ProcessingService } from './processing';
import type { TaggingService } from './tagging';
import type { TrainingService } from './training';

// Requests arrive as parsed JSON; each service validates against its shape before trusting a field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Operation = (input: any) => unknown;

export function controlPlaneOperations(services: {
  training: TrainingService;
  processing: ProcessingService;
  registry: ModelRegistryService;
  hosting: HostingService;
  tagging: TaggingService;
}): Record<string, Operation> {
  const { training, processing, registry, hosting, tagging } = services;
  return {
    CreateTrainingJob: (i) => training.create(i),
    DescribeTrainingJob: (i) => training.describe(i),
    StopTrainingJob: (i) => training.stop(i),
    ListTrainingJobs: (i) => training.list(i),

    CreateProcessingJob: (i) => processing.create(i),
    DescribeProcessingJob: (i) => processing.describe(i),
    StopProcessingJob: (i) => processing.stop(i),
    ListProcessingJobs: (i) => processing.list(i),

    CreateModelPackageGroup: (i) => registry.createGroup(i),
    DescribeModelPackageGroup: (i) => registry.describeGroup(i),
    ListModelPackageGroups: (i) => registry.listGroups(i),
    CreateModelPackage: (i) => registry.createPackage(i),
    DescribeModelPackage: (i) => registry.describePackage(i),
    ListModelPackages: (i) => registry.listPackages(i),
    UpdateModelPackage: (i) => registry.updatePackage(i),

    CreateModel: (i) => hosting.createModel(i),
    DescribeModel: (i) => hosting.describeModel(i),
    DeleteModel: (i) => hosting.deleteModel(i),
    CreateEndpointConfig: (i) => hosting.createEndpointConfig(i),
    DescribeEndpointConfig: (i) => hosting.describeEndpointConfig(i),
    DeleteEndpointConfig: (i) => hosting.deleteEndpointConfig(i),
    CreateEndpoint: (i) => hosting.createEndpoint(i),
    UpdateEndpoint: (i) => hosting.updateEndpoint(i),
    DescribeEndpoint: (i) => hosting.describeEndpoint(i),
    DeleteEndpoint: (i) => hosting.deleteEndpoint(i),
    ListEndpoints: (i) => hosting.listEndpoints(i),

    AddTags: (i) => tagging.addTags(i),
    ListTags: (i) => tagging.listTags(i),
    DeleteTags: (i) => tagging.deleteTags(i),
  };
}

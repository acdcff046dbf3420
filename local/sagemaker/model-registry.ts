// The model registry: model package groups and their numbered model package versions.
import type {
  CreateModelPackageGroupInput,
  CreateModelPackageGroupOutput,
  CreateModelPackageInput,
  CreateModelPackageOutput,
  DescribeModelPackageGroupOutput,
  DescribeModelPackageOutput,
  ListModelPackageGroupsInput,
  ListModelPackageGroupsOutput,
  ListModelPackagesInput,
  ListModelPackagesOutput,
  UpdateModelPackageInput,
  UpdateModelPackageOutput,
} from '@aws-sdk/client-sagemaker';
import { assertValid } from './constraints';
import { arnOf, type ServiceContext } from './context';
import { validationError } from './errors';
import { MODEL_PACKAGE_STATE_CHANGE, modelPackageDetail, type ModelPackageStateChange } from './events';
import { listPage } from './listing';
import * as shapes from './shapes';
import type { ModelPackageGroupRecord, ModelPackageRecord } from './store';

/** `name`, `group/3` or either as an ARN, down to the part after `model-package[-group]/`. */
function resourcePart(reference: string): string {
  return reference.startsWith('arn:') ? reference.slice(reference.indexOf('/') + 1) : reference;
}

export class ModelRegistryService {
  /** ClientToken → package ARN, so a retried create returns the package it already made. */
  private readonly clientTokens = new Map<string, string>();

  constructor(private readonly ctx: ServiceContext) {}

  createGroup(input: CreateModelPackageGroupInput): CreateModelPackageGroupOutput {
    assertValid(shapes.CreateModelPackageGroup, input);
    const name = input.ModelPackageGroupName!;
    const existing = this.ctx.store.modelPackageGroups.get(name);
    if (existing) throw validationError(`Model Package Group already exists: ${existing.arn}`);
    const record: ModelPackageGroupRecord = {
      arn: arnOf(this.ctx, 'model-package-group', name),
      request: structuredClone(input),
      creationTime: new Date(),
      lastVersion: 0,
    };
    this.ctx.store.modelPackageGroups.set(name, record);
    if (input.Tags?.length) this.ctx.store.tags.set(record.arn, structuredClone(input.Tags));
    return { ModelPackageGroupArn: record.arn };
  }

  describeGroup(input: { ModelPackageGroupName?: string }): DescribeModelPackageGroupOutput {
    assertValid(shapes.DescribeModelPackageGroup, input);
    const group = this.findGroup(input.ModelPackageGroupName!);
    return {
      ModelPackageGroupName: group.request.ModelPackageGroupName,
      ModelPackageGroupArn: group.arn,
      ModelPackageGroupDescription: group.request.ModelPackageGroupDescription,
      CreationTime: group.creationTime,
      CreatedBy: {},
      ModelPackageGroupStatus: 'Completed',
    };
  }

  listGroups(input: ListModelPackageGroupsInput): ListModelPackageGroupsOutput {
    assertValid(shapes.ListModelPackageGroups, input);
    const rows = this.ctx.store.modelPackageGroups
      .values()
      .map((g) => ({ name: g.request.ModelPackageGroupName!, creationTime: g.creationTime, group: g }));
    const { page, nextToken } = listPage(rows, input, {
      sortBy: (row) => (input.SortBy === 'Name' ? row.name : row.creationTime.getTime()),
      defaultOrder: 'Ascending',
      defaultMaxResults: 10,
    });
    return {
      ModelPackageGroupSummaryList: page.map(({ group }) => ({
        ModelPackageGroupName: group.request.ModelPackageGroupName,
        ModelPackageGroupArn: group.arn,
        ModelPackageGroupDescription: group.request.ModelPackageGroupDescription,
        CreationTime: group.creationTime,
        ModelPackageGroupStatus: 'Completed',
      })),
      NextToken: nextToken,
    };
  }

  createPackage(input: CreateModelPackageInput): CreateModelPackageOutput {
    assertValid(shapes.CreateModelPackage, input);
    if (input.ClientToken) {
      const earlier = this.clientTokens.get(input.ClientToken);
      if (earlier) return { ModelPackageArn: earlier };
    }
    if (input.ModelPackageName && input.ModelPackageGroupName) {
      throw validationError('Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot determine which one to use.');
    }
    if (!input.ModelPackageName && !input.ModelPackageGroupName) throw validationError('Missing ARN.');
    const now = new Date();
    let record: ModelPackageRecord;
    if (input.ModelPackageGroupName) {
      const group = this.findGroup(input.ModelPackageGroupName);
      const version = ++group.lastVersion;
      const groupName = group.request.ModelPackageGroupName!;
      record = {
        arn: `${arnOf(this.ctx, 'model-package', groupName)}/${version}`,
        request: structuredClone(input),
        name: groupName,
        groupName,
        version,
        // Versioned packages wait for a decision unless the caller made one.
        approvalStatus: input.ModelApprovalStatus ?? 'PendingManualApproval',
        customerMetadata: input.CustomerMetadataProperties,
        sourceUri: input.SourceUri,
        creationTime: now,
        lastModifiedTime: now,
      };
    } else {
      const name = input.ModelPackageName!;
      const arn = arnOf(this.ctx, 'model-package', name);
      if (this.ctx.store.modelPackages.get(arn)) throw validationError(`ModelPackage already exists: ${arn}`);
      record = {
        arn,
        request: structuredClone(input),
        name,
        approvalStatus: input.ModelApprovalStatus ?? 'PendingManualApproval',
        customerMetadata: input.CustomerMetadataProperties,
        sourceUri: input.SourceUri,
        creationTime: now,
        lastModifiedTime: now,
      };
    }
    this.ctx.store.modelPackages.set(record.arn, record);
    if (input.ClientToken) this.clientTokens.set(input.ClientToken, record.arn);
    if (input.Tags?.length) this.ctx.store.tags.set(record.arn, structuredClone(input.Tags));
    this.publishStateChange(record);
    return { ModelPackageArn: record.arn };
  }

  describePackage(input: { ModelPackageName?: string }): DescribeModelPackageOutput {
    assertValid(shapes.DescribeModelPackage, input);
    const pkg = this.findPackage(input.ModelPackageName!);
    const { Tags: _tags, ClientToken: _token, ...request } = pkg.request;
    return {
      ...request,
      ModelPackageName: pkg.name,
      ModelPackageGroupName: pkg.groupName,
      ModelPackageVersion: pkg.version,
      ModelPackageArn: pkg.arn,
      CreationTime: pkg.creationTime,
      LastModifiedTime: pkg.lastModifiedTime,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CertifyForMarketplace: request.CertifyForMarketplace ?? false,
      ModelApprovalStatus: pkg.approvalStatus,
      ApprovalDescription: pkg.approvalDescription,
      CustomerMetadataProperties: pkg.customerMetadata,
      SourceUri: pkg.sourceUri,
      CreatedBy: {},
    };
  }

  listPackages(input: ListModelPackagesInput): ListModelPackagesOutput {
    assertValid(shapes.ListModelPackages, input);
    const group = input.ModelPackageGroupName ? this.findGroupOrUndefined(input.ModelPackageGroupName) : undefined;
    // Without a group, SageMaker lists unversioned packages unless asked otherwise.
    const type = input.ModelPackageType ?? (input.ModelPackageGroupName ? 'Versioned' : 'Unversioned');
    const rows = this.ctx.store.modelPackages
      .values()
      .filter((p) => {
        if (input.ModelPackageGroupName && p.groupName?.toLowerCase() !== group?.request.ModelPackageGroupName?.toLowerCase()) return false;
        if (type === 'Versioned' && p.version === undefined) return false;
        if (type === 'Unversioned' && p.version !== undefined) return false;
        return !input.ModelApprovalStatus || p.approvalStatus === input.ModelApprovalStatus;
      })
      .map((p) => ({ name: p.name, creationTime: p.creationTime, pkg: p }));
    const { page, nextToken } = listPage(rows, input, {
      sortBy: (row) => (input.SortBy === 'Name' ? row.name : row.creationTime.getTime()),
      defaultOrder: 'Ascending',
      defaultMaxResults: 10,
    });
    return {
      ModelPackageSummaryList: page.map(({ pkg }) => ({
        ModelPackageName: pkg.name,
        ModelPackageGroupName: pkg.groupName,
        ModelPackageVersion: pkg.version,
        ModelPackageArn: pkg.arn,
        ModelPackageDescription: pkg.request.ModelPackageDescription,
        CreationTime: pkg.creationTime,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: pkg.approvalStatus,
      })),
      NextToken: nextToken,
    };
  }

  updatePackage(input: UpdateModelPackageInput): UpdateModelPackageOutput {
    assertValid(shapes.UpdateModelPackage, input);
    const pkg = this.findPackage(input.ModelPackageArn!);
    const statusChanged = input.ModelApprovalStatus !== undefined && input.ModelApprovalStatus !== pkg.approvalStatus;
    if (input.ModelApprovalStatus) pkg.approvalStatus = input.ModelApprovalStatus;
    if (input.ApprovalDescription !== undefined) pkg.approvalDescription = input.ApprovalDescription;
    if (input.CustomerMetadataProperties || input.CustomerMetadataPropertiesToRemove) {
      const merged = { ...pkg.customerMetadata, ...input.CustomerMetadataProperties };
      for (const key of input.CustomerMetadataPropertiesToRemove ?? []) delete merged[key];
      pkg.customerMetadata = Object.keys(merged).length ? merged : undefined;
    }
    if (input.SourceUri !== undefined) pkg.sourceUri = input.SourceUri;
    pkg.lastModifiedTime = new Date();
    if (statusChanged) this.publishStateChange(pkg);
    return { ModelPackageArn: pkg.arn };
  }

  /** "SageMaker Model Package State Change": a package is created, or its approval status changes. */
  private publishStateChange(pkg: ModelPackageRecord): void {
    if (!this.ctx.events.enabled) return;
    this.ctx.events.publish<ModelPackageStateChange>(MODEL_PACKAGE_STATE_CHANGE, pkg.arn, modelPackageDetail(this.describePackage({ ModelPackageName: pkg.arn })));
  }

  /** The package a name, `group/version` or ARN refers to. */
  findPackage(reference: string): ModelPackageRecord {
    const part = resourcePart(reference);
    const pkg = this.ctx.store.modelPackages.get(arnOf(this.ctx, 'model-package', part));
    if (!pkg) throw validationError(`ModelPackage ${arnOf(this.ctx, 'model-package', part)} does not exist.`);
    return pkg;
  }

  private findGroupOrUndefined(reference: string): ModelPackageGroupRecord | undefined {
    return this.ctx.store.modelPackageGroups.get(resourcePart(reference));
  }

  private findGroup(reference: string): ModelPackageGroupRecord {
    const group = this.findGroupOrUndefined(reference);
    if (!group) throw validationError(`ModelPackageGroup ${arnOf(this.ctx, 'model-package-group', resourcePart(reference))} does not exist.`);
    return group;
  }
}

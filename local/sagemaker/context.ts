// What every local SageMaker service shares: account identity, the store, S3 and the data directory.
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { validationError } from './errors';
import type { EventDelivery } from './events';
import type { FaultCounter, Fault, TimeScale } from './faults';
import type { ImageRegistry } from './images';
import type { SageMakerStore } from './store';

export interface ServiceContext {
  region: string;
  accountId: string;
  dataDir: string;
  s3: S3Client;
  store: SageMakerStore;
  images: ImageRegistry;
  /** Role ARNs that exist; '*' accepts any well-formed ARN. */
  roles: '*' | ReadonlySet<string>;
  stopGraceMs: number;
  trainingInstanceQuota: number;
  endpointStartupTimeoutMs: number;
  checkpointSyncMs: number;
  /** Simulated seconds per real second, for stopping conditions, fault times and reported durations. */
  time: TimeScale;
  /** Counts `xN` faults across jobs. */
  faultCounter: FaultCounter;
  /** Faults applied to every training job (the `trainingFaults` option), with the list as written. */
  trainingFaults?: { value: string; faults: Fault[] };
  /** EventBridge state-change events, delivered to HTTP targets (a no-op without targets). */
  events: EventDelivery;
}

export type ArnResource =
  | 'training-job'
  | 'processing-job'
  | 'model-package-group'
  | 'model-package'
  | 'model'
  | 'endpoint-config'
  | 'endpoint';

/** SageMaker lower-cases resource names inside ARNs. */
export function arnOf(ctx: ServiceContext, resource: ArnResource, name: string): string {
  return `arn:aws:sagemaker:${ctx.region}:${ctx.accountId}:${resource}/${name.toLowerCase()}`;
}

export function jobLogFile(ctx: ServiceContext, jobName: string): string {
  return path.join(ctx.dataDir, 'logs', `${jobName}.log`);
}

/** The check SageMaker makes when it assumes the execution role on the caller's behalf. */
export function assertRoleAssumable(ctx: ServiceContext, roleArn: string): void {
  if (ctx.roles === '*' || ctx.roles.has(roleArn)) return;
  throw validationError(
    `Could not assume role ${roleArn}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.`,
  );
}

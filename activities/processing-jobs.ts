// SageMaker Processing jobs, as the stages run them: inputs copied from S3 onto the job's volume, a job
// created once under a name that derives from the run (a retried activity or a restarted worker attaches to
// it), and a job that did not complete turned into a failure that says why. The dataset merge and the
// drift profiling run theirs to the end inside one activity (runProcessingJob); the evaluation starts its
// job in one activity and waits in another, so it uses the parts.
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  StopProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  type DescribeProcessingJobCommandOutput,
  type ProcessingInput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { createOnce, stopUnlessEnded, waitForSageMaker, type JobPolling } from './sagemaker-jobs';

/** An input copied from S3 onto the job's volume before the container starts (File mode). */
export function processingInput(name: string, uri: string, type: 'S3Prefix' | 'ManifestFile', localPath: string): ProcessingInput {
  return { InputName: name, S3Input: { S3Uri: uri, LocalPath: localPath, S3DataType: type, S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } };
}

/**
 * A ManifestFile input's contents: the prefix, then each object's URI relative to it (SageMaker copies each
 * to the same relative path under the input's local path).
 */
export function manifestFile(prefix: string, uris: readonly string[]): unknown[] {
  return [
    { prefix },
    ...uris.map((uri) => {
      if (!uri.startsWith(prefix)) throw new Error(`${uri} is not under the manifest's prefix ${prefix}`);
      return uri.slice(prefix.length);
    }),
  ];
}

export function processingJobEnded(job: DescribeProcessingJobCommandOutput): boolean {
  return job.ProcessingJobStatus === 'Completed' || job.ProcessingJobStatus === 'Failed' || job.ProcessingJobStatus === 'Stopped';
}

/**
 * Why an ended job did not complete, as a failure not worth retrying: `ClientError` when the container
 * blamed its input (its exit message starts so, as SageMaker's own containers do), else `failureType`.
 * `label` names the job in the message, e.g. "drift processing job".
 */
export function processingJobFailure(label: string, jobName: string, job: DescribeProcessingJobCommandOutput, failureType: string): ApplicationFailure {
  // A processing container explains itself in ExitMessage; FailureReason is often only "See job logs".
  const reason = [job.FailureReason, job.ExitMessage].filter(Boolean).join(' — ') || job.ProcessingJobStatus;
  const clientError = /^ClientError/.test(job.ExitMessage ?? '') || /^ClientError/.test(job.FailureReason ?? '');
  return ApplicationFailure.nonRetryable(`${label} ${jobName} ended ${job.ProcessingJobStatus}: ${reason}`, clientError ? 'ClientError' : failureType);
}

/**
 * Creates the job unless it exists (its inputs written first, so a job already running keeps the ones it
 * was given), waits for it to end with heartbeats (cancelling the run stops it), and returns it once it
 * has completed; `reattached` when an earlier attempt had created it.
 */
export async function runProcessingJob(
  sagemaker: SageMakerClient,
  job: { label: string; request: CreateProcessingJobCommandInput; writeInputs: () => Promise<void>; polling: JobPolling; failureType: string },
): Promise<{ ended: DescribeProcessingJobCommandOutput; reattached: boolean }> {
  const jobName = job.request.ProcessingJobName;
  if (!jobName) throw new Error(`${job.label}: the request has no ProcessingJobName`);
  const describe = () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: jobName }));
  const reattached = await createOnce({
    describe,
    create: async () => {
      await job.writeInputs();
      await sagemaker.send(new CreateProcessingJobCommand(job.request));
    },
  });
  if (reattached) Context.current().log.info(`${job.label} already exists: attaching to it instead of starting another`, { jobName });
  const ended = await waitForSageMaker({
    describe,
    isFinished: processingJobEnded,
    progress: (j) => ({ phase: 'processing_job', jobName, status: j.ProcessingJobStatus }),
    stop: () => stopUnlessEnded(() => sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: jobName }))),
    polling: job.polling,
  });
  if (ended.ProcessingJobStatus !== 'Completed') throw processingJobFailure(job.label, jobName, ended, job.failureType);
  return { ended, reattached };
}

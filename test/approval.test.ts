// Manual approval: a candidate that passed the gate waits, visibly, for a person. Three runs on the
// real dev server and the local SageMaker: approved through the `approve` Update, rejected in SageMaker
// Model Registry (its event reaches the run through the receiver), and rejected by the timeout.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { approvalDescription, checkApprovalRequest } from '../domain/approval';
import { InvalidEventError, routeSageMakerEvent } from '../domain/sagemaker-events';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { freePort } from '../local/temporal';
import { startEventReceiver, type EventReceiver } from '../receiver/sagemaker-events';
import { approveUpdate, rejectUpdate, retrainingPipeline, statusQuery, type RetrainingStatus } from '../workflows';

const FIXTURE = path.join(__dirname, 'fixtures', 'eventbridge', 'model-package-state-change.json');

describe('approval requests and Model Registry events (pure)', () => {
  test('an approve/reject request needs an approver and a reason, each named when missing', () => {
    assert.deepEqual(checkApprovalRequest({ approver: 'ana@example.com', reason: 'holdout and slices look right' }), []);
    const missing = checkApprovalRequest({ approver: ' ', reason: '' });
    assert.equal(missing.length, 2);
    assert.match(missing[0], /"approver" is required/);
    assert.match(missing[1], /"reason" is required/);
    assert.match(checkApprovalRequest(null)[0], /must be an object/);
    assert.match(checkApprovalRequest({ approver: 'a', reason: 'x'.repeat(901) })[0], /"reason" is 901 characters; at most 900/);
  });

  test('the description written to the registry says who decided and why', () => {
    const at = '2026-11-24T10:00:00.000Z';
    assert.equal(approvalDescription({ approved: true, approver: 'ana', reason: 'looks right', source: 'update', decidedAt: at }), 'approved by ana: looks right');
    assert.equal(approvalDescription({ approved: false, approver: 'timeout', reason: 'no approval within 60 s', source: 'timeout', decidedAt: at }), 'rejected: no approval within 60 s');
  });

  test("AWS's published model package event: read verbatim, its package looked up since the example carries no metadata", async () => {
    const event = JSON.parse(await readFile(FIXTURE, 'utf8'));
    // The example repeats "source", the second time as an array; JSON.parse keeps the array.
    assert.deepEqual(event.source, ['aws.sagemaker']);
    const route = routeSageMakerEvent(event);
    assert.deepEqual(route, { kind: 'lookup-package', modelPackageArn: 'arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2' });
    // With the package's metadata (as DescribeModelPackage returns it), the run that registered it is signalled.
    const routed = routeSageMakerEvent(event, { WorkflowId: 'retrain-churn', RunId: 'run-7', DatasetVersion: 'dv-1' });
    assert.deepEqual(routed, {
      kind: 'signal-package',
      workflowId: 'retrain-churn',
      runId: 'run-7',
      change: { eventId: event.id, time: event.time, modelPackageArn: event.detail.ModelPackageArn, approvalStatus: 'Rejected' },
    });
    const notOurs = routeSageMakerEvent(event, { team: 'growth' });
    assert.equal(notOurs.kind, 'ignored');
    assert.match((notOurs as { reason: string }).reason, /not registered by a retraining pipeline/);
  });

  test('a pending package is not a decision; a malformed one is refused naming the field', async () => {
    const event = JSON.parse(await readFile(FIXTURE, 'utf8'));
    const pending = routeSageMakerEvent({ ...event, detail: { ...event.detail, ModelApprovalStatus: 'PendingManualApproval' } });
    assert.equal(pending.kind, 'ignored');
    assert.throws(() => routeSageMakerEvent({ ...event, detail: { ...event.detail, ModelPackageArn: 'versionedmp/2' } }), (err: Error) => {
      assert.ok(err instanceof InvalidEventError);
      assert.match(err.message, /detail\.ModelPackageArn: must be a model package ARN/);
      return true;
    });
    assert.throws(() => routeSageMakerEvent({ ...event, detail: { ...event.detail, ModelApprovalStatus: 'Maybe' } }), /detail\.ModelApprovalStatus/);
  });
});

describe('manual approval on the dev server and the local SageMaker', () => {
  let dataDir: string;
  let stack: LocalStack;
  let receiver: EventReceiver;
  let worker: Awaited<ReturnType<typeof startLocalWorker>>;
  const TASK_QUEUE = 'approval-test';

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'approval-'));
    const port = await freePort();
    stack = await startLocalStack({
      dataDir,
      buckets: [DEMO_BUCKET],
      applyToProcess: true,
      sageMaker: { eventTargets: [`http://127.0.0.1:${port}/`], eventHeaders: { 'x-api-key': 'local' } },
    });
    receiver = await startEventReceiver({ client: stack.temporal.environment.client, apiKey: 'local', port });
    worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
    await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
  });

  after(async () => {
    await worker?.stop();
    await receiver?.close();
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function manualConfig(timeoutSeconds: number) {
    const config = demoConfig();
    return { ...config, approval: { mode: 'manual' as const, timeoutSeconds } };
  }

  async function startRun(workflowId: string, timeoutSeconds: number) {
    return stack.temporal.environment.client.workflow.start(retrainingPipeline, { taskQueue: TASK_QUEUE, workflowId, args: [{ config: manualConfig(timeoutSeconds), force: true }] });
  }

  async function awaitingApproval(handle: WorkflowHandle<typeof retrainingPipeline>): Promise<RetrainingStatus> {
    for (let i = 0; i < 1800; i++) {
      const status = await handle.query(statusQuery).catch(() => null);
      if (status?.stage === 'awaiting-approval') return status;
      if (status?.stage === 'done') assert.fail(`the run ended (${status.decision}: ${status.details}) without waiting for approval`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the run did not reach awaiting-approval within three minutes');
  }

  async function stageAttribute(handle: WorkflowHandle<typeof retrainingPipeline>): Promise<unknown> {
    const description = await handle.describe();
    return description.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'RetrainingStage')?.value;
  }

  // The three runs share one endpoint and model group; only the approved one deploys.
  test('approved by Update, rejected in Model Registry, and rejected by timeout', async () => {
    const sagemaker = new SageMakerClient({});
    const [byUpdate, byRegistry, byTimeout] = await Promise.all([startRun('approval-by-update', 3600), startRun('approval-by-registry', 3600), startRun('approval-by-timeout', 8)]);

    // 1. The Update: refused without a reason or approver, accepted with both; it answers once the registry has it.
    const waiting = await awaitingApproval(byUpdate);
    assert.equal(waiting.approval?.status, 'awaiting');
    assert.equal(await stageAttribute(byUpdate), 'awaiting-approval', 'the Web UI can list runs awaiting approval by RetrainingStage');
    const pendingPackage = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: waiting.approval!.modelPackageArn }));
    assert.equal(pendingPackage.ModelApprovalStatus, 'PendingManualApproval');
    assert.match(pendingPackage.ApprovalDescription ?? '', /^gate: .*Awaiting manual approval\.$/);
    await assert.rejects(byUpdate.executeUpdate(approveUpdate, { args: [{ approver: 'ana@example.com', reason: '  ' }] }), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, err.message);
      assert.match(String(err.cause?.message), /"reason" is required/);
      return true;
    });
    const approved = await byUpdate.executeUpdate(approveUpdate, { args: [{ approver: 'ana@example.com', reason: 'holdout and slices look right' }] });
    assert.equal(approved.status, 'approved');
    assert.equal(approved.decision?.source, 'update');
    const approvedPackage = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: approved.modelPackageArn }));
    assert.equal(approvedPackage.ModelApprovalStatus, 'Approved');
    assert.equal(approvedPackage.ApprovalDescription, 'approved by ana@example.com: holdout and slices look right');
    // A second decision is refused: the run is no longer awaiting one.
    await assert.rejects(byUpdate.executeUpdate(rejectUpdate, { args: [{ approver: 'bo@example.com', reason: 'changed my mind' }] }), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, err.message);
      assert.match(String(err.cause?.message), /model package v\d+ is already approved/);
      return true;
    });
    const promoted = await byUpdate.result();
    assert.equal(promoted.decision, 'promoted');
    assert.equal(promoted.approval?.decision?.approver, 'ana@example.com');

    // 2. Rejected in SageMaker: UpdateModelPackage, its event through the receiver, confirmed by the run.
    const registryWaiting = await awaitingApproval(byRegistry);
    await sagemaker.send(
      new UpdateModelPackageCommand({ ModelPackageArn: registryWaiting.approval!.modelPackageArn, ModelApprovalStatus: 'Rejected', ApprovalDescription: 'rejected in Studio by bo: wait for the Q4 labels' }),
    );
    const rejected = await byRegistry.result();
    assert.equal(rejected.decision, 'rejected');
    assert.equal(rejected.approval?.decision?.source, 'model-registry');
    assert.equal(rejected.approval?.decision?.reason, 'rejected in Studio by bo: wait for the Q4 labels');
    assert.equal(rejected.deployment, null, 'a rejected candidate is not deployed');
    const history = await byRegistry.fetchHistory();
    assert.ok(
      (history.events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'modelPackageStateChanged'),
      'the decision reached the run as the Model Package State Change event',
    );

    // 3. Nobody decides: rejected at the deadline, and the registry says so.
    const timedOut = await byTimeout.result();
    assert.equal(timedOut.decision, 'rejected');
    assert.equal(timedOut.approval?.decision?.source, 'timeout');
    assert.match(timedOut.reason, /^rejected: no approval within 8 s/);
    const timedOutPackage = await sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: timedOut.modelPackageArn! }));
    assert.equal(timedOutPackage.ModelApprovalStatus, 'Rejected');
    assert.equal(timedOutPackage.ApprovalDescription, 'rejected: no approval within 8 s (approval.timeoutSeconds)');
  });
});

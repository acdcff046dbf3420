// The Temporal Web UI as the control room, driven by Debian's chromium through playwright-core against
// the dev server's own UI: the run list filtered by the model's search attribute, the run's stage and
// summary, and a pending approval sent from the UI as the `approve` Update. Screenshots go to
// test/artifacts/ui/ (git-ignored) for a person to look at.
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { retrainingStartOptions } from '../client/runs';
import { customers, DEMO_BUCKET, demoConfig, labelledCsv } from '../local/demo-data';
import { startLocalStack, startLocalWorker, type LocalStack } from '../local/stack';
import { retrainingPipeline, statusQuery } from '../workflows';

/** Debian's chromium (apt install chromium); playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, 'artifacts', 'ui');
const TASK_QUEUE = 'ui-test';
let dataDir: string;
let stack: LocalStack;
let worker: Awaited<ReturnType<typeof startLocalWorker>>;
let browser: Browser;

before(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(`the browser test drives Debian's chromium at ${CHROMIUM}; install it with "apt install chromium"`);
  });
  await mkdir(ARTIFACTS, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'ui-'));
  stack = await startLocalStack({ dataDir, buckets: [DEMO_BUCKET], applyToProcess: true });
  worker = await startLocalWorker(stack, { taskQueue: TASK_QUEUE, jobPolling: { firstMs: 200, maxMs: 1000 } });
  await new S3Client({}).send(new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: 'labels/initial.csv', Body: labelledCsv(customers('before', 3000, 1)) }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

test('the run list filtered by model, the run awaiting approval with its stage and summary, and approval sent from the UI', async () => {
  const config = { ...demoConfig(), approval: { mode: 'manual' as const, timeoutSeconds: 3600 } };
  const client = stack.temporal.environment.client;
  const handle = await client.workflow.start(retrainingPipeline, {
    taskQueue: TASK_QUEUE,
    ...retrainingStartOptions(config, { trigger: 'manual', reason: 'browser test' }, { force: true }),
  });
  for (let i = 0; ; i++) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status?.stage === 'awaiting-approval') break;
    assert.ok(i < 1800, 'the run reaches awaiting-approval within three minutes');
    await new Promise((r) => setTimeout(r, 100));
  }
  const { runId } = await handle.describe();
  const ui = `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}`;
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });

  // 1. The list, filtered by the model's search attribute, shows the run.
  await page.goto(`${ui}/workflows?query=${encodeURIComponent('RetrainingModel="churn-propensity"')}`);
  const row = page.getByRole('link', { name: handle.workflowId }).first();
  await row.waitFor({ timeout: 30_000 });
  await assertVisible(page, 'RetrainingModel');
  await shot(page, '1-list-filtered-by-model');

  // 2. The run: its summary, details and current details (stage awaiting-approval).
  await row.click();
  await page.waitForURL(new RegExp(`/workflows/${handle.workflowId}/${runId}`), { timeout: 30_000 });
  await page.locator(`a[href$="/${runId}/user-metadata"]:visible`).first().click();
  await page.waitForURL(/\/user-metadata$/);
  await assertVisible(page, 'Retrain churn-propensity (manual)');
  await assertVisible(page, 'Trigger manual: browser test');
  await assertVisible(page, 'stage awaiting-approval');
  await assertVisible(page, 'Awaiting approval of model package v1');
  await shot(page, '2-run-awaiting-approval');

  // 3. The approval, sent from the UI as the run's `approve` Update.
  await page.locator('button:visible', { hasText: 'More Actions' }).first().click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  await page.locator('dialog[open]').getByTestId('update-select-button').click();
  // Each option shows the Update's name and the description the workflow registered with it.
  await page.locator('dialog[open] li[role="option"]', { hasText: 'Approve the candidate awaiting approval' }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.locator('.cm-content').fill(JSON.stringify({ approver: 'ops@example.com', reason: 'approved from the Temporal Web UI' }));
  // The editor re-formats the JSON when it loses focus; let it, then submit.
  await dialog.getByText('Update ID (optional)').click();
  await page.waitForTimeout(500);
  await shot(page, '3-approve-update');
  await dialog.getByTestId('confirm-modal-button').click();
  await page.locator('dialog[open]').waitFor({ state: 'detached', timeout: 30_000 }).catch(async () => {
    await shot(page, 'missing-update-sent');
    throw new Error('the Send an Update dialog did not close after Submit; see test/artifacts/ui/missing-update-sent.png');
  });

  const outcome = await Promise.race([
    handle.result(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the run did not finish within two minutes of the approval sent from the UI')), 120_000)),
  ]);
  assert.equal(outcome.decision, 'promoted', outcome.reason);
  assert.equal(outcome.approval?.decision?.approver, 'ops@example.com');
  assert.equal(outcome.approval?.decision?.source, 'update');
  const pkg = await new SageMakerClient({}).send(new DescribeModelPackageCommand({ ModelPackageName: outcome.modelPackageArn! }));
  assert.equal(pkg.ModelApprovalStatus, 'Approved');
  assert.equal(pkg.ApprovalDescription, 'approved by ops@example.com: approved from the Temporal Web UI');

  // 4. The UI shows the change: completed, approved by the UI's user, stage done.
  await page.reload();
  await assertVisible(page, 'stage done');
  await assertVisible(page, 'Approval: approved by ops@example.com (update): approved from the Temporal Web UI');
  await shot(page, '4-run-promoted');
  await page.close();
});

/**
 * Waits for the text in the page or any of its frames (the UI renders a run's Markdown summary and
 * details in sandboxed iframes); if it never shows, saves what the page did show beside the screenshots.
 */
async function assertVisible(page: Page, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const body = await frame.locator('body').innerText({ timeout: 1000 }).catch(() => '');
      if (body.replace(/\s+/g, ' ').includes(text)) return;
    }
    await page.waitForTimeout(250);
  }
  const name = `missing-${text.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`;
  await shot(page, name);
  throw new Error(`the Web UI does not show "${text}" within 30 s; see test/artifacts/ui/${name}.png`);
}

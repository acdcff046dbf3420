// Drift stage I/O: read the champion's training data and the endpoint's captured traffic, hand both
// to the pure statistics in domain/drift, and write the report beside the run.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../domain/config';
import { captureFeatureRows, captureKeyHours, parseCaptureLine } from '../domain/capture';
import { compareDatasets } from '../domain/drift';
import type { DatasetManifest } from '../domain/dataset-version';
import { parseLabelledCsvLine } from '../domain/dataset-version';
import { getJson, listObjects, putJson, readLines, s3Join } from './s3-objects';
import { currentRun } from './sagemaker-jobs';
import type { Champion, DriftSummary } from './types';

export interface DetectDriftInput {
  config: PipelineConfig;
  champion: Champion;
  /** The end of the capture window, fixed by the workflow so retries read the same window. */
  windowEnd: string;
}

export async function detectDrift(s3: S3Client, input: DetectDriftInput): Promise<DriftSummary> {
  const { config, champion } = input;
  const context = Context.current();
  const features = config.dataset.schema.features;
  if (!champion.datasetManifestUri) {
    throw ApplicationFailure.nonRetryable(`champion ${champion.modelPackageArn} records no DatasetManifestUri, so there is no baseline to compare with`, 'LineageMissing');
  }
  if (!champion.captureS3Uri) {
    throw ApplicationFailure.nonRetryable(`endpoint ${config.endpoint.name} does not capture data (DataCaptureConfig is off), so drift cannot be measured`, 'LineageMissing');
  }

  // Baseline: the training split of the dataset version the champion was trained on.
  const manifest = await getJson<DatasetManifest>(s3, champion.datasetManifestUri);
  const reference = columns(features.map((f) => f.name));
  let unreadableReference = 0;
  for await (const { line } of readLines(s3, manifest.splits.train.uri, { signal: context.cancellationSignal })) {
    if (!line.trim()) continue;
    const parsed = parseLabelledCsvLine(line, config.dataset.schema);
    if (!parsed.ok) {
      unreadableReference++;
      continue;
    }
    features.forEach((f, i) => reference[f.name]!.push(parsed.row.features[i]!));
  }

  // Current: captured requests in the window, under {capture}/{endpoint}/{variant}/yyyy/mm/dd/hh/.
  const to = new Date(input.windowEnd);
  const from = new Date(to.getTime() - config.drift.windowHours * 3600_000);
  const current = columns(features.map((f) => f.name));
  let currentCount = 0;
  let unreadableCaptures = 0;
  const unreadableExamples: string[] = [];
  for (const hourPrefix of captureKeyHours(config.endpoint.name, config.endpoint.variant, from, to)) {
    for (const object of await listObjects(s3, s3Join(champion.captureS3Uri, hourPrefix), { signal: context.cancellationSignal })) {
      context.heartbeat({ reading: object.uri, currentCount });
      for await (const { line, number } of readLines(s3, object.uri, { signal: context.cancellationSignal })) {
        if (!line.trim()) continue;
        try {
          const record = parseCaptureLine(line);
          const at = new Date(record.inferenceTime);
          if (at < from || at > to) continue;
          for (const row of captureFeatureRows(record, features.length)) {
            features.forEach((f, i) => current[f.name]!.push(row[i]!));
            currentCount++;
          }
        } catch (err) {
          unreadableCaptures++;
          if (unreadableExamples.length < 5) unreadableExamples.push(`${object.uri}:${number}: ${(err as Error).message}`);
        }
      }
    }
  }

  const report = compareDatasets({
    features,
    reference,
    current,
    options: {
      pValueThreshold: config.drift.pValueThreshold,
      psiThreshold: config.drift.psiThreshold,
      driftShare: config.drift.driftShare,
      minSamples: config.drift.minSamples,
    },
  });
  const { workflowId, runId } = currentRun();
  const reportUri = s3Join(config.reportsS3Uri, config.model, workflowId, runId, 'drift-report.json');
  await putJson(s3, reportUri, {
    model: config.model,
    endpoint: config.endpoint.name,
    variant: config.endpoint.variant,
    window: { from: from.toISOString(), to: to.toISOString() },
    baseline: { datasetVersion: manifest.versionId, uri: manifest.splits.train.uri, unreadableRows: unreadableReference },
    capture: { uri: champion.captureS3Uri, records: currentCount, unreadableRecords: unreadableCaptures, unreadableExamples },
    ...report,
  });
  return {
    verdict: report.verdict,
    detected: report.verdict === 'drift',
    score: report.score,
    driftedFeatures: report.driftedFeatures,
    features: report.features.map((f) => ({ name: f.name, method: f.method, statistic: f.statistic, pValue: f.pValue, threshold: f.threshold, drifted: f.drifted })),
    reportUri,
    currentCount: report.currentCount,
    referenceCount: report.referenceCount,
  };
}

function columns(names: string[]): Record<string, number[]> {
  return Object.fromEntries(names.map((n) => [n, [] as number[]]));
}

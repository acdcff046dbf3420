// Dataset stage I/O: merge newly labelled objects into a new, content-addressed dataset version.
// The manifest is written last, so its presence means the version is complete; a retry that finds
// it writes nothing.
import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../domain/config';
import { DatasetMerge, datasetVersionId, parseLabelledCsvLine, toCsvLine, type DatasetManifest, type Split } from '../domain/dataset-version';
import { getJson, listObjects, objectExists, putJson, putText, readLines, s3Join } from './s3-objects';
import type { Champion, DatasetVersionSummary } from './types';

const SPLITS: Split[] = ['train', 'validation', 'holdout'];
const CONFLICT_POLICY = 'quarantine-conflicts' as const;

/** The manifest as stored: the pure manifest plus every source object merged into this version or its ancestors. */
export type StoredManifest = DatasetManifest & { consumedSources: { uri: string; etag: string }[] };

export interface ExpandDatasetInput {
  config: PipelineConfig;
  champion: Champion | null;
}

export async function expandDataset(s3: S3Client, input: ExpandDatasetInput): Promise<DatasetVersionSummary> {
  const { config, champion } = input;
  const context = Context.current();
  const signal = context.cancellationSignal;
  const parent = champion?.datasetManifestUri ? await getJson<StoredManifest>(s3, champion.datasetManifestUri) : null;
  const alreadyMerged = new Set((parent?.consumedSources ?? []).map((s) => `${s.uri}#${s.etag}`));
  const sources = (await listObjects(s3, config.dataset.newDataS3Uri, { signal }))
    .filter((o) => !alreadyMerged.has(`${o.uri}#${o.etag}`))
    .map((o) => ({ uri: o.uri, etag: o.etag }));
  const shares = { validationShare: config.dataset.validationShare, holdoutShare: config.dataset.holdoutShare };
  const params = { schema: config.dataset.schema, ...shares, conflicts: CONFLICT_POLICY };
  const versionId = datasetVersionId({ model: config.model, parent: parent?.versionId ?? null, sources, params });
  const versionUri = s3Join(config.dataset.rootS3Uri, config.model, versionId);
  const manifestUri = s3Join(versionUri, 'manifest.json');

  if (await objectExists(s3, manifestUri)) {
    return summarize(await getJson<StoredManifest>(s3, manifestUri), manifestUri, true);
  }

  const merge = new DatasetMerge(config.dataset.schema, shares, CONFLICT_POLICY);
  if (parent) {
    for (const split of SPLITS) {
      for await (const { line, number } of readLines(s3, parent.splits[split].uri, { signal })) {
        if (!line.trim()) continue;
        const parsed = parseLabelledCsvLine(line, config.dataset.schema);
        if (!parsed.ok) throw new Error(`parent dataset version ${parent.versionId} is corrupt at ${parent.splits[split].uri}:${number}: ${parsed.reason}`);
        merge.addExisting(parsed.row, split);
      }
    }
  }
  for (const source of sources) {
    context.heartbeat({ merging: source.uri });
    for await (const { line, number } of readLines(s3, source.uri, { signal })) {
      if (!line.trim()) continue;
      merge.addNew(line, { uri: source.uri, line: number });
    }
  }

  const splits = {} as DatasetManifest['splits'];
  for (const split of SPLITS) {
    const uri = s3Join(versionUri, split, 'data.csv');
    let rows = 0;
    const lines: string[] = [];
    for (const row of merge.rows(split)) {
      lines.push(toCsvLine(row));
      rows++;
    }
    await putText(s3, uri, lines.length ? `${lines.join('\n')}\n` : '', 'text/csv');
    splits[split] = { uri, rows };
  }
  const quarantined = [...merge.quarantined()];
  const quarantineUri = quarantined.length ? s3Join(versionUri, 'quarantine', 'rows.jsonl') : null;
  if (quarantineUri) {
    await putText(s3, quarantineUri, quarantined.map((q) => JSON.stringify(q)).join('\n') + '\n', 'application/x-ndjson');
  }
  const manifest: StoredManifest = {
    versionId,
    model: config.model,
    parent: parent?.versionId ?? null,
    createdFrom: sources,
    params,
    schema: config.dataset.schema,
    counts: merge.counts(),
    classBalance: merge.classBalance(),
    splits,
    quarantineUri,
    consumedSources: [...(parent?.consumedSources ?? []), ...sources],
  };
  await putJson(s3, manifestUri, manifest);
  return summarize(manifest, manifestUri, false);
}

function summarize(manifest: StoredManifest, manifestUri: string, reused: boolean): DatasetVersionSummary {
  return {
    versionId: manifest.versionId,
    parent: manifest.parent,
    manifestUri,
    rows: manifest.counts.total,
    newRows: manifest.counts.new,
    duplicates: manifest.counts.duplicates,
    conflicts: manifest.counts.conflicts,
    quarantined: manifest.counts.quarantined,
    quarantinedByReason: manifest.counts.quarantinedByReason,
    quarantineUri: manifest.quarantineUri,
    channels: { train: manifest.splits.train.uri, validation: manifest.splits.validation.uri, holdout: manifest.splits.holdout.uri },
    reused,
  };
}

// The stored form of a dataset version: manifest.json, written last (its presence means the version is
// complete), and the row records of rows/{split}.jsonl that carry each row's identity into the next version.
import type { DatasetSchema } from '../config';
import type { Split } from '../dataset-version';
import type { MergeCounts } from './accounting';
import type { ChannelSource } from './channels';

export const MANIFEST_FORMAT = 'dataset-version/2';

export interface SourceObject {
  uri: string;
  etag: string;
  size: number;
  /** ISO time; the record time of rows whose format carries none (CSV). */
  lastModified: string | null;
}

export interface VersionObject {
  uri: string;
  /** Lines in the object (train CSV objects count recency copies). */
  lines: number;
  bytes: number;
}

export interface SplitObjects {
  /** The first CSV object (readers that take one object, such as drift's baseline, start here). */
  uri: string;
  rows: number;
  /** Every label-first CSV object of the split, in order. */
  objects: VersionObject[];
  /** Gzipped copies of the CSV objects, when channels.compression is Gzip (train and validation). */
  gzipObjects?: VersionObject[];
  /** rows/{split}.jsonl: one record per row (key, time, origin), the augmented manifest for Pipe mode. */
  rowsUri: string;
}

/** One line of rows/{split}.jsonl. `copy` marks the extra lines recency weighting adds (train only). */
export interface RowRecord {
  features: string;
  label: number;
  key: string;
  time: string | null;
  origin: string;
  copy?: number;
}

export interface DatasetVersionManifest {
  format: typeof MANIFEST_FORMAT;
  versionId: string;
  model: string;
  parent: string | null;
  parentManifestUri: string | null;
  /** The new objects merged into this version. */
  createdFrom: SourceObject[];
  /** Every source merged into this version or its ancestors (a source merged once is not merged again). */
  consumedSources: { uri: string; etag: string }[];
  params: Record<string, unknown>;
  schema: DatasetSchema;
  counts: MergeCounts;
  /** The equation every input row satisfies, with its terms (see accounting.ts). */
  conservation: { holds: boolean; equation: string };
  /** Rows per class label, all splits (classification only). */
  classBalance: Record<string, number>;
  classBalanceBySplit: Record<Split, Record<string, number>>;
  splits: Record<Split, SplitObjects>;
  /** How the train and validation splits reach a training job. */
  channels: { train: ChannelSource; validation: ChannelSource };
  quarantineUri: string | null;
  holdout: { share: number; rule: string };
  retention: { newestRecordTime: string | null; oldestKept: string | null; rowCapKeepsFrom: string | null; rowCapKeepsUntimed: boolean | null };
  /** Every object of the version but this manifest. */
  objects: VersionObject[];
  merge: { spilled: boolean; partitions: number; memoryBytes: number; mode: 'worker' | 'processing_job'; processingJobName?: string };
}

/** The stored manifest of a version written before dataset-version/2: one CSV object per split, no row records. */
export interface LegacyManifest {
  versionId: string;
  splits: Record<Split, { uri: string; rows: number }>;
  consumedSources?: { uri: string; etag: string }[];
  params?: { holdoutShare?: number };
}

export function isCurrentManifest(m: DatasetVersionManifest | LegacyManifest): m is DatasetVersionManifest {
  return (m as DatasetVersionManifest).format === MANIFEST_FORMAT;
}

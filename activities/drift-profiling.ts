// Drift profiling from S3, usable outside an activity and without SageMaker or Temporal loaded (the drift
// processing job and library callers import only this): captured traffic and training splits streamed into
// constant-memory feature profiles (domain/drift/profile.ts). activities/drift.ts re-exports all of it.
//
//   listCaptureObjects(s3, { captureS3Uri, endpoint, variant, from, to, concurrency?, signal? }): Promise<ObjectRef[]>
//       every capture object under the window's {endpoint}/{variant}/yyyy/mm/dd/hh/ prefixes, in key order
//   profileCapturedTraffic(s3, { captureS3Uri, endpoint, variant, from, to, features, concurrency?, threads?, limits?, signal?, onProgress? })
//       : Promise<CaptureWindowProfile>   lists the window, then profileCaptureObjects over it
//   profileCaptureObjects(source, objects, { features, window?, concurrency?, threads?, limits?, signal?, onProgress? })
//       : Promise<CaptureWindowProfile>   reads `concurrency` objects at once, folds each into its own
//         profile and merges them in object order, so the result does not depend on timing; `threads`
//         (default 'auto': every core but one, for a large window) parses and folds on worker threads,
//         or, on two cores, merges on one, with the same result (activities/drift-fold.ts)
//   profileDatasetSplit(s3, { uri, features, limits?, signal?, onProgress? }): Promise<DatasetSplitProfile>
//   profileDatasetObjects(source, objects, { features, concurrency?, limits?, signal?, onProgress? }): Promise<DatasetSplitProfile>
//   s3ObjectSource(s3): ObjectSource        an ObjectSource reads objects by URI (S3 here; files in the job)
//
// Memory: at most `concurrency` objects are in flight, each folded into a profile of bounded size (per
// numerical feature ≤ 10,000 exact values, ≤ 100 distinct counts and a KLL sketch of ≤ ~5,700 items; per
// categorical feature ≤ `limits.categories` counts), plus one running profile, whatever the number of
// records. Fold threads hold only the objects in flight they were handed.
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { captureKeyHours } from '../domain/capture';
import type { CaptureWindowProfile, CaptureWindowProfileJson, DatasetSplitProfile, DatasetSplitProfileJson, ProfiledFeature, ProfileLimits } from '../domain/drift';
import { listObjects, s3Join } from './s3-objects';
import { DEFAULT_READ_CONCURRENCY, foldObjects } from './drift-fold';

export interface ObjectRef {
  uri: string;
  /** Bytes, when known (0 otherwise): for progress and the processing-job threshold. */
  size: number;
}

/** Reads an object's bytes by URI. */
export interface ObjectSource {
  open(uri: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array | string>>;
}

export function s3ObjectSource(s3: S3Client): ObjectSource {
  return {
    async open(uri, signal) {
      const { bucket, key } = s3Location(uri);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return object.Body as AsyncIterable<Uint8Array>;
    },
  };
}

export interface ProfilingProgress {
  phase: 'baseline' | 'capture';
  objects: number;
  objectsRead: number;
  bytes: number;
  bytesRead: number;
  rows: number;
}

export interface StreamOptions {
  features: readonly ProfiledFeature[];
  /** Objects read at once (default 8). */
  concurrency?: number;
  /**
   * Threads that parse and fold (1: this one). 'auto' (the default) is every core but this one for a
   * window of AUTO_THREADS_ABOVE_BYTES or more in several objects, else 1; when that leaves the folding
   * here on a machine of two cores or more, the folds of such a window merge on a thread of their own;
   * a single object of AUTO_OWN_THREAD_BYTES or more is folded on a thread of its own.
   * Bytes are still read here and handed over, so any ObjectSource works; the profile is the same, bit
   * for bit, whatever the number.
   */
  threads?: number | 'auto';
  limits?: ProfileLimits;
  signal?: AbortSignal;
  /** Called after each object and every 65,536 lines within one: a heartbeat, a progress bar. */
  onProgress?: (progress: ProfilingProgress) => void;
}

export { AUTO_OWN_THREAD_BYTES, AUTO_THREADS_ABOVE_BYTES, DEFAULT_READ_CONCURRENCY, forEachLine, LineSplitter } from './drift-fold';

export interface CaptureStreamOptions extends StreamOptions {
  /** Records outside [from, to] (by eventMetadata.inferenceTime) are counted and skipped. */
  window?: { from: Date; to: Date };
}

export function profileCaptureObjects(source: ObjectSource, objects: readonly ObjectRef[], options: CaptureStreamOptions): Promise<CaptureWindowProfile> {
  const window = options.window ? { from: options.window.from.getTime(), to: options.window.to.getTime() } : null;
  return foldObjects(source, objects, options, { phase: 'capture', features: [...options.features], limits: options.limits, window });
}

export function profileDatasetObjects(source: ObjectSource, objects: readonly ObjectRef[], options: StreamOptions): Promise<DatasetSplitProfile> {
  return foldObjects(source, objects, options, { phase: 'baseline', features: [...options.features], limits: options.limits, window: null });
}

export interface CaptureWindow {
  /** Data capture's destination, e.g. s3://bucket/data-capture (objects live under {endpoint}/{variant}/yyyy/mm/dd/hh/). */
  captureS3Uri: string;
  endpoint: string;
  variant: string;
  from: Date;
  to: Date;
}

export async function listCaptureObjects(s3: S3Client, window: CaptureWindow & { concurrency?: number; signal?: AbortSignal }): Promise<ObjectRef[]> {
  const prefixes = captureKeyHours(window.endpoint, window.variant, window.from, window.to);
  const listed: ObjectRef[][] = new Array(prefixes.length);
  let next = 0;
  const lister = async () => {
    for (let i = next++; i < prefixes.length; i = next++) {
      listed[i] = (await listObjects(s3, s3Join(window.captureS3Uri, prefixes[i]!), { signal: window.signal })).map((o) => ({ uri: o.uri, size: o.size }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(prefixes.length, window.concurrency ?? DEFAULT_READ_CONCURRENCY) }, lister));
  return listed.flat();
}

export async function profileCapturedTraffic(s3: S3Client, options: CaptureWindow & StreamOptions): Promise<CaptureWindowProfile> {
  const objects = await listCaptureObjects(s3, options);
  return profileCaptureObjects(s3ObjectSource(s3), objects, { ...options, window: { from: options.from, to: options.to } });
}

export async function profileDatasetSplit(s3: S3Client, options: { uri: string } & StreamOptions): Promise<DatasetSplitProfile> {
  return profileDatasetObjects(s3ObjectSource(s3), [{ uri: options.uri, size: await objectSize(s3, options.uri) }], options);
}

/** What the drift processing job writes to its output (profiles.json), and the worker computes itself. */
export interface DriftProfilesJson {
  reference: DatasetSplitProfileJson;
  current: CaptureWindowProfileJson;
}

/** What the processing job reads from its `spec` input (spec.json). */
export interface DriftJobSpec {
  features: ProfiledFeature[];
  window: { from: string; to: string };
  limits: ProfileLimits;
  readConcurrency: number;
  /** The manifest's prefix: a capture file at relative path p is named `${captureS3Uri}/${p}` in examples. */
  captureS3Uri: string;
  /**
   * The baseline split's URI, to name it in examples: the object's, for a split of one object; for a split
   * of several, the prefix they share (each is then named `${baselineUri}/${relative path}`).
   */
  baselineUri: string;
}

export function s3Location(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// object URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

export async function objectSize(s3: S3Client, uri: string): Promise<number> {
  const { bucket, key } = s3Location(uri);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return head.ContentLength ?? 0;
}

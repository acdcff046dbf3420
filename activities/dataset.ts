// Dataset stage I/O: merge newly labelled objects into a new, immutable, content-addressed dataset version.
//
// Entry points:
//   expandDataset(s3, input, jobs?)        the Temporal activity (heartbeats; past
//                                          dataset.processingJobAboveBytes runs the merge as a processing job)
//   mergeDatasetVersion(s3, options)       the same merge in this process, callable anywhere (no Temporal
//                                          Context needed): benchmarks and tools. Pass `heartbeat` for progress.
//   mergeVersionObjects(io, plan, opts)    the streaming core over any object source and sink (S3 here,
//                                          local files in the processing container, local/algorithms/dataset)
//
// The merge streams: parent rows and new lines go through a de-duplication index that holds at most
// dataset.merge.memoryBytes / 4 of serialized rows; past that it spills to disk partitions by ranges of
// the row's placement hash (disk hash partitioning), and each partition is resolved alone. Outputs are
// written as streamed multipart uploads, in hash order, so their bytes do not depend on the memory bound.
// The manifest is written last: its presence means the version is complete, and a run that finds it
// writes nothing. See docs/datasets.md.
import { hash as digest } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CreateProcessingJobCommandInput, ProcessingInput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { DatasetChannelSettings, DatasetSchema, PipelineConfig } from '../domain/config';
import { countQuarantined, conservation, emptyCounts, type MergeCounts } from '../domain/dataset-merge/accounting';
import { channelSettingsIdentity, channelSourceFor, type ChannelSource } from '../domain/dataset-merge/channels';
import { contentKey, featuresText, partitionOf, placementHash, splitFor } from '../domain/dataset-merge/keys';
import {
  isCurrentManifest,
  MANIFEST_FORMAT,
  type DatasetVersionManifest,
  type LegacyManifest,
  type RowRecord,
  type SourceObject,
  type SplitObjects,
  type VersionObject,
} from '../domain/dataset-merge/manifest';
import { resolveKey, type Observation } from '../domain/dataset-merge/resolve';
import { oldestKept, RowCapCutoff, trainCopies, type RetentionPolicy } from '../domain/dataset-merge/retention';
import { readLabelledLine, type LabelledDataFormat, type RecordVerdict } from '../domain/labelled-data';
import { canonicalCsvRow } from '../domain/labelled-data/csv';
import { datasetVersionId, parseLabelledCsvLine, SPLITS, type ConflictPolicy, type Split, type SplitShares } from '../domain/dataset-version';
import { sageMakerName } from '../domain/job-names';
import { runTags } from '../domain/sagemaker-events';
import { manifestFile, processingInput, runProcessingJob } from './processing-jobs';
import { currentRun, type JobPolling } from './sagemaker-jobs';
import { getJson, listObjects, objectExists, parseS3Uri, putJson, s3Join } from './s3-objects';
import type { Champion, DatasetVersionSummary } from './types';

/** The manifest as stored (the current format). */
export type StoredManifest = DatasetVersionManifest;

// --- What a merge needs ----------------------------------------------------------------------------------

/** Everything the streaming core decides from: serializable, so a processing job gets it as spec.json. */
export interface MergePlan {
  model: string;
  versionId: string;
  versionUri: string;
  schema: DatasetSchema;
  input: PipelineConfig['dataset']['input'];
  shares: SplitShares;
  dedupKey: 'content' | 'record-key';
  conflictPolicy: ConflictPolicy;
  retention: RetentionPolicy;
  channels: DatasetChannelSettings;
  memoryBytes: number;
  /** Where spilled partitions go; the OS temp directory when unset. */
  workDir?: string;
  parent: ParentPlan | null;
  sources: SourceObject[];
}

export interface ParentPlan {
  versionId: string;
  manifestUri: string;
  /** Per split, the objects holding its rows: row records (current format) or label-first CSV (legacy). */
  splits: Record<Split, { kind: 'rows' | 'csv'; uris: string[] }>;
  /** Their size in all. */
  bytes: number;
}

/** Where the core reads objects from and writes them to. */
export interface ObjectIo {
  open(uri: string, signal?: AbortSignal): Promise<Readable>;
  create(uri: string, contentType: string): ObjectWriter;
}

export interface ObjectWriter {
  /** Resolves when the text is buffered or sent; await it before writing more (backpressure). */
  write(text: string): Promise<void> | undefined;
  close(): Promise<{ bytes: number }>;
  abort(): Promise<void>;
}

export interface MergeProgress {
  phase: 'reading' | 'resolving' | 'retention' | 'writing';
  objectsRead: number;
  objects: number;
  linesRead: number;
  partitionsDone?: number;
  partitions?: number;
}

export interface MergeOptions {
  heartbeat?: (progress: MergeProgress) => void;
  signal?: AbortSignal;
}

/** What the core wrote and counted: the manifest less what only the caller knows. */
export interface MergeResult {
  counts: MergeCounts;
  classBalance: Record<string, number>;
  classBalanceBySplit: Record<Split, Record<string, number>>;
  splits: Record<Split, SplitObjects>;
  channels: { train: ChannelSource; validation: ChannelSource };
  quarantineUri: string | null;
  retention: DatasetVersionManifest['retention'];
  objects: VersionObject[];
  spilled: boolean;
  partitions: number;
}

// One-shot hashing: createHash's object per row cost more than the digest itself.
const sha256Hex = (text: string) => digest('sha256', text, 'hex');

// --- Reading lines -------------------------------------------------------------------------------------------

interface RawLine {
  /** The line's bytes, without its line ending; a prefix only when tooLong. */
  bytes: Buffer;
  number: number;
  /** Set when the line ran past the limit: its full length in bytes (the rest was skipped, not held). */
  tooLong?: number;
}

const NEWLINE = 0x0a;

/** Lines of a byte stream, holding at most maxLineBytes of one line. */
export async function* readRawLines(stream: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<RawLine> {
  for await (const batch of readLineBatches(stream, maxLineBytes)) yield* batch;
}

/**
 * The same lines, a chunk's worth at a time: a caller loops over each batch synchronously, instead of
 * paying an async generator's promise for every line.
 */
export async function* readLineBatches(stream: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<RawLine[]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = 0;
  let number = 0;
  const finish = (tail: Buffer): RawLine => {
    number++;
    if (skipping) {
      const line: RawLine = { bytes: Buffer.concat(pending).subarray(0, 200), number, tooLong: skipping + tail.length };
      pending = [];
      pendingBytes = 0;
      skipping = 0;
      return line;
    }
    const bytes = pending.length ? Buffer.concat([...pending, tail]) : tail;
    pending = [];
    pendingBytes = 0;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return { bytes: bytes.subarray(0, end), number };
  };
  for await (const chunk of stream) {
    let start = 0;
    const batch: RawLine[] = [];
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      batch.push(finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (batch.length) yield batch;
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (skipping) skipping += rest.length;
      else if (pendingBytes + rest.length > maxLineBytes) {
        pending.push(rest);
        skipping = pendingBytes + rest.length;
        pending = [Buffer.concat(pending).subarray(0, 200)];
      } else {
        // Copy: a chunk's buffer may be reused by the stream.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
  }
  if (pendingBytes > 0 || skipping) yield [finish(Buffer.alloc(0))];
}

// --- Reading records -------------------------------------------------------------------------------------------

/**
 * One line of new data as a record or a rejection, by domain/labelled-data's readers (CSV, JSON Lines,
 * Ground Truth manifests). The text is decoded leniently; the reader takes U+FFFD as not_utf8.
 */
function readNewLine(text: string, source: { uri: string; line: number }, plan: MergePlan): RecordVerdict {
  return readLabelledLine(plan.input.format as LabelledDataFormat, text, { schema: plan.schema, source, options: plan.input });
}

/**
 * A CSV line in canonical form (canonicalCsvRow), read without decoding or parsing its features: what
 * the full readers would make of it, or null for any other line (the caller reads that the full way).
 * A label that names a class (classNames) is left to the full reader, which reads names first.
 */
function canonicalCsv(bytes: Buffer, width: number, classes: number | undefined, classNames: readonly string[] | undefined): { label: number; features: string } | null {
  const comma = canonicalCsvRow(bytes, width);
  if (comma < 0) return null;
  let label = 0;
  if (classes !== undefined && !classNames) {
    // A class index: canonical digits only (a sign or a point means it is no class; the full reader says why).
    for (let i = 0; i < comma; i++) {
      const digit = bytes[i]! - 0x30;
      if (digit < 0 || digit > 9) return null;
      label = label * 10 + digit;
    }
    if (label >= classes) return null;
  } else {
    const labelText = bytes.toString('latin1', 0, comma);
    if (classNames?.includes(labelText)) return null;
    label = Number(labelText);
    if (classes !== undefined && (!Number.isInteger(label) || label < 0 || label >= classes)) return null;
  }
  return { label, features: bytes.toString('latin1', comma + 1) };
}

/** Bytes read ahead of the parser in each input object. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/**
 * The most the parser is handed at once. The bytes read ahead are held in blocks of this size, taken
 * from a pool and given back once parsed: a merge allocates a few blocks and reuses them for every
 * object. A stream's own read() joined all it held into one new Buffer of up to twice the read-ahead,
 * which, freed and allocated again for each object, fragmented glibc's heap (peak RSS grew with the
 * number of objects read).
 */
const READ_AHEAD_BLOCK_BYTES = 1024 * 1024;

/** Read-ahead blocks, allocated when first needed and reused for the rest of the merge. */
class ReadAheadBlocks {
  private readonly free: Buffer[] = [];

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(READ_AHEAD_BLOCK_BYTES);
  }

  giveBack(block: Buffer): void {
    this.free.push(block);
  }
}

/**
 * One input object's bytes, copied into read-ahead blocks as they arrive and handed to the parser a
 * block at a time. A block handed out stays valid until the parser asks for the next one: readLineBatches
 * copies what it keeps of a block (a line's start) before it does.
 */
class ObjectReadAhead implements AsyncIterable<Buffer> {
  /** Blocks read and not yet handed out, with the bytes each holds. */
  private readonly filled: { block: Buffer; bytes: number }[] = [];
  private filling: Buffer | null = null;
  private used = 0;
  private ended = false;
  private failed: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly source: Readable,
    private readonly blocks: ReadAheadBlocks,
  ) {
    source.on('data', (chunk: Buffer) => this.arrive(chunk));
    source.on('end', () => {
      this.ended = true;
      this.notify();
    });
    source.on('error', (err) => this.fail(err));
    source.on('close', () => {
      if (!this.ended) this.fail(new Error('the object stream closed before its end'));
    });
  }

  private arrive(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; ) {
      this.filling ??= this.blocks.take();
      const n = chunk.copy(this.filling, this.used, at);
      this.used += n;
      at += n;
      if (this.used === this.filling.length) this.seal();
    }
    if (this.filled.length >= READ_AHEAD_BYTES / READ_AHEAD_BLOCK_BYTES) this.source.pause();
    this.notify();
  }

  /** Moves the block being filled to the blocks ready to be handed out. */
  private seal(): void {
    this.filled.push({ block: this.filling!, bytes: this.used });
    this.filling = null;
    this.used = 0;
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let handedOut: Buffer | null = null;
    try {
      for (;;) {
        // The parser is done with the block it was handed.
        if (handedOut) this.blocks.giveBack(handedOut);
        handedOut = null;
        // Whatever has arrived, even part of a block: the parser does not wait for a block to fill.
        if (this.filled.length === 0 && this.used > 0) this.seal();
        const next = this.filled.shift();
        if (next) {
          handedOut = next.block;
          if (this.source.isPaused() && !this.ended) this.source.resume();
          yield next.block.subarray(0, next.bytes);
          continue;
        }
        if (this.failed) throw this.failed;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (handedOut) this.blocks.giveBack(handedOut);
      for (const { block } of this.filled.splice(0)) this.blocks.giveBack(block);
      if (!this.ended) this.source.destroy();
    }
  }
}

/**
 * The input objects, read in their order, each up to READ_AHEAD_BYTES ahead of the parser, and the next
 * one opened (and read ahead) while the current one is parsed: the store sends while the merge parses,
 * instead of each waiting on the other at every chunk and every object.
 */
class ReadAhead {
  private next = 0;
  private ahead: { uri: string; object: Promise<ObjectReadAhead> } | null = null;
  private readonly opened: Readable[] = [];
  private readonly blocks = new ReadAheadBlocks();

  constructor(
    private readonly io: ObjectIo,
    private readonly uris: string[],
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The bytes of `uri`, which must be the next in the order given. */
  async open(uri: string): Promise<ObjectReadAhead> {
    if (this.uris[this.next] !== uri) throw new Error(`ReadAhead: ${uri} opened out of order (expected ${this.uris[this.next]})`);
    const current = this.ahead?.uri === uri ? this.ahead.object : this.start(uri);
    this.ahead = null;
    this.next++;
    const following = this.uris[this.next];
    if (following !== undefined) this.ahead = { uri: following, object: this.start(following) };
    return current;
  }

  private start(uri: string): Promise<ObjectReadAhead> {
    const object = this.io.open(uri, this.signal).then((source) => {
      this.opened.push(source);
      return new ObjectReadAhead(source, this.blocks);
    });
    // Awaited when its turn comes; until then a failure must not go unhandled.
    object.catch(() => undefined);
    return object;
  }

  /** Stops whatever is still being read (after a failure, or an object left unread). */
  close(): void {
    for (const stream of this.opened) if (!stream.destroyed && !stream.readableEnded) stream.destroy();
  }
}

// --- The de-duplication index: in memory, spilling to disk partitions ----------------------------------------

/**
 * Observations, serialized one per line: hash, key (empty when it equals the hash), label, features,
 * time, order, parent split, origin. Keys and origins are escaped so a tab or newline in them is safe.
 */
function serialize(o: Observation, originRef: string): string {
  return `${o.hash}\t${o.key === o.hash ? '' : escapeField(o.key)}\t${o.label}\t${o.features}\t${o.time ?? ''}\t${o.order}\t${o.parentSplit ?? ''}\t${originRef}\n`;
}

function escapeField(text: string): string {
  return /[\t\n\\]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n') : text;
}

function unescapeField(text: string): string {
  return text.includes('\\') ? text.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)) : text;
}

/** Origins are `uri:line`; URIs repeat, so the index stores a number for each. */
class OriginTable {
  private readonly ids = new Map<string, number>();
  readonly uris: string[] = [];

  ref(uri: string, line: number): string {
    let id = this.ids.get(uri);
    if (id === undefined) {
      id = this.uris.length;
      this.ids.set(uri, id);
      this.uris.push(uri);
    }
    return `${id}:${line}`;
  }

  /** `uri:line` as written in a row record: the line number is after the last colon. */
  refOf(origin: string): string {
    const colon = origin.lastIndexOf(':');
    const line = Number(origin.slice(colon + 1));
    return colon > 0 && Number.isSafeInteger(line) ? this.ref(origin.slice(0, colon), line) : this.ref(origin, 0);
  }

  resolve(ref: string): string {
    const colon = ref.indexOf(':');
    return `${this.uris[Number(ref.slice(0, colon))]}:${ref.slice(colon + 1)}`;
  }

  private readonly jsonPrefixes: string[] = [];

  /** jsonString(resolve(ref)), without building the origin: the URI's quoted text is kept, and a line number needs no escaping. */
  json(ref: string): string {
    const colon = ref.indexOf(':');
    const id = Number(ref.slice(0, colon));
    let prefix = this.jsonPrefixes[id];
    if (prefix === undefined) this.jsonPrefixes[id] = prefix = jsonString(`${this.uris[id]}:`).slice(0, -1);
    return `${prefix}${ref.slice(colon + 1)}"`;
  }
}

function deserialize(line: string, origins: OriginTable): Observation {
  const f = line.split('\t');
  const hash = f[0]!;
  return {
    hash,
    key: f[1] ? unescapeField(f[1]) : hash,
    label: Number(f[2]),
    features: f[3]!,
    time: f[4] ? Number(f[4]) : null,
    order: Number(f[5]),
    parentSplit: (f[6] || null) as Split | null,
    origin: origins.resolve(f[7]!),
  };
}

/** The value of the 8 hex digits at `at` (a serialized line's placement hash: its leading 32 bits). */
function leading32(bytes: Buffer, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = bytes[i]!;
    v = v * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return v;
}

/**
 * Puts a partition's serialized lines (bytes, each line ending in a newline, starting with a lowercase hex
 * hash) in the order lines.sort() gives them, in linear time on uniform hashes: lines are dealt into as
 * many buckets as there are lines by their leading 32 bits (an order-preserving map, so the buckets are
 * ranges of the order, and one hash's lines share a bucket), and only a bucket with several lines (about
 * one in three, and every group of one key's sightings) is sorted.
 *
 * A line is decoded only when its bucket's turn comes, so it dies young, and the arrays are kept for the
 * next partition. Decoded whole and split, a partition was 45 MiB of strings that lived until it was
 * written and then waited for V8's next full collection, so peak memory depended on when that came.
 */
export class PlacementOrder {
  private lineStarts = new Uint32Array(0);
  private lead = new Float64Array(0);
  private bucketOf = new Uint32Array(0);
  private bucketStarts = new Uint32Array(0);
  private next = new Uint32Array(0);
  private order = new Uint32Array(0);

  /** The lines of `bytes` without their newlines, a bucket at a time, in order. */
  *buckets(bytes: Buffer): Generator<string[]> {
    let n = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl >= 0; nl = bytes.indexOf(NEWLINE, nl + 1)) {
      if (n + 1 >= this.lineStarts.length) this.lineStarts = grown(this.lineStarts, n + 2);
      this.lineStarts[++n] = nl + 1;
    }
    if (n === 0) return;
    if (this.order.length < n) this.makeRoom(n);
    const { lineStarts, lead, bucketOf, bucketStarts, next, order } = this;
    lineStarts[0] = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = leading32(bytes, lineStarts[i]!);
      lead[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const scale = n / (max - min + 1);
    bucketStarts.fill(0, 0, n + 1);
    for (let i = 0; i < n; i++) {
      const b = Math.floor((lead[i]! - min) * scale);
      bucketOf[i] = b;
      bucketStarts[b + 1]!++;
    }
    for (let b = 0; b < n; b++) bucketStarts[b + 1]! += bucketStarts[b]!;
    next.set(bucketStarts.subarray(0, n));
    for (let i = 0; i < n; i++) order[next[bucketOf[i]!]!++] = i;
    const line = (i: number) => bytes.toString('utf8', lineStarts[i]!, lineStarts[i + 1]! - 1);
    for (let b = 0; b < n; b++) {
      const from = bucketStarts[b]!;
      const to = bucketStarts[b + 1]!;
      if (to - from === 1) yield [line(order[from]!)];
      else if (to > from) {
        const bucket: string[] = [];
        for (let k = from; k < to; k++) bucket.push(line(order[k]!));
        // Compares UTF-16 code units, as sort() of the whole did.
        yield bucket.sort();
      }
    }
  }

  private makeRoom(lines: number): void {
    const room = Math.ceil(lines * 1.25);
    this.lead = new Float64Array(room);
    this.bucketOf = new Uint32Array(room);
    this.bucketStarts = new Uint32Array(room + 1);
    this.next = new Uint32Array(room);
    this.order = new Uint32Array(room);
  }
}

function grown(array: Uint32Array, atLeast: number): Uint32Array<ArrayBuffer> {
  const larger = new Uint32Array(Math.max(atLeast, Math.ceil(array.length * 1.5), 1024));
  larger.set(array);
  return larger;
}

const NO_BYTES = Buffer.alloc(0);

/** Per-string overhead of a V8 string in an array, for the memory estimate. */
const STRING_OVERHEAD = 40;
/** Parsed observations, grouped, take about this many times their serialized size. */
const RESOLVE_EXPANSION = 4;

/**
 * Holds serialized observations in memory up to a bound, then spills them to partition files (ranges
 * of the placement hash), sized so each partition can be resolved within the bound.
 */
class DedupIndex {
  /**
   * Serialized lines until the spill, as UTF-8 bytes in one buffer outside V8's heap, which then holds
   * each partition in turn: the memory the partitions need anyway, allocated once. Held as strings, the
   * lines were most of V8's heap when it was first collected, and V8 then let the heap grow to several
   * times that before collecting it again: some 230 MiB of garbage at 10M rows. Held in buffers of
   * their own, freed at the spill, they left glibc's heap fragmented.
   */
  private held: Buffer | null = null;
  private heldBytes = 0;
  /** Lines not yet in `held`: joined 4,096 at a time (a template-built line is a tree of parts until flattened). */
  private pending: string[] = [];
  /** The memory estimate the budget is checked against: lines as V8 strings. */
  private bufferBytes = 0;
  private partitions: PartitionFile[] | null = null;
  private readonly budget: number;

  constructor(
    memoryBytes: number,
    private readonly workDir: () => Promise<string>,
    private readonly estimateTotal: (bufferedBytes: number) => number,
  ) {
    this.budget = Math.max(64 * 1024, Math.floor(memoryBytes / RESOLVE_EXPANSION));
  }

  get spilled(): boolean {
    return this.partitions !== null;
  }

  get partitionCount(): number {
    return this.partitions?.length ?? 1;
  }

  /** Resolves when the line is held or written; undefined when there is nothing to wait for (most lines). */
  add(hash: string, line: string): Promise<void> | undefined {
    if (this.partitions) return this.partitions[partitionOf(hash, this.partitions.length)]!.write(line);
    this.pending.push(line);
    if (this.pending.length >= 4096) this.flushPending();
    this.bufferBytes += line.length + STRING_OVERHEAD;
    return this.bufferBytes > this.budget ? this.spill() : undefined;
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    const bytes = Buffer.byteLength(text);
    // Room for the budget's worth of ASCII at once (untouched pages cost nothing); more for wider text.
    if (!this.held || this.heldBytes + bytes > this.held.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.budget, 2 * (this.heldBytes + bytes)));
      this.held?.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    this.heldBytes += this.held.write(text, this.heldBytes, 'utf8');
  }

  /** The held lines, one string each, a megabyte's worth decoded at a time (nothing is held after). */
  private *takeHeld(): Generator<string> {
    this.flushPending();
    const held = this.held;
    const end = this.heldBytes;
    this.heldBytes = 0;
    this.bufferBytes = 0;
    if (!held) return;
    for (let from = 0; from < end; ) {
      const cut = held.lastIndexOf(0x0a, Math.min(end, from + 1024 * 1024) - 1);
      const to = cut < from ? end : cut + 1;
      for (const line of held.toString('utf8', from, to).split('\n')) if (line) yield line;
      from = to;
    }
  }

  private async spill(): Promise<void> {
    const dir = await this.workDir();
    const count = Math.max(2, Math.ceil((this.estimateTotal(this.bufferBytes) * 1.25) / this.budget));
    // The spill's write buffers share one budget, so more partitions (more rows) do not mean more memory.
    const appendBytes = Math.max(MIN_SPILL_APPEND_BYTES, Math.min(SPILL_APPEND_BYTES, Math.floor(SPILL_BUFFER_BUDGET / (3 * count))));
    this.partitions = Array.from({ length: count }, (_, i) => new PartitionFile(path.join(dir, `partition-${String(i).padStart(5, '0')}.tsv`), appendBytes));
    for (const line of this.takeHeld()) {
      const p = this.partitions[partitionOf(line.slice(0, line.indexOf('\t')), count)]!;
      const wait = p.write(`${line}\n`);
      if (wait) await wait;
    }
  }

  /**
   * Each partition's serialized lines in turn, as bytes (one partition in memory at a time). The bytes
   * are valid until the next partition is asked for.
   */
  async *partitionsInOrder(): AsyncGenerator<Buffer> {
    if (!this.partitions) {
      this.flushPending();
      const bytes = (this.held ?? NO_BYTES).subarray(0, this.heldBytes);
      this.bufferBytes = 0;
      yield bytes;
      return;
    }
    for (const p of this.partitions) await p.close();
    // A partition is sized to be held whole: each is read in one go into the same buffer, the one that
    // held the lines before the spill unless the largest partition needs more. A new buffer for each
    // (readFile) was freed and allocated again some 100 times at 10M rows, and fragmented glibc's heap.
    const largest = Math.max(1, ...this.partitions.map((p) => p.bytes));
    const bytes = this.held && this.held.length >= largest ? this.held : Buffer.allocUnsafeSlow(largest);
    this.held = bytes;
    for (const p of this.partitions) {
      await readWhole(p.file, bytes.subarray(0, p.bytes));
      await rm(p.file, { force: true });
      yield bytes.subarray(0, p.bytes);
    }
  }
}

/** Reads a file that holds exactly `into.length` bytes into `into`. */
async function readWhole(file: string, into: Buffer): Promise<void> {
  const handle = await open(file, 'r');
  try {
    let length = 0;
    while (length < into.length) {
      const { bytesRead } = await handle.read(into, length, into.length - length, length);
      if (bytesRead === 0) throw new Error(`the merge's spill file ${file} holds ${length} bytes, not the ${into.length} written to it`);
      length += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Bytes a spill file gathers before an append, at most and at least. */
const SPILL_APPEND_BYTES = 64 * 1024;
const MIN_SPILL_APPEND_BYTES = 16 * 1024;
/** What all partitions' append buffers and the appends in flight may hold together (until MIN_SPILL_APPEND_BYTES binds). */
const SPILL_BUFFER_BUDGET = 8 * 1024 * 1024;

/**
 * A local file written in large appends, with backpressure. Lines are encoded into the append buffer
 * as they come, so they die young: held as strings until a join, as they were, a line waited through
 * the next few garbage collections (one partition in 99 takes each line at 10M rows) and was promoted,
 * and collection took 40 % of the reading.
 */
class PartitionFile {
  private readonly stream: WriteStream;
  private buffer: Buffer;
  /** Append buffers the file has written, to fill again: new ones for each append fragmented glibc's heap. */
  private readonly spares: Buffer[] = [];
  private used = 0;
  private failed: Error | null = null;
  /** Bytes handed to the file so far. */
  bytes = 0;

  constructor(
    readonly file: string,
    private readonly appendBytes = SPILL_APPEND_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafe(appendBytes);
    // Room for a couple of appends in flight: with the default 16 KiB mark every append waited for the
    // disk, and the reader with it.
    this.stream = createWriteStream(file, { highWaterMark: 2 * appendBytes });
    this.stream.on('error', (err) => (this.failed ??= err));
  }

  write(text: string): Promise<void> | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.used + text.length * 3 <= this.buffer.length) {
      this.used += this.buffer.write(text, this.used, 'utf8');
      return undefined;
    }
    const wait = this.flush();
    if (text.length * 3 <= this.buffer.length) this.used = this.buffer.write(text, 0, 'utf8');
    else this.append(Buffer.from(text, 'utf8'));
    return wait;
  }

  /** Appends what the buffer holds; the buffer goes with the write and a spare takes its place. */
  private flush(): Promise<void> | undefined {
    if (this.used === 0) return this.failed ? Promise.reject(this.error(this.failed)) : undefined;
    const filled = this.buffer;
    const used = this.used;
    this.buffer = this.spares.pop() ?? Buffer.allocUnsafe(this.appendBytes);
    this.used = 0;
    return this.append(filled.subarray(0, used), () => this.spares.push(filled));
  }

  private append(bytes: Buffer, written?: () => void): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.error(this.failed));
    this.bytes += bytes.length;
    if (this.stream.write(bytes, written && ((err) => err || written()))) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        if (err) reject(this.error(err));
        else resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
    });
  }

  private error(err: Error): Error {
    return new Error(`could not write the merge's spill file ${this.file}: ${err.message}`);
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

// --- Writing the version's objects ------------------------------------------------------------------------------

/** S3's smallest part but the last. */
const PART_BYTES = 5 * 1024 * 1024;
/** A full part buffer: a part, and room for the line that takes it past PART_BYTES. */
const PART_BUFFER_BYTES = PART_BYTES + 64 * 1024;

/**
 * Full part buffers, shared by one merge's writers: a writer gives its buffers back when its object is
 * closed, and the next object's writer fills them. With buffers of its own, each object (18 CSV objects
 * at 10M rows) allocated its three and grew to them from 64 KiB, and glibc's heap fragmented as they
 * were freed.
 */
class PartBuffers {
  private readonly free: Buffer[] = [];

  take(): Buffer | undefined {
    return this.free.pop();
  }

  giveBack(part: Buffer): void {
    if (part.length === PART_BUFFER_BYTES) this.free.push(part);
  }
}
/**
 * Parts of one object sent at once. With one, the writer stopped at every filled part until the store
 * had taken the last (a third of the writing pass idle on the 1M bench); two let it fill a third.
 */
const PARTS_IN_FLIGHT = 2;

/**
 * An S3 object written as a streamed multipart upload: at most one part is held in memory. Small
 * objects go up in one PutObject. Bodies are Buffers (a streamed body makes the SDK send aws-chunked
 * content, which S3 stand-ins such as s3rver store verbatim).
 */
class S3ObjectWriter implements ObjectWriter {
  /**
   * The part being filled: text is encoded into it as it comes, so lines die young instead of waiting
   * in a list to be joined (which would promote them to V8's old space, where garbage lingers).
   */
  private part: Buffer;
  /** Buffers of parts that have been sent, reused for the next parts. */
  private spares: Buffer[] = [];
  private used = 0;
  private bytes = 0;
  private uploadId: string | undefined;
  /** Parts being sent, oldest first: at most PARTS_IN_FLIGHT. */
  private inflight: Promise<void>[] = [];
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private readonly location: { Bucket: string; Key: string };

  constructor(
    private readonly s3: S3Client,
    uri: string,
    private readonly contentType: string,
    private readonly partBuffers: PartBuffers,
    /** Turns a part's bytes into the body sent (gzip, for compressed copies). */
    private readonly encode: (bytes: Buffer) => Buffer = (b) => b,
  ) {
    const { bucket, key } = parseS3Uri(uri);
    this.location = { Bucket: bucket, Key: key };
    this.part = partBuffers.take() ?? Buffer.allocUnsafe(64 * 1024);
  }

  write(text: string): Promise<void> | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const need = this.used + text.length * 3;
    if (need > this.part.length) {
      // Small objects stay small: the buffer doubles up to a part, then a full part goes out.
      if (this.part.length < PART_BYTES || this.used === 0) {
        const size = Math.max(need, Math.min(PART_BUFFER_BYTES, this.part.length * 2));
        const grown = (size === PART_BUFFER_BYTES ? this.partBuffers.take() : undefined) ?? Buffer.allocUnsafe(size);
        this.part.copy(grown, 0, 0, this.used);
        this.part = grown;
      } else {
        return this.startPart().then(() => this.write(text));
      }
    }
    this.used += this.part.write(text, this.used, 'utf8');
    return this.used >= PART_BYTES ? this.startPart() : undefined;
  }

  /**
   * Sends the filled part while the caller goes on filling another buffer: at most PARTS_IN_FLIGHT parts
   * in flight. The last part takes no buffer to fill after it.
   */
  private async startPart(last = false): Promise<void> {
    while (this.inflight.length >= PARTS_IN_FLIGHT) await this.inflight[0];
    const filled = this.part;
    const body = this.encode(filled.subarray(0, this.used));
    if (last) this.part = Buffer.alloc(0);
    else this.part = this.spares.pop() ?? (filled.length === PART_BUFFER_BYTES ? this.partBuffers.take() : undefined) ?? Buffer.allocUnsafe(filled.length);
    this.used = 0;
    this.uploadId ??= (await this.s3.send(new CreateMultipartUploadCommand({ ...this.location, ContentType: this.contentType }))).UploadId!;
    const PartNumber = this.parts.length + 1;
    this.parts.push({ PartNumber, ETag: '' });
    this.bytes += body.length;
    const sent: Promise<void> = this.s3.send(new UploadPartCommand({ ...this.location, UploadId: this.uploadId, PartNumber, Body: body })).then(
      (part) => {
        this.parts[PartNumber - 1]!.ETag = part.ETag!;
        this.spares.push(filled);
        this.inflight.splice(this.inflight.indexOf(sent), 1);
      },
    );
    this.inflight.push(sent);
    // A failed part fails the next write or the close (it stays in the list, so it is awaited again).
    sent.catch(() => undefined);
  }

  async close(): Promise<{ bytes: number }> {
    if (this.uploadId === undefined && this.inflight.length === 0) {
      const body = Buffer.from(this.encode(this.part.subarray(0, this.used)));
      this.used = 0;
      this.partBuffers.giveBack(this.part);
      await this.s3.send(new PutObjectCommand({ ...this.location, Body: body, ContentType: this.contentType }));
      return { bytes: body.length };
    }
    if (this.used > 0) await this.startPart(true);
    await Promise.all(this.inflight);
    this.partBuffers.giveBack(this.part);
    for (const spare of this.spares.splice(0)) this.partBuffers.giveBack(spare);
    await this.s3.send(new CompleteMultipartUploadCommand({ ...this.location, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }));
    return { bytes: this.bytes };
  }

  async abort(): Promise<void> {
    if (this.uploadId) await this.s3.send(new AbortMultipartUploadCommand({ ...this.location, UploadId: this.uploadId })).catch(() => undefined);
  }
}

export function s3ObjectIo(s3: S3Client): ObjectIo {
  const partBuffers = new PartBuffers();
  return {
    open: async (uri, signal) => {
      const { bucket, key } = parseS3Uri(uri);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return object.Body as Readable;
    },
    create: (uri, contentType) => new S3ObjectWriter(s3, uri, contentType, partBuffers, contentType === 'application/gzip' ? (b) => gzipSync(b) : undefined),
  };
}

/** Local files standing for S3 objects: `uri` maps to a path (the processing container's inputs and outputs). */
export function fileObjectIo(pathOf: (uri: string, purpose: 'read' | 'write') => string): ObjectIo {
  return {
    open: async (uri) => createReadStream(pathOf(uri, 'read'), { highWaterMark: 1 << 20 }),
    create: (uri, contentType) => {
      const file = pathOf(uri, 'write');
      let stream: WriteStream | undefined;
      let bytes = 0;
      const gzip = contentType === 'application/gzip';
      let pending: string[] = [];
      let chars = 0;
      const flush = async (): Promise<void> => {
        if (!stream) {
          await mkdir(path.dirname(file), { recursive: true });
          stream = createWriteStream(file);
        }
        const body = gzip ? gzipSync(pending.join('')) : Buffer.from(pending.join(''), 'utf8');
        pending = [];
        chars = 0;
        bytes += body.length;
        if (!stream.write(body)) await new Promise<void>((resolve) => stream!.once('drain', () => resolve()));
      };
      return {
        write: (text) => {
          pending.push(text);
          chars += text.length;
          return chars >= PART_BYTES ? flush() : undefined;
        },
        close: async () => {
          if (chars > 0 || !stream) await flush();
          await new Promise<void>((resolve, reject) => stream!.end((err?: Error | null) => (err ? reject(err) : resolve())));
          return { bytes };
        },
        abort: async () => {
          stream?.destroy();
        },
      };
    },
  };
}

/** A split's CSV as objects of at most `objectRows` lines: part-00000.csv, part-00001.csv, ... */
class SplitCsvWriter {
  private writer: ObjectWriter | null = null;
  private lines = 0;
  private uri = '';
  readonly objects: VersionObject[] = [];

  constructor(
    private readonly io: ObjectIo,
    private readonly prefix: string,
    private readonly objectRows: number,
    private readonly gzip: boolean,
  ) {}

  /** Objects being closed while the next one fills; their entries wait in `objects`, in order. */
  private closing: Promise<void>[] = [];

  write(line: string): Promise<void> | undefined {
    let closing: Promise<void> | undefined;
    if (this.writer && this.lines >= this.objectRows) closing = this.roll();
    if (!this.writer) this.open();
    this.lines++;
    const written = this.writer!.write(line);
    return closing && written ? Promise.all([closing, written]).then(() => undefined) : (closing ?? written);
  }

  private open(): void {
    const name = `part-${String(this.objects.length).padStart(5, '0')}.csv${this.gzip ? '.gz' : ''}`;
    this.uri = s3Join(this.prefix, name);
    this.writer = this.io.create(this.uri, this.gzip ? 'application/gzip' : 'text/csv');
    this.lines = 0;
  }

  /**
   * Starts closing the current object (its last part and its completion go on while the next one fills).
   * Returns the close before it when that one is still going: at most two objects of a split close at
   * once, each holding its last part, so a slow store does not make memory grow with the object count.
   */
  private roll(): Promise<void> | undefined {
    const entry: VersionObject = { uri: this.uri, lines: this.lines, bytes: 0 };
    this.objects.push(entry);
    const writer = this.writer!;
    this.writer = null;
    const closed = writer.close().then(({ bytes }) => {
      entry.bytes = bytes;
    });
    // A failed close fails close() below; until then it must not go unhandled.
    closed.catch(() => undefined);
    this.closing.push(closed);
    return this.closing.length >= 2 ? this.closing[this.closing.length - 2] : undefined;
  }

  /** Closes the last object; a split with no rows still gets one (empty) object, so its channel exists. */
  async close(): Promise<VersionObject[]> {
    if (!this.writer) this.open();
    this.roll();
    await Promise.all(this.closing);
    return this.objects;
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

/** An object of JSON Lines (row records, quarantine). A lazy one is created by its first line: no lines, no object. */
class LinesWriter {
  lines = 0;
  private writer: ObjectWriter | null = null;

  constructor(
    private readonly io: ObjectIo,
    readonly uri: string,
    private readonly contentType: string,
    lazy = false,
  ) {
    if (!lazy) this.writer = io.create(uri, contentType);
  }

  write(line: string): Promise<void> | undefined {
    this.lines++;
    this.writer ??= this.io.create(this.uri, this.contentType);
    return this.writer.write(line);
  }

  async close(): Promise<VersionObject> {
    const bytes = this.writer ? (await this.writer.close()).bytes : 0;
    return { uri: this.uri, lines: this.lines, bytes };
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

// --- The streaming core ----------------------------------------------------------------------------------------

/** A kept row, resolved, waiting to be written. */
interface KeptRow {
  observation: Observation;
  split: Split;
  isNew: boolean;
}

function timeOf(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/**
 * Reads the parent's rows and the new sources, de-duplicates and resolves conflicts under the plan's
 * policy, applies retention, and writes the version's objects (not its manifest) through `io`.
 */
export async function mergeVersionObjects(io: ObjectIo, plan: MergePlan, opts: MergeOptions = {}): Promise<MergeResult> {
  const counts = emptyCounts();
  const classBalanceBySplit: Record<Split, Record<string, number>> = { train: {}, validation: {}, holdout: {} };
  const origins = new OriginTable();
  const totalBytes = plan.sources.reduce((n, s) => n + s.size, 0) + (plan.parent?.bytes ?? 0);
  const objectCount = (plan.parent ? SPLITS.reduce((n, s) => n + plan.parent!.splits[s].uris.length, 0) : 0) + plan.sources.length;
  const progress: MergeProgress = { phase: 'reading', objectsRead: 0, objects: objectCount, linesRead: 0 };
  const beat = throttle(() => opts.heartbeat?.({ ...progress }), 1000);
  let workDir: string | null = null;
  const ensureWorkDir = async () => {
    if (!workDir) {
      const base = plan.workDir ?? tmpdir();
      await mkdir(base, { recursive: true });
      workDir = await mkdtemp(path.join(base, `dataset-merge-${plan.versionId}-`));
    }
    return workDir;
  };
  let bytesRead = 0;
  const index = new DedupIndex(plan.memoryBytes, ensureWorkDir, (buffered) => (bytesRead > 0 ? (buffered * Math.max(totalBytes, bytesRead)) / bytesRead : buffered));

  const quarantineUri = s3Join(plan.versionUri, 'quarantine', 'rows.jsonl');
  const quarantine = new LinesWriter(io, quarantineUri, 'application/x-ndjson', true);
  const csv = Object.fromEntries(
    SPLITS.map((s) => [s, new SplitCsvWriter(io, s3Join(plan.versionUri, 'csv', s), plan.channels.objectRows, false)]),
  ) as Record<Split, SplitCsvWriter>;
  const gzipped = plan.channels.compression === 'Gzip'
    ? { train: new SplitCsvWriter(io, s3Join(plan.versionUri, 'csv-gzip', 'train'), plan.channels.objectRows, true), validation: new SplitCsvWriter(io, s3Join(plan.versionUri, 'csv-gzip', 'validation'), plan.channels.objectRows, true) }
    : null;
  const rowsUri = (s: Split) => s3Join(plan.versionUri, 'rows', `${s}.jsonl`);
  const rows = Object.fromEntries(SPLITS.map((s) => [s, new LinesWriter(io, rowsUri(s), 'application/jsonlines')])) as Record<Split, LinesWriter>;
  const writers = { abort: async () => Promise.all([quarantine.abort(), ...SPLITS.map((s) => csv[s].abort()), ...SPLITS.map((s) => rows[s].abort())]) };

  const cleanups: (() => void)[] = [];
  try {
    let order = 0;
    let newest: number | null = null;
    const note = (t: number | null) => {
      if (t !== null && (newest === null || t > newest)) newest = t;
    };
    const quarantineLine = async (uri: string, line: number, text: string, code: string, reason: string) => {
      countQuarantined(counts, code);
      const wait = quarantine.write(`${JSON.stringify({ source: { uri, line }, code, reason, line: text })}\n`);
      if (wait) await wait;
    };

    // Pass 1: every input row into the index (or the quarantine).
    const inputs = new ReadAhead(io, [...(plan.parent ? SPLITS.flatMap((s) => plan.parent!.splits[s].uris) : []), ...plan.sources.map((s) => s.uri)], opts.signal);
    cleanups.push(() => inputs.close());
    const width = plan.schema.features.length + 1;
    const classes = plan.schema.label.classes;
    const classNames = plan.schema.label.classNames;
    const csvInput = plan.input.format === 'csv';
    if (plan.parent) {
      for (const split of SPLITS) {
        const { kind, uris } = plan.parent.splits[split];
        for (const uri of uris) {
          opts.signal?.throwIfAborted();
          for await (const batch of readLineBatches(await inputs.open(uri), Number.MAX_SAFE_INTEGER)) {
            for (const raw of batch) {
              if (raw.bytes.length === 0) continue;
              bytesRead += raw.bytes.length + 1;
              let o: Observation;
              if (kind === 'rows') {
                const text = raw.bytes.toString('utf8');
                let r: RowRecord;
                try {
                  r = JSON.parse(text) as RowRecord;
                } catch (err) {
                  throw new ParentCorrupt(`parent dataset version ${plan.parent.versionId} is corrupt at ${uri}:${raw.number}: ${(err as Error).message}`);
                }
                if (r.copy) continue;
                o = { key: r.key, hash: placementHash(r.key, sha256Hex), label: r.label, features: r.features, time: timeOf(r.time), order: order++, parentSplit: split, origin: r.origin };
              } else {
                let row = canonicalCsv(raw.bytes, width, classes, undefined);
                if (!row) {
                  const parsed = parseLabelledCsvLine(raw.bytes.toString('utf8'), plan.schema);
                  if (!parsed.ok) throw new ParentCorrupt(`parent dataset version ${plan.parent.versionId} is corrupt at ${uri}:${raw.number}: ${parsed.reason}`);
                  row = { label: parsed.row.label, features: featuresText(parsed.row.features) };
                }
                // serialize() of the row's observation (its key is its hash; no time), built directly.
                const key = contentKey(row.features, sha256Hex);
                counts.inputs.parentRows++;
                const wait = index.add(key, `${key}\t\t${row.label}\t${row.features}\t\t${order++}\t${split}\t${origins.ref(uri, raw.number)}\n`);
                if (wait) await wait;
                progress.linesRead++;
                continue;
              }
              counts.inputs.parentRows++;
              note(o.time);
              const wait = index.add(o.hash, serialize(o, origins.refOf(o.origin)));
              if (wait) await wait;
              progress.linesRead++;
            }
            beat();
          }
          progress.objectsRead++;
        }
      }
    }
    const maxLineBytes = plan.input.maxLineBytes;
    for (const source of plan.sources) {
      opts.signal?.throwIfAborted();
      const sourceTime = timeOf(source.lastModified);
      for await (const batch of readLineBatches(await inputs.open(source.uri), maxLineBytes)) {
        for (const raw of batch) {
          bytesRead += raw.bytes.length + 1;
          progress.linesRead++;
          if (raw.tooLong !== undefined) {
            counts.inputs.newLines++;
            await quarantineLine(source.uri, raw.number, `${raw.bytes.toString('utf8')}...`, 'line_too_long', `line_too_long: the line is ${raw.tooLong} bytes, more than input.maxLineBytes (${maxLineBytes})`);
            continue;
          }
          // Most CSV lines are already canonical: they need no decoding, parsing or printing of numbers.
          const row = csvInput && raw.bytes.length <= maxLineBytes ? canonicalCsv(raw.bytes, width, classes, classNames) : null;
          let o: Observation;
          if (row) {
            // serialize() of the row's observation (its key is its hash; the source's time), built directly.
            counts.inputs.newLines++;
            const key = contentKey(row.features, sha256Hex);
            note(sourceTime);
            const wait = index.add(key, `${key}\t\t${row.label}\t${row.features}\t${sourceTime ?? ''}\t${order++}\t\t${origins.ref(source.uri, raw.number)}\n`);
            if (wait) await wait;
            continue;
          } else {
            const text = raw.bytes.toString('utf8');
            if (text.trim() === '') {
              counts.blankLines++;
              continue;
            }
            counts.inputs.newLines++;
            const verdict = readNewLine(text, { uri: source.uri, line: raw.number }, plan);
            if (!verdict.ok) {
              await quarantineLine(source.uri, raw.number, verdict.line, verdict.code, `${verdict.code}: ${verdict.reason}`);
              continue;
            }
            const { record } = verdict;
            const features = featuresText(record.features);
            const key = plan.dedupKey === 'record-key' && record.key !== undefined ? record.key : contentKey(features, sha256Hex);
            const time = timeOf(record.time) ?? sourceTime;
            note(time);
            o = { key, hash: placementHash(key, sha256Hex), label: record.label, features, time, order: order++, parentSplit: null, origin: '' };
          }
          const wait = index.add(o.hash, serialize(o, origins.ref(source.uri, raw.number)));
          if (wait) await wait;
        }
        beat();
      }
      progress.objectsRead++;
    }

    // Pass 2: resolve each partition's keys; rows retention keeps go to the writers in hash order.
    progress.phase = 'resolving';
    progress.partitions = index.partitionCount;
    progress.partitionsDone = 0;
    const ageFloor = oldestKept(plan.retention, newest);
    const rowCap = plan.retention.maxRows;
    // With a row cap, resolved rows wait on disk until the cutoff is known.
    const heldFiles: string[] = [];
    let timeRange: { min: number; max: number } | null = null;
    let timed = 0;
    let untimed = 0;

    // Rows seen once are written straight from their lines unless retention needs their times.
    const direct = ageFloor === null && rowCap === undefined && !plan.retention.recencyWeights;
    const placementOrder = new PlacementOrder();
    for await (const partition of index.partitionsInOrder()) {
      opts.signal?.throwIfAborted();
      const out = rowCap === undefined ? null : new PartitionFile(path.join(await ensureWorkDir(), `resolved-${String(heldFiles.length).padStart(5, '0')}.tsv`));
      if (out) heldFiles.push(out.file);
      // Returns a promise only when a writer needs waiting on (most rows: none, so no promise per row).
      const take = (observation: Observation, split: Split, isNew: boolean): Promise<void> | undefined => {
        if (ageFloor !== null && observation.time !== null && observation.time < ageFloor) {
          counts.retired.byAge++;
          return undefined;
        }
        if (isNew) counts.new++;
        if (!out) return emit({ observation, split, isNew });
        const t = observation.time;
        if (t === null) untimed++;
        else {
          timed++;
          timeRange = timeRange ? { min: Math.min(timeRange.min, t), max: Math.max(timeRange.max, t) } : { min: t, max: t };
        }
        return out.write(`${split}\t${isNew ? 1 : 0}\t${serialize(observation, origins.refOf(observation.origin))}`);
      };
      // Lines begin with the placement hash: in its order, a key's observations sit together.
      for (const lines of placementOrder.buckets(partition)) {
        for (let i = 0; i < lines.length; ) {
          const hash = lines[i]!.slice(0, lines[i]!.indexOf('\t'));
          let j = i + 1;
          while (j < lines.length && lines[j]!.startsWith(hash) && lines[j]![hash.length] === '\t') j++;
          if (j === i + 1 && direct) {
            // One sighting of the key (most rows), and nothing about the row's age matters: written from its line as it is.
            const wait = emitLine(lines[i]!, hash.length);
            if (wait) await wait;
          } else if (j === i + 1) {
            // One sighting of the key: nothing to resolve.
            const o = deserialize(lines[i]!, origins);
            const wait = take(o, o.parentSplit ?? splitFor(o.hash, plan.shares), o.parentSplit === null);
            if (wait) await wait;
          } else {
            const byKey = new Map<string, Observation[]>();
            for (let k = i; k < j; k++) {
              const o = deserialize(lines[k]!, origins);
              const group = byKey.get(o.key);
              if (group) group.push(o);
              else byKey.set(o.key, [o]);
            }
            for (const group of byKey.values()) {
              const resolution = resolveKey(group, plan.conflictPolicy, plan.shares);
              if (resolution.conflict) counts.conflicts++;
              for (const { observation, fate } of resolution.fates) {
                if (fate.fate === 'duplicate') counts.duplicates++;
                else if (fate.fate === 'overruled') counts.overruled++;
                else if (fate.fate === 'quarantined') {
                  const colon = observation.origin.lastIndexOf(':');
                  await quarantineLine(observation.origin.slice(0, colon), Number(observation.origin.slice(colon + 1)), `${observation.label},${observation.features}`, fate.code, fate.reason);
                }
              }
              if (!resolution.kept) continue;
              // Relabelled: the parent's own row gave way to a newer line (the parent's is the overruled one).
              if (resolution.kept.relabelled) counts.relabelled++;
              const wait = take(resolution.kept.observation, resolution.kept.split, resolution.kept.isNew);
              if (wait) await wait;
            }
          }
          i = j;
          beat();
        }
      }
      if (out) await out.close();
      progress.partitionsDone!++;
      beat();
    }

    let rowCapKeepsFrom: number | null = null;
    let rowCapKeepsUntimed: boolean | null = null;
    if (rowCap !== undefined) {
      progress.phase = 'retention';
      // Pass 3 (row cap only): find the cutoff in a few counting passes, then write what it keeps.
      const cutoff = new RowCapCutoff(rowCap, timeRange, timed, untimed);
      let step = cutoff.settled;
      while (!step?.done) {
        const bucketCounts = new Float64Array(RowCapCutoff.BUCKETS);
        const count = (t: number) => {
          const b = cutoff.bucketOf(t);
          if (b >= 0) bucketCounts[b]!++;
        };
        for await (const row of readHeld(heldFiles, origins)) {
          if (row.observation.time !== null) count(row.observation.time);
          beat();
        }
        step = cutoff.step(bucketCounts);
      }
      rowCapKeepsFrom = step.keepFrom;
      rowCapKeepsUntimed = step.keepUntimed;
      const keeps = (t: number | null) => (t === null ? step.keepUntimed : step.keepFrom === null || t >= step.keepFrom);
      const writeHeld = async (row: KeptRow) => {
        if (keeps(row.observation.time)) return emit(row);
        counts.retired.byRowCap++;
        if (row.isNew) counts.new--;
      };
      progress.phase = 'writing';
      for await (const row of readHeld(heldFiles, origins)) {
        await writeHeld(row);
        beat();
      }
    }

    // Close every object, then say what was written.
    // All at once: each close waits on its last part and on the store putting the parts together.
    const splits = {} as Record<Split, SplitObjects>;
    const objects: VersionObject[] = [];
    const closing = SPLITS.map((s) => Promise.all([csv[s].close(), rows[s].close(), gzipped && s !== 'holdout' ? gzipped[s].close() : undefined]));
    const quarantineClosing = quarantine.close();
    for (const [i, s] of SPLITS.entries()) {
      const [csvObjects, rowsObject, gzipObjects] = await closing[i]!;
      splits[s] = { uri: csvObjects[0]!.uri, rows: counts.splits[s], objects: csvObjects, ...(gzipObjects ? { gzipObjects } : {}), rowsUri: rowsObject.uri };
      objects.push(...csvObjects, ...(gzipObjects ?? []), rowsObject);
    }
    const quarantineObject = await quarantineClosing;
    if (quarantineObject.lines > 0) objects.push(quarantineObject);
    const channels = {} as MergeResult['channels'];
    for (const s of ['train', 'validation'] as const) {
      const data = splits[s].gzipObjects ?? splits[s].objects;
      const manifestUri = s3Join(plan.versionUri, 'channels', `${s}.manifest`);
      const source = channelSourceFor(plan.channels, {
        csvPrefix: `${s3Join(plan.versionUri, gzipped ? 'csv-gzip' : 'csv', s)}/`,
        csvObjects: data.length,
        manifestUri,
        augmentedManifestUri: splits[s].rowsUri,
      });
      if (source.s3DataType === 'ManifestFile') {
        // SageMaker's manifest: the prefix first, then keys relative to it.
        const prefix = `${s3Join(plan.versionUri, gzipped ? 'csv-gzip' : 'csv', s)}/`;
        const w = io.create(manifestUri, 'application/json');
        await w.write(JSON.stringify([{ prefix }, ...data.map((o) => o.uri.slice(prefix.length))]));
        objects.push({ uri: manifestUri, lines: 1, bytes: (await w.close()).bytes });
      }
      channels[s] = source;
    }
    counts.total = counts.splits.train + counts.splits.validation + counts.splits.holdout;
    return {
      counts,
      classBalance: sumBalances(classBalanceBySplit),
      classBalanceBySplit,
      splits,
      channels,
      quarantineUri: quarantineObject.lines > 0 ? quarantineUri : null,
      retention: {
        newestRecordTime: newest === null ? null : new Date(newest).toISOString(),
        oldestKept: ageFloor === null ? null : new Date(ageFloor).toISOString(),
        rowCapKeepsFrom: rowCapKeepsFrom === null ? null : new Date(rowCapKeepsFrom).toISOString(),
        rowCapKeepsUntimed,
      },
      objects,
      spilled: index.spilled,
      partitions: index.partitionCount,
    };

    /**
     * What take() and emit() do for a row seen once when no retention setting is made (no age floor, no
     * row cap, no recency copies), straight from its serialized line: the same counts and the same bytes,
     * without parsing the line into an Observation and printing it again.
     */
    function emitLine(line: string, hashEnd: number): Promise<void> | undefined {
      const keyEnd = line.indexOf('\t', hashEnd + 1);
      const labelEnd = line.indexOf('\t', keyEnd + 1);
      const featuresEnd = line.indexOf('\t', labelEnd + 1);
      const timeEnd = line.indexOf('\t', featuresEnd + 1);
      const orderEnd = line.indexOf('\t', timeEnd + 1);
      const splitEnd = line.indexOf('\t', orderEnd + 1);
      const hash = line.slice(0, hashEnd);
      const label = line.slice(keyEnd + 1, labelEnd);
      const features = line.slice(labelEnd + 1, featuresEnd);
      const parentSplit = splitEnd > orderEnd + 1 ? (line.slice(orderEnd + 1, splitEnd) as Split) : null;
      const split = parentSplit ?? splitFor(hash, plan.shares);
      if (parentSplit === null) counts.new++;
      counts.splits[split]++;
      if (classes !== undefined) {
        const b = classBalanceBySplit[split];
        b[label] = (b[label] ?? 0) + 1;
      }
      if (split === 'train') counts.trainLines++;
      const key = keyEnd === hashEnd + 1 ? `"${hash}"` : jsonString(unescapeField(line.slice(hashEnd + 1, keyEnd)));
      const time = timeEnd === featuresEnd + 1 ? 'null' : isoTime(Number(line.slice(featuresEnd + 1, timeEnd)));
      const csvLine = `${label},${features}\n`;
      const waits = [
        csv[split].write(csvLine),
        gzipped && split !== 'holdout' ? gzipped[split].write(csvLine) : undefined,
        rows[split].write(`{"features":"${features}","label":${label},"key":${key},"time":${time},"origin":${origins.json(line.slice(splitEnd + 1))}}\n`),
      ];
      return waits[0] || waits[1] || waits[2] ? Promise.all(waits).then(() => undefined) : undefined;
    }

    /** Writes a kept row; returns a promise only when a writer needs waiting on before it takes more. */
    function emit(row: KeptRow): Promise<void> | undefined {
      const { observation: o, split } = row;
      counts.splits[split]++;
      if (plan.schema.label.classes !== undefined) {
        const b = classBalanceBySplit[split];
        b[String(o.label)] = (b[String(o.label)] ?? 0) + 1;
      }
      const copies = split === 'train' ? trainCopies(plan.retention, o.time, newest) : 1;
      const csvLine = `${o.label},${o.features}\n`;
      // Feature text is numbers and commas; keys and origins are quoted by hand unless they need escaping
      // (a key that is its own placement hash is hex).
      const record = `{"features":"${o.features}","label":${o.label},"key":${o.key === o.hash ? `"${o.key}"` : jsonString(o.key)},"time":${isoTime(o.time)},"origin":${jsonString(o.origin)}`;
      if (copies === 1) {
        // One line to each writer: none is written to twice, so their waits can be joined.
        if (split === 'train') counts.trainLines++;
        const waits = [csv[split].write(csvLine), gzipped && split !== 'holdout' ? gzipped[split].write(csvLine) : undefined, rows[split].write(`${record}}\n`)];
        return waits[0] || waits[1] || waits[2] ? Promise.all(waits).then(() => undefined) : undefined;
      }
      return emitCopies(split, csvLine, record, copies);
    }

    async function emitCopies(split: Split, csvLine: string, record: string, copies: number): Promise<void> {
      for (let copy = 0; copy < copies; copy++) {
        if (split === 'train') counts.trainLines++;
        let wait = csv[split].write(csvLine);
        if (wait) await wait;
        if (gzipped && split !== 'holdout') {
          wait = gzipped[split].write(csvLine);
          if (wait) await wait;
        }
        wait = rows[split].write(copy === 0 ? `${record}}\n` : `${record},"copy":${copy}}\n`);
        if (wait) await wait;
      }
    }
  } catch (err) {
    await writers.abort().catch(() => undefined);
    throw err;
  } finally {
    for (const cleanup of cleanups) cleanup();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
}

// JSON must escape these: quotes, backslashes and control characters.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * Record times repeat (a CSV object's rows share its LastModified, and rows come in hash order, so the
 * objects' times interleave): their texts are kept, a bounded number of them.
 */
const isoTexts = new Map<number, string>();
function isoTime(time: number | null): string {
  if (time === null) return 'null';
  let text = isoTexts.get(time);
  if (text === undefined) {
    if (isoTexts.size >= 4096) isoTexts.clear();
    text = `"${new Date(time).toISOString()}"`;
    isoTexts.set(time, text);
  }
  return text;
}

function sumBalances(bySplit: Record<Split, Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const s of SPLITS) for (const [label, n] of Object.entries(bySplit[s])) total[label] = (total[label] ?? 0) + n;
  return Object.fromEntries(Object.entries(total).sort(([a], [b]) => Number(a) - Number(b)));
}

async function* readHeld(files: string[], origins: OriginTable): AsyncGenerator<KeptRow> {
  for (const file of files) {
    for await (const raw of readRawLines(createReadStream(file, { highWaterMark: 1 << 20 }), Number.MAX_SAFE_INTEGER)) {
      if (!raw.bytes.length) continue;
      const text = raw.bytes.toString('utf8');
      const tab = text.indexOf('\t');
      yield { split: text.slice(0, tab) as Split, isNew: text[tab + 1] === '1', observation: deserialize(text.slice(tab + 3), origins) };
    }
  }
}

class ParentCorrupt extends Error {
  override readonly name = 'ParentCorrupt';
}

function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return;
    last = now;
    fn();
  };
}

// --- A version from a config: the entry point, the activity and the processing job ---------------------------

export interface MergeDatasetVersionOptions extends MergeOptions {
  config: PipelineConfig;
  /** The parent version's manifest (the champion's dataset), or null for the first version. */
  parentManifestUri: string | null;
  /** Past dataset.processingJobAboveBytes (with processingJob.image set) the merge runs as this processing job. */
  job?: DatasetJob;
}

/** What running the merge as a processing job needs: a SageMaker client, polling, and the run's name and tags. */
export interface DatasetJob {
  sagemaker: SageMakerClient;
  polling: JobPolling;
  /** Derives the job's name from the version it writes, so a retry re-attaches to its own job. */
  jobName: (versionId: string) => string;
  tags: { Key: string; Value: string }[];
  /** Where the job's spec, input manifests and result go: {jobsUri}/{jobName}/... */
  jobsUri: string;
}

const PROCESSING = '/opt/ml/processing';
const GIB = 1024 ** 3;

/**
 * Builds the next dataset version of config.model from its parent and the new objects under
 * dataset.newDataS3Uri (those not merged into an ancestor), or finds it already built. Needs no
 * Temporal Context. Returns the version's summary; `reused` says nothing was written.
 */
export async function mergeDatasetVersion(s3: S3Client, options: MergeDatasetVersionOptions): Promise<DatasetVersionSummary> {
  const { config } = options;
  const d = config.dataset;
  if (d.input.format === 'model-monitor-ground-truth') {
    // The join reads the endpoint's captured traffic as well as the labels; which captures a version consumes is not settled yet.
    throw ApplicationFailure.nonRetryable('dataset.input.format "model-monitor-ground-truth" is not merged into dataset versions yet (docs/datasets.md)', 'InvalidConfig');
  }
  const parent = options.parentManifestUri ? await getJson<DatasetVersionManifest | LegacyManifest>(s3, options.parentManifestUri) : null;
  const alreadyMerged = new Set((parent?.consumedSources ?? []).map((s) => `${s.uri}#${s.etag}`));
  const sources: SourceObject[] = (await listObjects(s3, d.newDataS3Uri, { signal: options.signal }))
    .filter((o) => !alreadyMerged.has(`${o.uri}#${o.etag}`))
    .map((o) => ({ uri: o.uri, etag: o.etag, size: o.size, lastModified: o.lastModified?.toISOString() ?? null }));
  // The holdout never shrinks: a row the parent's share put in holdout stays there under a smaller share.
  const parentHoldout = parent ? (isCurrentManifest(parent) ? parent.holdout.share : (parent.params?.holdoutShare ?? 0)) : 0;
  const shares: SplitShares = { validationShare: d.validationShare, holdoutShare: Math.max(d.holdoutShare, parentHoldout) };
  if (shares.validationShare + shares.holdoutShare >= 1) {
    throw ApplicationFailure.nonRetryable(
      `the parent version's holdout share ${parentHoldout} plus validationShare ${d.validationShare} leaves no rows for training; lower validationShare`,
      'InvalidConfig',
    );
  }
  const params = {
    merge: MANIFEST_FORMAT,
    schema: d.schema,
    input: d.input,
    ...shares,
    dedupKey: d.dedupKey,
    conflictPolicy: d.conflictPolicy,
    retention: d.retention,
    channels: channelSettingsIdentity(d.channels),
  };
  const parentId = parent?.versionId ?? null;
  const versionId = datasetVersionId({ model: config.model, parent: parentId, sources, params });
  const versionUri = s3Join(d.rootS3Uri, config.model, versionId);
  const manifestUri = s3Join(versionUri, 'manifest.json');
  if (await objectExists(s3, manifestUri)) {
    return summarize(await getJson<DatasetVersionManifest>(s3, manifestUri), manifestUri, true);
  }

  const parentPlan = parent ? await planParent(s3, parent, options.parentManifestUri!) : null;
  const plan: MergePlan = {
    model: config.model,
    versionId,
    versionUri,
    schema: d.schema,
    input: d.input,
    shares,
    dedupKey: d.dedupKey,
    conflictPolicy: d.conflictPolicy,
    retention: d.retention,
    channels: d.channels,
    memoryBytes: d.merge.memoryBytes,
    ...(d.merge.workDir ? { workDir: d.merge.workDir } : {}),
    parent: parentPlan,
    sources,
  };
  const bytes = sources.reduce((n, s) => n + s.size, 0) + (parentPlan?.bytes ?? 0);
  const image = d.processingJob.image;
  let result: MergeResult;
  let mode: DatasetVersionManifest['merge'] = { spilled: false, partitions: 1, memoryBytes: d.merge.memoryBytes, mode: 'worker' };
  if (bytes > d.processingJobAboveBytes && image && options.job) {
    const jobName = options.job.jobName(versionId);
    result = await mergeInProcessingJob(s3, options.job, { config, image, plan, jobName, bytes, parentManifestUri: options.parentManifestUri });
    mode = { ...mode, mode: 'processing_job', processingJobName: jobName };
  } else {
    result = await mergeVersionObjects(s3ObjectIo(s3), plan, options);
  }
  mode = { ...mode, spilled: result.spilled, partitions: result.partitions };

  const balance = conservation(result.counts);
  if (!balance.holds) throw new Error(`dataset version ${versionId} does not account for every input row: ${balance.equation}`);
  const manifest: DatasetVersionManifest = {
    format: MANIFEST_FORMAT,
    versionId,
    model: config.model,
    parent: parentId,
    parentManifestUri: options.parentManifestUri,
    createdFrom: sources,
    consumedSources: [...(parent?.consumedSources ?? []), ...sources.map((s) => ({ uri: s.uri, etag: s.etag }))],
    params,
    schema: d.schema,
    counts: result.counts,
    conservation: { holds: balance.holds, equation: balance.equation },
    classBalance: result.classBalance,
    classBalanceBySplit: result.classBalanceBySplit,
    splits: result.splits,
    channels: result.channels,
    quarantineUri: result.quarantineUri,
    holdout: {
      share: shares.holdoutShare,
      rule: 'a new row is in holdout when its placement hash draws below the share; a row the parent holds keeps its split',
    },
    retention: result.retention,
    objects: result.objects,
    merge: mode,
  };
  await putJson(s3, manifestUri, manifest);
  return summarize(manifest, manifestUri, false);
}

async function planParent(s3: S3Client, parent: DatasetVersionManifest | LegacyManifest, manifestUri: string): Promise<ParentPlan> {
  if (isCurrentManifest(parent)) {
    const splits = Object.fromEntries(SPLITS.map((s) => [s, { kind: 'rows' as const, uris: [parent.splits[s].rowsUri] }])) as ParentPlan['splits'];
    const rowsObjects = new Set(SPLITS.map((s) => parent.splits[s].rowsUri));
    const bytes = parent.objects.filter((o) => rowsObjects.has(o.uri)).reduce((n, o) => n + o.bytes, 0);
    return { versionId: parent.versionId, manifestUri, splits, bytes };
  }
  const splits = Object.fromEntries(SPLITS.map((s) => [s, { kind: 'csv' as const, uris: [parent.splits[s].uri] }])) as ParentPlan['splits'];
  let bytes = 0;
  for (const s of SPLITS) {
    const { bucket, key } = parseS3Uri(parent.splits[s].uri);
    bytes += (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
  }
  return { versionId: parent.versionId, manifestUri, splits, bytes };
}

export interface ExpandDatasetInput {
  config: PipelineConfig;
  champion: Champion | null;
}

/** The dataset stage's activity: mergeDatasetVersion with heartbeats, cancellation and the processing-job path. */
export async function expandDataset(s3: S3Client, input: ExpandDatasetInput, jobs?: { sagemaker: SageMakerClient; polling: JobPolling }): Promise<DatasetVersionSummary> {
  const { config, champion } = input;
  const context = Context.current();
  const run = jobs ? currentRun() : null;
  try {
    return await mergeDatasetVersion(s3, {
      config,
      parentManifestUri: champion?.datasetManifestUri ?? null,
      signal: context.cancellationSignal,
      heartbeat: (progress) => context.heartbeat(progress),
      ...(jobs && run
        ? {
            job: {
              ...jobs,
              // One job per run and version: a retry of this run re-attaches; a retry that finds new data writes another version.
              jobName: (versionId: string) => sageMakerName({ model: config.model, kind: 'dataset', workflowId: run.workflowId, runId: `${run.runId}/${versionId}` }),
              tags: runTags({ model: config.model, workflowId: run.workflowId, runId: run.runId, datasetVersion: 'pending' }),
              jobsUri: s3Join(config.reportsS3Uri, config.model, run.workflowId, run.runId, 'dataset-job'),
            },
          }
        : {}),
    });
  } catch (err) {
    if (err instanceof ParentCorrupt) throw ApplicationFailure.nonRetryable(err.message, 'DatasetCorrupt');
    throw err;
  }
}

/** What the dataset processing job reads from its `spec` input. */
export interface DatasetJobSpec {
  plan: MergePlan;
  /** Prefixes the job's inputs were downloaded from, so the container maps URIs to its local paths. */
  sourcesPrefix: string;
  parentPrefix: string | null;
}

/**
 * The same merge as a SageMaker Processing job (local image sagemaker-retraining-dataset): the spec,
 * the new sources and the parent's rows as inputs (the latter two as ManifestFile inputs), the version's
 * objects as an output uploaded to the version's prefix, and result.json as another. The caller writes
 * the manifest after the job, so a version is still complete only once its manifest exists.
 */
async function mergeInProcessingJob(
  s3: S3Client,
  job: DatasetJob,
  run: { config: PipelineConfig; image: string; plan: MergePlan; jobName: string; bytes: number; parentManifestUri: string | null },
): Promise<MergeResult> {
  const { sagemaker } = job;
  const { config, plan, jobName } = run;
  const settings = config.dataset.processingJob;
  const jobUri = s3Join(job.jobsUri, jobName);
  const specUri = s3Join(jobUri, 'spec', 'spec.json');
  const sourcesManifestUri = s3Join(jobUri, 'sources.manifest');
  const parentManifestUri = s3Join(jobUri, 'parent.manifest');
  const resultUri = s3Join(jobUri, 'result');
  const sourcesPrefix = `${config.dataset.newDataS3Uri.replace(/\/+$/, '')}/`;
  const parentPrefix = run.parentManifestUri ? run.parentManifestUri.slice(0, run.parentManifestUri.lastIndexOf('/') + 1) : null;
  const parentObjects = plan.parent ? SPLITS.flatMap((s) => plan.parent!.splits[s].uris) : [];

  const inputs: ProcessingInput[] = [processingInput('spec', specUri, 'S3Prefix', `${PROCESSING}/input/spec`)];
  // SageMaker refuses an input with no objects, so an empty side is left out.
  if (plan.sources.length) inputs.push(processingInput('sources', sourcesManifestUri, 'ManifestFile', `${PROCESSING}/input/sources`));
  if (parentObjects.length) inputs.push(processingInput('parent', parentManifestUri, 'ManifestFile', `${PROCESSING}/input/parent`));
  const request: CreateProcessingJobCommandInput = {
    ProcessingJobName: jobName,
    RoleArn: config.roleArn,
    AppSpecification: {
      ImageUri: run.image,
      ContainerArguments: [
        '--spec', `${PROCESSING}/input/spec`,
        '--sources', `${PROCESSING}/input/sources`,
        '--parent', `${PROCESSING}/input/parent`,
        '--version', `${PROCESSING}/output/version`,
        '--result', `${PROCESSING}/output/result`,
      ],
    },
    ProcessingInputs: inputs,
    ProcessingOutputConfig: {
      Outputs: [
        { OutputName: 'version', S3Output: { S3Uri: plan.versionUri, LocalPath: `${PROCESSING}/output/version`, S3UploadMode: 'EndOfJob' } },
        { OutputName: 'result', S3Output: { S3Uri: resultUri, LocalPath: `${PROCESSING}/output/result`, S3UploadMode: 'EndOfJob' } },
      ],
    },
    ProcessingResources: {
      ClusterConfig: {
        InstanceCount: 1,
        InstanceType: settings.instanceType as never,
        // Inputs, outputs and spilled partitions all sit on the volume.
        VolumeSizeInGB: Math.min(16_384, Math.max(settings.volumeSizeInGB, Math.ceil((run.bytes * 4) / GIB) + 1)),
      },
    },
    StoppingCondition: { MaxRuntimeInSeconds: settings.maxRuntimeInSeconds },
    Tags: job.tags.map((t) => (t.Key === 'retraining:dataset-version' ? { ...t, Value: plan.versionId } : t)),
  };
  await runProcessingJob(sagemaker, {
    label: 'dataset processing job',
    request,
    // Written only when the job does not exist yet: a running job keeps the inputs it was given.
    writeInputs: async () => {
      const spec: DatasetJobSpec = { plan: { ...plan, workDir: undefined }, sourcesPrefix, parentPrefix };
      await putJson(s3, specUri, spec);
      if (plan.sources.length) await putJson(s3, sourcesManifestUri, manifestFile(sourcesPrefix, plan.sources.map((o) => o.uri)));
      if (parentObjects.length) await putJson(s3, parentManifestUri, manifestFile(parentPrefix!, parentObjects));
    },
    polling: job.polling,
    failureType: 'DatasetJobFailed',
  });
  return getJson<MergeResult>(s3, s3Join(resultUri, 'result.json'));
}

function summarize(manifest: DatasetVersionManifest, manifestUri: string, reused: boolean): DatasetVersionSummary {
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
    channelSources: manifest.channels,
    reused,
  };
}

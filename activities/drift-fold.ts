// Folding objects into profiles, for activities/drift.ts and the drift processing job: bytes into lines,
// objects read a few at a time and each folded into a profile of its own, merged strictly in object
// order, so the same objects always give the same profile. Parsing and folding can run on worker
// threads, and merging (the window's sketches) on a merge thread; either way the folds merge in the same
// order, so the result is the same bit for bit whatever the number of threads and whatever order reads
// finish in.
//
// Fold and merge threads load this module alone (with domain/drift/profiling), not the AWS SDK.
import { isAscii } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { TextDecoder } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import {
  CaptureWindowProfile,
  ColumnBuffers,
  columnBuffersOf,
  DatasetSplitProfile,
  type CaptureWindowProfileState,
  type DatasetSplitProfileState,
} from '../domain/drift/profiling';
import type { ProfiledFeature, ProfileLimits } from '../domain/drift/profile';
import type { ObjectRef, ObjectSource, ProfilingProgress, StreamOptions } from './drift-profiling';

export const DEFAULT_READ_CONCURRENCY = 8;
const PROGRESS_EVERY_LINES = 65_536;

/**
 * With `threads: 'auto'` (the default), a window of at least this many bytes in two objects or more is
 * folded on every core but one (the one that reads, merges and sketches); below it, starting threads
 * costs more than they save.
 */
export const AUTO_THREADS_ABOVE_BYTES = 32 * 1024 ** 2;

/**
 * The fold threads `threads` asks for, for these objects (1: this thread, which then folds as well as
 * reads). 'auto' leaves a core to this thread: it reads every byte, hands it over and merges every fold
 * into the window's sketches, some 40% of the work; on two cores, one fold thread beside it would only
 * add the cost of handing bytes over (docs/drift.md has the measurements), so 'auto' folds here there
 * and merges on a merge thread instead (mergesOnAThread).
 */
export function foldThreadsFor(threads: number | 'auto' | undefined, objects: readonly ObjectRef[]): number {
  if (threads === undefined || threads === 'auto') {
    const bytes = objects.reduce((n, o) => n + o.size, 0);
    threads = objects.length > 1 && bytes >= AUTO_THREADS_ABOVE_BYTES ? availableParallelism() - 1 : 1;
  }
  return Math.min(Math.max(1, Math.floor(threads)), Math.max(1, objects.length));
}

/**
 * With `threads: 'auto'`, a single object of at least this many bytes (a baseline split of one file, say)
 * is parsed and folded on a thread of its own when there are two cores or more: one object cannot be
 * shared out among threads, and its fold would otherwise take this thread's time from whatever runs
 * beside it (the drift stage folds the baseline and the window at once).
 */
export const AUTO_OWN_THREAD_BYTES = 8 * 1024 ** 2;

function foldsOnItsOwnThread(threads: number | 'auto' | undefined, objects: readonly ObjectRef[]): boolean {
  if (threads !== undefined && threads !== 'auto') return false;
  return objects.length === 1 && objects[0]!.size >= AUTO_OWN_THREAD_BYTES && availableParallelism() >= 2;
}

/** A line of a stream: text.slice(start, end), without its line ending, and its 1-based number. */
export type LineVisitor = (text: string, start: number, end: number, number: number) => void;

const NO_BYTES = Buffer.alloc(0);

/**
 * Splits a byte stream into lines (without line endings), decoding UTF-8 across chunk boundaries. Lines are
 * handed over where they lie in a chunk's text, so a line costs no string of its own: ASCII chunks (UTF-8
 * without decoding) become one flat string of whole lines, the bytes of a line cut at the chunk's end
 * waiting for the next chunk.
 */
export class LineSplitter {
  /** Made at the first chunk that is not ASCII; every later byte goes through it. */
  private decoder: TextDecoder | null = null;
  /** A line begun in an earlier chunk: as bytes while chunks are ASCII, as text once they are decoded. */
  private carry: Buffer = NO_BYTES;
  private pending = '';
  lines = 0;
  bytes = 0;

  constructor(private readonly visit: LineVisitor) {}

  push(chunk: Uint8Array | string): void {
    if (typeof chunk !== 'string' && this.decoder === null && this.pending === '' && isAscii(chunk)) {
      this.bytes += chunk.byteLength;
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const last = bytes.lastIndexOf(0x0a);
      if (last === -1) {
        this.carry = Buffer.concat([this.carry, bytes]);
        return;
      }
      let from = 0;
      if (this.carry.length > 0) {
        // The line begun in the last chunk, joined on its own: the rest of this chunk is not copied twice.
        from = bytes.indexOf(0x0a) + 1;
        this.emitLines(Buffer.concat([this.carry, bytes.subarray(0, from)]).toString('latin1'));
      }
      // A copy: the chunk's memory may be reused once this returns.
      this.carry = last + 1 === bytes.length ? NO_BYTES : Buffer.from(bytes.subarray(last + 1));
      if (from <= last) this.emitLines(bytes.toString('latin1', from, last + 1));
      return;
    }
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      // A byte-order mark is dropped only at the start of the stream, as one decoder for the whole stream does.
      this.decoder ??= new TextDecoder('utf-8', { ignoreBOM: this.bytes > 0 });
      text = this.decoder.decode(chunk, { stream: true });
    }
    this.bytes += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    text = this.takeCarry() + this.pending + text;
    this.pending = text.slice(this.emitLines(text));
  }

  end(): void {
    let rest = this.takeCarry() + this.pending;
    if (this.decoder) rest += this.decoder.decode();
    this.pending = '';
    if (rest !== '') this.emit(rest, 0, rest.length);
  }

  private takeCarry(): string {
    const text = this.carry.toString('latin1');
    this.carry = NO_BYTES;
    return text;
  }

  /** Emits every line of `text` that a newline ends; returns where the rest begins. */
  private emitLines(text: string): number {
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.emit(text, start, end);
      start = end + 1;
    }
    return start;
  }

  private emit(text: string, start: number, end: number): void {
    this.visit(text, start, end > start && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end, ++this.lines);
  }
}

/**
 * Calls `visit` with each line and its 1-based number. A callback rather than an async iterator: a
 * million lines cost no million promises.
 */
export async function forEachLine(body: AsyncIterable<Uint8Array | string>, visit: (line: string, number: number) => void): Promise<{ bytes: number; lines: number }> {
  const splitter = new LineSplitter((text, start, end, number) => visit(text.slice(start, end), number));
  for await (const chunk of body) splitter.push(chunk);
  splitter.end();
  return { bytes: splitter.bytes, lines: splitter.lines };
}

interface Fold<P> {
  addLineAt(text: string, start: number, end: number, source: string, line: number): void;
  merge(other: P): void;
  stats: { objects: number; bytes: number; rows: number };
}

/** How a fold is made: the same description builds it here or on a fold thread. */
export interface FoldSpec {
  phase: ProfilingProgress['phase'];
  features: ProfiledFeature[];
  limits?: ProfileLimits;
  window: { from: number; to: number } | null;
}

type AnyFold = CaptureWindowProfile | DatasetSplitProfile;
type FoldState = CaptureWindowProfileState | DatasetSplitProfileState;

/** `mergedOn`: the merge thread the fold is handed to (its numerical values are added there). */
function makeFold(spec: FoldSpec, seed: number, restored?: FoldState, mergedOn?: MergeThread | null): AnyFold {
  const options = { features: spec.features, limits: spec.limits, seed, handOverBuffers: mergedOn?.columnBuffers };
  return spec.phase === 'capture'
    ? new CaptureWindowProfile(options, spec.window, restored as CaptureWindowProfileState | undefined)
    : new DatasetSplitProfile(options, restored as DatasetSplitProfileState | undefined);
}

/** One object read and folded into its own fold (seeded by its index + 1). */
interface FoldedObject {
  bytes: number;
  rows: number;
  fold: AnyFold;
}

/**
 * Reads objects `concurrency` at a time, each into its own fold (seeded by its index), and merges the
 * folds strictly in object order: the same objects always give the same profile, and at most
 * `concurrency` folds exist at once. With more than one thread, objects are parsed and folded on those
 * threads (each to the one with the least in hand) and their folds come back here to be merged in the
 * same order, so the profile is the one a single thread makes.
 */
export async function foldObjects<P extends Fold<P>>(source: ObjectSource, objects: readonly ObjectRef[], options: StreamOptions, spec: FoldSpec): Promise<P> {
  let total = makeFold(spec, 0) as unknown as P;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_READ_CONCURRENCY));
  const threadCount = foldThreadsFor(options.threads, objects);
  const threads = threadCount > 1 || foldsOnItsOwnThread(options.threads, objects) ? new FoldThreads(threadCount, spec) : null;
  const merger = threadCount === 1 && mergesOnAThread(options.threads, objects) ? new MergeThread(spec, MERGES_WAITING) : null;
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  const progress: ProfilingProgress = { phase: spec.phase, objects: objects.length, objectsRead: 0, bytes: objects.reduce((n, o) => n + o.size, 0), bytesRead: 0, rows: 0 };
  const report = () => options.onProgress?.({ ...progress });

  const readHere = async (object: ObjectRef, index: number): Promise<FoldedObject> => {
    // A fold for the merge thread leaves its numerical values for that thread to add.
    const fold = makeFold(spec, index + 1, undefined, merger);
    const body = await source.open(object.uri, controller.signal);
    let sinceReport = 0;
    const lines = new LineSplitter((text, start, end, number) => {
      fold.addLineAt(text, start, end, object.uri, number);
      if (++sinceReport === PROGRESS_EVERY_LINES) {
        sinceReport = 0;
        report();
      }
    });
    for await (const chunk of body) lines.push(chunk);
    lines.end();
    const bytes = lines.bytes;
    fold.stats.objects = 1;
    fold.stats.bytes = bytes;
    return { bytes, rows: fold.stats.rows, fold };
  };
  const readOne = threads ? (object: ObjectRef, index: number) => threads.fold(index, source, object, controller.signal, report) : readHere;
  const heap = new HeapBound();
  const absorb = async (folded: FoldedObject) => {
    if (merger) await merger.merge(folded.fold);
    else total.merge(folded.fold as unknown as P);
    heap.afterObject();
    progress.objectsRead++;
    progress.bytesRead += folded.bytes;
    progress.rows += folded.rows;
    report();
  };

  const inFlight: Promise<FoldedObject>[] = [];
  try {
    for (let i = 0; i < objects.length; i++) {
      if (inFlight.length >= concurrency) await absorb(await inFlight.shift()!);
      options.signal?.throwIfAborted();
      const reading = readOne(objects[i]!, i);
      reading.catch(() => {}); // awaited in order below; this only keeps a later failure from going unhandled meanwhile
      inFlight.push(reading);
    }
    while (inFlight.length > 0) await absorb(await inFlight.shift()!);
    if (merger) total = (await merger.total()) as unknown as P;
  } catch (err) {
    controller.abort(err);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await threads?.close();
    await merger?.close();
  }
  return total;
}

/**
 * Growth of the heap outside the young generation, over what a full collection last left, at which the
 * reading thread has one made (HeapBound). 8 MiB rather than 16 took about 10 MiB off the 10M drift bench's
 * peak RSS (200 and 204 against 212 and 216 MiB, by hand) at no cost in time it could measure.
 */
export const COLLECT_AFTER_HEAP_GROWTH = 8 * 1024 ** 2;

/**
 * Or, when more is alive than twice that, growth by this share of what the last collection left: a full
 * collection takes time in proportion to what is alive, so a worker holding a large heap of its own is
 * not collected every 8 MiB.
 */
export const COLLECT_AFTER_HEAP_GROWTH_SHARE = 0.5;

/**
 * Keeps the heap of a thread that reads or folds objects within COLLECT_AFTER_HEAP_GROWTH of what it holds
 * alive (or within COLLECT_AFTER_HEAP_GROWTH_SHARE of it, when that is more). Every object read leaves
 * some tens of KiB in the old generation that are garbage soon after (its fold, the chunk
 * being scanned when a young collection came, the S3 client's per-request objects). V8 collects the old
 * generation only once it has grown by a multiple of what was alive, and on a long window it let the
 * reading thread's heap grow by some 60 MB (no full collection from 1.6 s to 19 s of a 10M-record run):
 * resident memory grew with the window. Checked after each object (a read of V8's space statistics); a
 * collection costs some 20 ms and comes every couple of hundred objects. `collect` is V8's own full collection.
 */
export class HeapBound {
  private floor = heapOutsideYoungGeneration();
  collections = 0;

  constructor(
    private readonly growth = COLLECT_AFTER_HEAP_GROWTH,
    private readonly collect: () => void = fullCollection(),
    private readonly share = COLLECT_AFTER_HEAP_GROWTH_SHARE,
  ) {}

  /** Has a full collection made if the heap grew past the bound since the last one; true if it did. */
  afterObject(): boolean {
    if (heapOutsideYoungGeneration() - this.floor < Math.max(this.growth, this.floor * this.share)) return false;
    this.collect();
    this.collections++;
    // What is left is alive: the bound is measured from there, so a heap that grows for good (a total
    // profile filling up to its caps) moves the floor instead of being collected after every object.
    this.floor = heapOutsideYoungGeneration();
    return true;
  }
}

/** Bytes in use in the heap's spaces other than the young generation's. */
export function heapOutsideYoungGeneration(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) used += space.space_used_size;
  return used;
}

let fullCollectionFunction: (() => void) | null = null;

/** Tries at taking gc() from a context of its own (see fullCollection). */
const GC_CONTEXT_TRIES = 8;

/**
 * V8's full collection, as `gc()` under --expose-gc. Without that flag, it is taken from a context made
 * for it alone with the flag set for that moment only, so no other context (a workflow's sandbox, say)
 * sees a gc(). V8's flags belong to the process: a thread doing the same at the same moment can clear
 * the flag between this thread setting it and making the context, so that context has no gc() and the
 * next try sets the flag again. Should a runtime refuse the flag, this does nothing, and memory is left
 * to V8's own schedule as it was before.
 */
export function fullCollection(): () => void {
  if (fullCollectionFunction) return fullCollectionFunction;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return (fullCollectionFunction = exposed);
  for (let tries = 0; tries < GC_CONTEXT_TRIES && !fullCollectionFunction; tries++) {
    try {
      setFlagsFromString('--expose-gc');
      const made: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      if (typeof made === 'function') fullCollectionFunction = made as () => void;
    } catch {
      break;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return (fullCollectionFunction ??= () => {});
}

/**
 * Whether a fold on this thread hands its objects' folds to a merge thread: with `threads: 'auto'` for a
 * window that 'auto' calls large, on a machine of two cores (where 'auto' keeps the fold here). Merging
 * is the window's sketches, about a third of the work, and the other core is otherwise left to whatever
 * serves the bytes.
 */
function mergesOnAThread(threads: number | 'auto' | undefined, objects: readonly ObjectRef[]): boolean {
  if (threads !== undefined && threads !== 'auto') return false;
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  return objects.length > 1 && bytes >= AUTO_THREADS_ABOVE_BYTES && availableParallelism() >= 2;
}

// --- The merge thread -------------------------------------------------------------------------------
// A thread started with MERGE_THREAD in its workerData holds the running total: each object's fold comes
// to it as its state (DatasetProfile.toState, arrays transferred), in object order, and is merged there
// exactly as it would be here; at the end the total comes back the same way. At most `limit` folds wait
// for it, so memory stays bounded when merging is slower than folding.

const MERGE_THREAD = 'sagemaker-retraining/drift-merge-thread';
/** Folds handed to the merge thread and not yet merged: enough to keep it busy, few enough to hold little. */
const MERGES_WAITING = 2;

type ToMerger = { kind: 'fold'; fold: FoldState } | { kind: 'end' };
/** `spare`: the merged fold's column buffers, given back for the next folds. */
type FromMerger = { kind: 'merged'; spare: ArrayBuffer[] } | { kind: 'total'; fold: FoldState } | { kind: 'failed'; message: string };

class MergeThread {
  /** Columns for the folds handed to this thread, which it gives back once it has added their values. */
  readonly columnBuffers = new ColumnBuffers();
  private readonly worker: Worker;
  private waiting = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private closing = false;
  private finished!: (state: FoldState) => void;
  private readonly result: Promise<FoldState>;
  private rejectResult!: (err: Error) => void;

  constructor(
    private readonly spec: FoldSpec,
    private readonly limit: number,
  ) {
    this.result = new Promise<FoldState>((resolve, reject) => {
      this.finished = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => {});
    this.worker = startThread({ role: MERGE_THREAD, spec });
    this.worker.on('message', (message: FromMerger) => {
      if (message.kind === 'failed') return this.fail(new Error(`drift merge thread: ${message.message}`));
      if (message.kind === 'total') return this.finished(message.fold);
      this.columnBuffers.give(message.spare);
      this.waiting--;
      this.wake?.();
      this.wake = null;
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`drift merge thread exited early (code ${code})`));
    });
  }

  /** Hands a fold over to be merged after the ones before it; waits while `limit` are waiting already. */
  async merge(fold: AnyFold): Promise<void> {
    while (this.waiting >= this.limit && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
    const transfer: ArrayBuffer[] = [];
    const state = fold.handOver(transfer);
    this.waiting++;
    this.worker.postMessage({ kind: 'fold', fold: state } satisfies ToMerger, transfer);
  }

  /** The total of every fold handed over. */
  async total(): Promise<AnyFold> {
    if (this.failure) throw this.failure;
    this.worker.postMessage({ kind: 'end' } satisfies ToMerger);
    return makeFold(this.spec, 0, await this.result);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.rejectResult(err);
    this.wake?.();
    this.wake = null;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

function runMergeThread(port: MessagePort, spec: FoldSpec): void {
  const total = makeFold(spec, 0);
  port.on('message', (message: ToMerger) => {
    try {
      if (message.kind === 'fold') {
        (total.merge as (other: AnyFold) => void)(makeFold(spec, 0, message.fold));
        // The fold is merged (copied into the total), so its columns can go back to be filled again.
        const spare = columnBuffersOf(message.fold);
        port.postMessage({ kind: 'merged', spare } satisfies FromMerger, spare);
      } else {
        const transfer: ArrayBuffer[] = [];
        port.postMessage({ kind: 'total', fold: total.toState(transfer) } satisfies FromMerger, transfer);
      }
    } catch (err) {
      port.postMessage({ kind: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromMerger);
    }
  });
}

/** A thread running this module (under tsx when this file is TypeScript, which must be registered first). */
function startThread(workerData: { role: string; spec: FoldSpec }): Worker {
  const register = __filename.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  return new Worker(`${register}require(${JSON.stringify(__filename)});`, { eval: true, workerData });
}

// --- Fold threads ------------------------------------------------------------------------------------
// A thread started with FOLD_THREAD in its workerData folds each object the main thread streams to it,
// chunk by chunk, into the object's own fold, and sends that fold back (DatasetProfile.toState, its
// arrays transferred) when the object ends. The main thread merges the folds in object order.

const FOLD_THREAD = 'sagemaker-retraining/drift-fold-thread';
/** Chunks handed to a thread and not yet folded, per object: the thread's queue stays a few chunks long. */
const CHUNKS_AHEAD = 4;
/**
 * Bytes per chunk handed to a thread: stream chunks (64 KiB off a socket) are gathered into chunks of
 * this size, since each message costs the reading thread more than copying its bytes does.
 */
const HANDOVER_BYTES = 1024 ** 2;

type ToThread = { kind: 'start'; id: number; uri: string; seed: number } | { kind: 'chunk'; id: number; chunk: Uint8Array } | { kind: 'end'; id: number };
type FromThread = { kind: 'ack'; id: number } | { kind: 'folded'; id: number; bytes: number; rows: number; fold: FoldState } | { kind: 'failed'; message: string };

interface ThreadJob {
  outstanding: number;
  acked?: () => void;
  folded: (result: FoldedObject) => void;
  fail: (err: Error) => void;
}

class FoldThreads {
  private readonly workers: Worker[];
  /** Objects each thread has in hand. */
  private readonly load: number[];
  private readonly jobs = new Map<number, ThreadJob>();
  private failure: Error | null = null;
  private closing = false;

  constructor(
    count: number,
    private readonly spec: FoldSpec,
  ) {
    this.load = new Array<number>(count).fill(0);
    this.workers = Array.from({ length: count }, (_, t) => {
      const worker = startThread({ role: FOLD_THREAD, spec });
      worker.on('message', (message: FromThread) => this.receive(message));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`drift fold thread ${t} exited early (code ${code})`));
      });
      return worker;
    });
  }

  /** Streams object `index` to the thread with the fewest objects in hand; resolves with its fold. */
  async fold(index: number, source: ObjectSource, object: ObjectRef, signal: AbortSignal, onChunks: () => void): Promise<FoldedObject> {
    if (this.failure) throw this.failure;
    const t = this.load.indexOf(Math.min(...this.load));
    const worker = this.workers[t]!;
    this.load[t]!++;
    let job!: ThreadJob;
    const folded = new Promise<FoldedObject>((resolve, reject) => {
      job = { outstanding: 0, folded: resolve, fail: reject };
    });
    folded.catch(() => {});
    this.jobs.set(index, job);
    worker.postMessage({ kind: 'start', id: index, uri: object.uri, seed: index + 1 } satisfies ToThread);
    try {
      // Copies: stream chunks can be views of a shared pool, which must not be transferred away.
      let gathered = new Uint8Array(HANDOVER_BYTES);
      let filled = 0;
      const hand = async (bytes: Uint8Array) => {
        job.outstanding++;
        worker.postMessage({ kind: 'chunk', id: index, chunk: bytes } satisfies ToThread, [bytes.buffer as ArrayBuffer]);
        onChunks();
        if (job.outstanding >= CHUNKS_AHEAD) await Promise.race([new Promise<void>((resolve) => (job.acked = resolve)), folded]);
      };
      const handGathered = async () => {
        if (filled === 0) return;
        const bytes = gathered.subarray(0, filled);
        gathered = new Uint8Array(HANDOVER_BYTES);
        filled = 0;
        await hand(bytes);
      };
      for await (const chunk of await source.open(object.uri, signal)) {
        const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
        if (filled + bytes.byteLength > HANDOVER_BYTES) await handGathered();
        if (bytes.byteLength >= HANDOVER_BYTES) await hand(typeof chunk === 'string' ? bytes : new Uint8Array(bytes));
        else {
          gathered.set(bytes, filled);
          filled += bytes.byteLength;
        }
      }
      await handGathered();
      worker.postMessage({ kind: 'end', id: index } satisfies ToThread);
      return await folded;
    } catch (err) {
      // A thread's failure fails every object; a failed read fails the whole fold (its caller stops).
      this.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      this.jobs.delete(index);
      this.load[t]!--;
    }
  }

  private receive(message: FromThread): void {
    if (message.kind === 'failed') return this.fail(new Error(`drift fold thread: ${message.message}`));
    const job = this.jobs.get(message.id);
    if (!job) return;
    if (message.kind === 'ack') {
      job.outstanding--;
      job.acked?.();
      job.acked = undefined;
    } else job.folded({ bytes: message.bytes, rows: message.rows, fold: makeFold(this.spec, message.id + 1, message.fold) });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const job of this.jobs.values()) job.fail(err);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function runFoldThread(port: MessagePort, spec: FoldSpec): void {
  const open = new Map<number, { fold: AnyFold; lines: LineSplitter }>();
  const heap = new HeapBound();
  port.on('message', (message: ToThread) => {
    try {
      if (message.kind === 'start') {
        const fold = makeFold(spec, message.seed);
        open.set(message.id, { fold, lines: new LineSplitter((text, start, end, number) => fold.addLineAt(text, start, end, message.uri, number)) });
      } else if (message.kind === 'chunk') {
        open.get(message.id)!.lines.push(message.chunk);
        port.postMessage({ kind: 'ack', id: message.id } satisfies FromThread);
      } else {
        const { fold, lines } = open.get(message.id)!;
        open.delete(message.id);
        lines.end();
        fold.stats.objects = 1;
        fold.stats.bytes = lines.bytes;
        const transfer: ArrayBuffer[] = [];
        const state = fold.toState(transfer);
        port.postMessage({ kind: 'folded', id: message.id, bytes: lines.bytes, rows: fold.stats.rows, fold: state } satisfies FromThread, transfer);
        heap.afterObject();
      }
    } catch (err) {
      port.postMessage({ kind: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromThread);
    }
  });
}

if (!isMainThread) {
  const data = workerData as { role?: string; spec: FoldSpec } | null;
  if (data?.role === FOLD_THREAD) runFoldThread(parentPort!, data.spec);
  else if (data?.role === MERGE_THREAD) runMergeThread(parentPort!, data.spec);
}

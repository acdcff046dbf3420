// Folding lines into dataset profiles: captured requests (Model Monitor's data-capture JSON Lines) and
// the champion's training split (headerless CSV, label first). Pure and line-at-a-time, so the worker
// and the processing job run the same code whatever reads the bytes. A line that cannot be read is
// counted, with a few examples, and never stops the fold.
import { CaptureFormatError, CaptureLineScanner, captureFieldRows, categoricalValue, categoryOfPlainDecimal, CsvRowFields, numericalValue, parseCaptureLine } from '../capture';
import {
  DatasetProfile,
  DEFAULT_PROFILE_LIMITS,
  mixSeed,
  SMALL_INTEGER_CATEGORIES,
  type DatasetProfileJson,
  type DatasetProfileState,
  type FeatureProfile,
  NumericalProfile,
  type ProfiledFeature,
  type ProfileLimits,
} from './profile';

// The imported names the per-field loops use, bound here once. Run through tsx (esbuild's CommonJS, as the
// worker runs), every use of an imported name is a getter call on the other module's exports: a million
// records of 25 fields would pay for that 25 million times (some 5% of the fold, measured).
const SMALL_INTEGERS = SMALL_INTEGER_CATEGORIES;
const categoryOfDecimal = categoryOfPlainDecimal;

/** Examples of unreadable lines kept per fold: enough to diagnose, never growing with the input. */
export const UNREADABLE_EXAMPLES_KEPT = 5;

export interface CaptureWindowStats {
  /** Capture objects read, and their bytes. */
  objects: number;
  bytes: number;
  /** Capture lines read (blank lines aside), inside the window or not. */
  records: number;
  /** Records whose inferenceTime falls outside the window (an hour's file holds the whole hour). */
  outsideWindow: number;
  /** Feature rows profiled: a request may carry several. */
  rows: number;
  /** Lines that are not capture records, or whose input has no readable feature rows. */
  malformedRecords: number;
  malformedExamples: string[];
}

export interface DatasetSplitStats {
  objects: number;
  bytes: number;
  rows: number;
  /** Lines without label + one field per feature. */
  unreadableRows: number;
  unreadableExamples: string[];
}

export interface CaptureWindowProfileJson {
  stats: CaptureWindowStats;
  profile: DatasetProfileJson;
}

export interface DatasetSplitProfileJson {
  stats: DatasetSplitStats;
  profile: DatasetProfileJson;
}

/** A fold copied exactly for another thread (DatasetProfile.toState): merging it equals merging the fold. */
export interface CaptureWindowProfileState {
  stats: CaptureWindowStats;
  state: DatasetProfileState;
  /** Numerical values not yet in the profile (handOver): the receiving thread adds them. */
  pending?: PendingColumnsState;
}

export interface DatasetSplitProfileState {
  stats: DatasetSplitStats;
  state: DatasetProfileState;
  pending?: PendingColumnsState;
}

/** A fold's pending numerical values, a column per feature (null for categorical features). */
export interface PendingColumnsState {
  columns: (Float64Array | null)[];
  lengths: number[];
}

interface FoldOptions {
  features: readonly ProfiledFeature[];
  limits?: ProfileLimits;
  /** Seeds this fold's sketches; give each object its own (e.g. its index) so merges stay deterministic. */
  seed?: number;
  /**
   * Given when the fold will be handed to another thread (handOver) rather than read here: it then keeps
   * about limits.exactValues rows of numerical values pending, for the receiving thread to add, in
   * columns taken from these buffers (which that thread gives back).
   */
  handOverBuffers?: ColumnBuffers;
}

function addField(profile: FeatureProfile, raw: unknown): void {
  if (profile.kind === 'numerical') profile.add(numericalValue(raw));
  else profile.add(categoricalValue(raw));
}

/** Rows of numerical values a fold holds before they join their profiles. */
const PENDING_ROWS = 1024;

/** Spare column buffers kept at most: a few folds' worth (each column of a hand-over is some 86 KiB). */
const SPARE_COLUMNS_KEPT = 128;

/**
 * Column buffers of handed-over folds, given back by the thread that added their values, for the next
 * folds to fill. Without them each object's columns would be new memory on one thread and garbage on the
 * other, where little else runs to prompt a collection, and resident memory would grow with the objects.
 */
export class ColumnBuffers {
  private readonly spare: ArrayBuffer[] = [];

  /** A column of `length` values: a spare one if there is one of that size. */
  take(length: number): Float64Array {
    const index = this.spare.findIndex((b) => b.byteLength === length * Float64Array.BYTES_PER_ELEMENT);
    return index < 0 ? new Float64Array(length) : new Float64Array(this.spare.splice(index, 1)[0]!);
  }

  give(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) if (this.spare.length < SPARE_COLUMNS_KEPT && b.byteLength > 0) this.spare.push(b);
  }
}

/** The buffers of a handed-over fold's columns, to give back once its values are added (their arrays are then done). */
export function columnBuffersOf(state: CaptureWindowProfileState | DatasetSplitProfileState): ArrayBuffer[] {
  return (state.pending?.columns ?? []).flatMap((c) => (c ? [c.buffer as ArrayBuffer] : []));
}

/**
 * Numerical values on their way to their profiles, a column per feature, so that each profile takes a
 * column in one tight loop (NumericalProfile.addAll: the profile adding them one by one gives). A fold
 * flushes them before its profile is read and before it adds a value any other way.
 *
 * A fold whose profile is handed to another thread (handOver) holds more rows instead (a little over
 * the values a profile keeps exactly, so an object of that many rows is held whole): the receiving
 * thread then adds them, so the moments and kept values cost the reading thread nothing.
 */
class PendingColumns {
  private columns: (Float64Array | null)[];
  private readonly lengths: Int32Array;
  private rows = 0;

  constructor(
    private readonly ordered: readonly FeatureProfile[],
    /** Rows held before they are flushed: the whole hand-over's worth at once (growing would copy them). */
    private readonly capacity = PENDING_ROWS,
    buffers?: ColumnBuffers,
  ) {
    this.columns = ordered.map((p) => (p.kind === 'numerical' ? (buffers?.take(capacity) ?? new Float64Array(capacity)) : null));
    this.lengths = new Int32Array(ordered.length);
  }

  /** Numerical feature i's value in the current row; a missing one only counts, so it goes at once. */
  add(i: number, x: number): void {
    if (x - x === 0) this.columns[i]![this.lengths[i]!++] = x;
    else (this.ordered[i] as NumericalProfile).addMissing();
  }

  endRow(): void {
    if (++this.rows === this.capacity) this.flush();
  }

  /**
   * The values still pending, for another thread (their buffers go into `transfer`), leaving none here
   * (and no room for more);
   * undefined (they stay, to be flushed here) once a profile has started its sketch, since a restored
   * sketch draws fresh coins and the receiver's additions would then differ from this thread's.
   */
  handOver(transfer: ArrayBuffer[]): PendingColumnsState | undefined {
    for (const p of this.ordered) if (p.kind === 'numerical' && p.sketched) return undefined;
    const columns = this.columns;
    for (const column of columns) if (column) transfer.push(column.buffer as ArrayBuffer);
    const lengths = Array.from(this.lengths);
    // The fold is done once handed over: a value added after this fails loudly instead of going nowhere.
    this.columns = this.ordered.map(() => null);
    this.lengths.fill(0);
    this.rows = 0;
    return { columns, lengths };
  }

  /**
   * Values another fold's handOver() gave, added here as that fold's flush would have added them. The
   * profiles may keep the columns as their values, uncopied: they belong to this fold from now on.
   */
  restore(state: PendingColumnsState): void {
    this.flush();
    const saved = this.columns;
    this.columns = state.columns;
    state.lengths.forEach((length, i) => (this.lengths[i] = length));
    this.rows = Math.max(1, ...state.lengths);
    this.flush(true);
    this.columns = saved;
  }

  /** `owned`: the columns are given up (restore), so a profile may keep one as its values. */
  flush(owned = false): void {
    if (this.rows === 0) return;
    // Two columns of the same length at a time: their moments are taken in one loop (addAllPair).
    let waiting = -1;
    for (let i = 0; i < this.columns.length; i++) {
      const length = this.lengths[i]!;
      if (length === 0) continue;
      if (waiting >= 0 && this.lengths[waiting] === length) {
        NumericalProfile.addAllPair(this.ordered[waiting] as NumericalProfile, this.columns[waiting]!, this.ordered[i] as NumericalProfile, this.columns[i]!, length, owned);
        this.lengths[waiting] = 0;
        this.lengths[i] = 0;
        waiting = -1;
        continue;
      }
      if (waiting >= 0) {
        (this.ordered[waiting] as NumericalProfile).addAll(this.columns[waiting]!, this.lengths[waiting]!, owned);
        this.lengths[waiting] = 0;
      }
      waiting = i;
    }
    if (waiting >= 0) {
      (this.ordered[waiting] as NumericalProfile).addAll(this.columns[waiting]!, this.lengths[waiting]!, owned);
      this.lengths[waiting] = 0;
    }
    this.rows = 0;
  }
}

function keepExample(examples: string[], where: string, message: string): void {
  if (examples.length < UNREADABLE_EXAMPLES_KEPT) examples.push(`${where}: ${message}`);
}

/** Captured traffic in a window [from, to] (inclusive, ms since the epoch; null: every record). */
export class CaptureWindowProfile {
  readonly stats: CaptureWindowStats = { objects: 0, bytes: 0, records: 0, outsideWindow: 0, rows: 0, malformedRecords: 0, malformedExamples: [] };
  private readonly folded: DatasetProfile;
  private readonly ordered: FeatureProfile[];
  private readonly pending: PendingColumns;
  private readonly scanner = new CaptureLineScanner();

  constructor(
    options: FoldOptions,
    private readonly window: { from: number; to: number } | null,
    /** A fold made elsewhere: a processing job's, as its toJSON gave it, or another thread's, as its toState did. */
    restored?: CaptureWindowProfileJson | CaptureWindowProfileState,
  ) {
    this.folded = restored
      ? 'state' in restored
        ? DatasetProfile.fromState(restored.state)
        : DatasetProfile.fromJSON(restored.profile, 'capture window profile')
      : new DatasetProfile(options.features, options.limits ?? DEFAULT_PROFILE_LIMITS, mixSeed(options.seed ?? 0, 0x636170));
    if (restored) this.stats = { ...restored.stats, malformedExamples: [...restored.stats.malformedExamples] };
    this.ordered = options.features.map((f) => this.folded.feature(f.name)!);
    this.pending = new PendingColumns(this.ordered, options.handOverBuffers ? this.folded.limits.exactValues + PENDING_ROWS : undefined, options.handOverBuffers);
    if (restored && 'pending' in restored && restored.pending) this.pending.restore(restored.pending);
  }

  /** The profile of every line so far. */
  get profile(): DatasetProfile {
    this.pending.flush();
    return this.folded;
  }

  /** One line of a capture file; `source` and `line` name it in examples. */
  addLine(text: string, source: string, line: number): void {
    this.addLineAt(text, 0, text.length, source, line);
  }

  /** The line text.slice(start, end), read where it lies when it has the usual shape. */
  addLineAt(text: string, start: number, end: number, source: string, line: number): void {
    const scanned = this.scanner.scan(text, start, end) && this.addScanned();
    this.scanner.release();
    if (!scanned) this.parseLine(start === 0 && end === text.length ? text : text.slice(start, end), source, line);
  }

  /** The general path: any line, through parseCaptureLine. */
  private parseLine(text: string, source: string, line: number): void {
    if (text.trim() === '') return;
    this.pending.flush();
    this.stats.records++;
    try {
      const record = parseCaptureLine(text);
      if (this.window) {
        const at = Date.parse(record.inferenceTime);
        if (at < this.window.from || at > this.window.to) {
          this.stats.outsideWindow++;
          return;
        }
      }
      const { rows } = captureFieldRows(record, this.ordered.length);
      for (const row of rows) {
        for (let i = 0; i < row.length; i++) addField(this.ordered[i]!, row[i]);
      }
      this.stats.rows += rows.length;
      this.folded.rows += rows.length;
    } catch (err) {
      this.stats.malformedRecords++;
      keepExample(this.stats.malformedExamples, `${source}:${line}`, err instanceof CaptureFormatError ? err.message : String(err));
    }
  }

  /**
   * The line the scanner just read, if it is the usual one-row CSV request (else false, with nothing
   * counted): the same steps as below, on the line in place.
   */
  private addScanned(): boolean {
    const scan = this.scanner;
    if (this.window && (scan.inferenceTime < this.window.from || scan.inferenceTime > this.window.to)) {
      this.stats.records++;
      this.stats.outsideWindow++;
      return true;
    }
    const ordered = this.ordered;
    if (!scan.csvRow(ordered.length)) return false;
    const pending = this.pending;
    for (let i = 0; i < ordered.length; i++) {
      const profile = ordered[i]!;
      if (profile.kind === 'numerical') pending.add(i, scan.numberAt(i));
      else {
        const small = scan.smallIntegerAt(i, SMALL_INTEGERS);
        if (small >= 0) profile.addSmallInteger(small);
        else profile.add(scan.categoryAt(i));
      }
    }
    pending.endRow();
    this.stats.records++;
    this.stats.rows++;
    this.folded.rows++;
    return true;
  }

  /** Folds a later object's profile into this one (merge in object order for reproducible results). */
  merge(other: CaptureWindowProfile): void {
    this.profile.merge(other.profile);
    const s = this.stats;
    const o = other.stats;
    s.objects += o.objects;
    s.bytes += o.bytes;
    s.records += o.records;
    s.outsideWindow += o.outsideWindow;
    s.rows += o.rows;
    s.malformedRecords += o.malformedRecords;
    for (const e of o.malformedExamples) if (s.malformedExamples.length < UNREADABLE_EXAMPLES_KEPT) s.malformedExamples.push(e);
  }

  toJSON(): CaptureWindowProfileJson {
    return { stats: { ...this.stats, malformedExamples: [...this.stats.malformedExamples] }, profile: this.profile.toJSON() };
  }

  toState(transfer?: ArrayBuffer[]): CaptureWindowProfileState {
    return { stats: { ...this.stats, malformedExamples: [...this.stats.malformedExamples] }, state: this.profile.toState(transfer) };
  }

  /**
   * toState for the thread that merges this fold, which then adds the pending numerical values itself:
   * restoring the state gives the same fold, bit for bit.
   */
  handOver(transfer: ArrayBuffer[]): CaptureWindowProfileState {
    const pending = this.pending.handOver(transfer);
    return { ...this.toState(transfer), pending };
  }
}

/** The champion's training split: headerless CSV rows, the label first, then one field per feature. */
export class DatasetSplitProfile {
  readonly stats: DatasetSplitStats = { objects: 0, bytes: 0, rows: 0, unreadableRows: 0, unreadableExamples: [] };
  private readonly folded: DatasetProfile;
  private readonly ordered: FeatureProfile[];
  private readonly pending: PendingColumns;
  private readonly row = new CsvRowFields();

  constructor(options: FoldOptions, restored?: DatasetSplitProfileJson | DatasetSplitProfileState) {
    this.folded = restored
      ? 'state' in restored
        ? DatasetProfile.fromState(restored.state)
        : DatasetProfile.fromJSON(restored.profile, 'dataset split profile')
      : new DatasetProfile(options.features, options.limits ?? DEFAULT_PROFILE_LIMITS, mixSeed(options.seed ?? 0, 0x626173));
    if (restored) this.stats = { ...restored.stats, unreadableExamples: [...restored.stats.unreadableExamples] };
    this.ordered = options.features.map((f) => this.folded.feature(f.name)!);
    this.pending = new PendingColumns(this.ordered, options.handOverBuffers ? this.folded.limits.exactValues + PENDING_ROWS : undefined, options.handOverBuffers);
    if (restored && 'pending' in restored && restored.pending) this.pending.restore(restored.pending);
  }

  /** The profile of every row so far. */
  get profile(): DatasetProfile {
    this.pending.flush();
    return this.folded;
  }

  addLine(text: string, source: string, line: number): void {
    this.addLineAt(text, 0, text.length, source, line);
  }

  /** The line text.slice(start, end), its fields read where they lie. */
  addLineAt(text: string, start: number, end: number, source: string, line: number): void {
    // Blank lines are skipped; a printable ASCII first character settles it without trimming.
    const first = text.charCodeAt(start);
    if (!(first > 0x20 && first < 0x7f) && text.slice(start, end).trim() === '') return;
    const row = this.row;
    const fields = row.read(text, start, end);
    if (fields !== this.ordered.length + 1) {
      this.stats.unreadableRows++;
      keepExample(this.stats.unreadableExamples, `${source}:${line}`, `has ${fields} fields, expected the label and ${this.ordered.length} features`);
      return;
    }
    // Field 0, the label, is skipped; feature i is field i + 1, a plain decimal already read as a number.
    const values = row.values;
    const bounds = row.bounds;
    for (let i = 0; i < this.ordered.length; i++) {
      const value = values[i + 1]!;
      const profile = this.ordered[i]!;
      if (profile.kind === 'numerical') this.pending.add(i, value === value ? value : numericalValue(text.slice(bounds[i + 1]!, bounds[i + 2]! - 1)));
      else if (value >= 0 && value < SMALL_INTEGERS && (value | 0) === value) profile.addSmallInteger(value | 0);
      // categoricalField's rule: a plain decimal is the category of its value, anything else of its text.
      else profile.add(value === value ? categoryOfDecimal(value) : categoricalValue(text.slice(bounds[i + 1]!, bounds[i + 2]! - 1)));
    }
    this.pending.endRow();
    this.stats.rows++;
    this.folded.rows++;
  }

  merge(other: DatasetSplitProfile): void {
    this.profile.merge(other.profile);
    const s = this.stats;
    const o = other.stats;
    s.objects += o.objects;
    s.bytes += o.bytes;
    s.rows += o.rows;
    s.unreadableRows += o.unreadableRows;
    for (const e of o.unreadableExamples) if (s.unreadableExamples.length < UNREADABLE_EXAMPLES_KEPT) s.unreadableExamples.push(e);
  }

  toJSON(): DatasetSplitProfileJson {
    return { stats: { ...this.stats, unreadableExamples: [...this.stats.unreadableExamples] }, profile: this.profile.toJSON() };
  }

  toState(transfer?: ArrayBuffer[]): DatasetSplitProfileState {
    return { stats: { ...this.stats, unreadableExamples: [...this.stats.unreadableExamples] }, state: this.profile.toState(transfer) };
  }

  /** As CaptureWindowProfile.handOver. */
  handOver(transfer: ArrayBuffer[]): DatasetSplitProfileState {
    const pending = this.pending.handOver(transfer);
    return { ...this.toState(transfer), pending };
  }
}

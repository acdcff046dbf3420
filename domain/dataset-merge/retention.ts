// Retention: which kept rows a version retires by age or by a row cap, and how many copies of a recent
// train row weighting asks for. Every decision depends on the rows alone (ages count back from the
// newest record time in the version, not from the clock), so the same inputs give the same version.
export const DAY_MS = 86_400_000;

export interface RecencyWeights {
  /** A train row this many days older than the newest gets half the copies. */
  halfLifeDays: number;
  /** Copies of the newest rows; the oldest get one. */
  maxCopies: number;
}

export interface RetentionPolicy {
  /** Keep at most this many rows: the newest. */
  maxRows?: number;
  /** Retire rows whose record time is more than this many days before the newest record time. */
  maxAgeDays?: number;
  /** Duplicate recent train rows (built-in algorithms take no weight column in CSV; copies they all read). */
  recencyWeights?: RecencyWeights;
}

/**
 * The earliest record time maxAgeDays keeps, or null when every row stays. Rows without a time have
 * no age and are never retired by it.
 */
export function oldestKept(policy: RetentionPolicy, newest: number | null): number | null {
  if (policy.maxAgeDays === undefined || newest === null) return null;
  return newest - Math.round(policy.maxAgeDays * DAY_MS);
}

/** How many times a train row appears in the train channel (validation and holdout rows appear once). */
export function trainCopies(policy: RetentionPolicy, time: number | null, newest: number | null): number {
  const w = policy.recencyWeights;
  if (!w || time === null || newest === null) return 1;
  const ageDays = Math.max(0, (newest - time) / DAY_MS);
  return Math.max(1, Math.round(w.maxCopies * 0.5 ** (ageDays / w.halfLifeDays)));
}

export type CutoffStep =
  /** Keep rows with time >= keepFrom (null: every timed row); keep the untimed rows too only if keepUntimed. */
  | { done: true; keepFrom: number | null; keepUntimed: boolean }
  /** Count again, over the narrower range. */
  | { done: false };

/**
 * Finds maxRows's cutoff in a few passes over the rows' times, each counting into a fixed number of
 * buckets (memory does not grow with the rows). The newest rows are kept; rows sharing the cutoff
 * instant are kept or retired together, so the cut never depends on row order; and rows without a
 * time count as the oldest. Use: `bucketOf(time)` on every timed row, `step(counts)`, repeat until done.
 */
export class RowCapCutoff {
  static readonly BUCKETS = 4096;
  private lo: number;
  private hi: number;
  private width: number;
  private above = 0;
  private result: CutoffStep | null = null;

  constructor(
    private readonly maxRows: number,
    range: { min: number; max: number } | null,
    timedRows: number,
    untimedRows: number,
  ) {
    if (!(Number.isSafeInteger(maxRows) && maxRows >= 0)) throw new RangeError(`maxRows must be a non-negative integer, got ${maxRows}`);
    this.lo = range?.min ?? 0;
    this.hi = range?.max ?? 0;
    this.width = range ? Math.max(1, Math.ceil((range.max - range.min + 1) / RowCapCutoff.BUCKETS)) : 1;
    if (timedRows <= maxRows) this.result = { done: true, keepFrom: null, keepUntimed: timedRows + untimedRows <= maxRows };
  }

  /** Whether a cutoff is known without counting (every timed row fits). */
  get settled(): CutoffStep | null {
    return this.result;
  }

  /** The bucket a time counts in this pass, or -1 outside the range still open. */
  bucketOf(time: number): number {
    if (time < this.lo || time > this.hi) return -1;
    return Math.floor((time - this.lo) / this.width);
  }

  step(counts: ArrayLike<number>): CutoffStep {
    if (this.result) return this.result;
    let kept = this.above;
    for (let b = RowCapCutoff.BUCKETS - 1; b >= 0; b--) {
      const n = counts[b] ?? 0;
      if (kept + n <= this.maxRows) {
        kept += n;
        continue;
      }
      const start = this.lo + b * this.width;
      if (this.width === 1) return (this.result = { done: true, keepFrom: start + 1, keepUntimed: false });
      this.above = kept;
      this.lo = start;
      this.hi = Math.min(this.hi, start + this.width - 1);
      this.width = Math.max(1, Math.ceil(this.width / RowCapCutoff.BUCKETS));
      return { done: false };
    }
    return (this.result = { done: true, keepFrom: this.lo, keepUntimed: false });
  }
}

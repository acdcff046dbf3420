// The merge's books: every input row ends in exactly one place, and the manifest records each term.
import type { Split } from '../dataset-version';

export interface MergeCounts {
  /** Rows read: the parent version's rows and the new sources' non-blank lines. */
  inputs: { parentRows: number; newLines: number };
  /** Rows in the version, by split (train counts rows, not the copies recency weighting adds). */
  splits: Record<Split, number>;
  /** Lines whose content (label and features) a kept row already has. */
  duplicates: number;
  /** Lines whose label lost a conflict under keep-existing or newest-wins (the parent's row too, when relabelled). */
  overruled: number;
  /** Lines held back: unreadable, or a conflicting label under quarantine-conflicts. */
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  /** Rows retention retired: older than maxAgeDays, or past maxRows. */
  retired: { byAge: number; byRowCap: number };
  /** Rows in the version (all splits). */
  total: number;
  /** Rows the parent did not have. */
  new: number;
  /** Parent rows whose label (or content) a newer line replaced; they keep their split. */
  relabelled: number;
  /** Keys seen with more than one content. */
  conflicts: number;
  /** Lines in the train channel, copies included. */
  trainLines: number;
  /** Blank lines skipped (not rows). */
  blankLines: number;
}

export function emptyCounts(): MergeCounts {
  return {
    inputs: { parentRows: 0, newLines: 0 },
    splits: { train: 0, validation: 0, holdout: 0 },
    duplicates: 0,
    overruled: 0,
    quarantined: 0,
    quarantinedByReason: {},
    retired: { byAge: 0, byRowCap: 0 },
    total: 0,
    new: 0,
    relabelled: 0,
    conflicts: 0,
    trainLines: 0,
    blankLines: 0,
  };
}

export function countQuarantined(counts: MergeCounts, code: string): void {
  counts.quarantined++;
  counts.quarantinedByReason[code] = (counts.quarantinedByReason[code] ?? 0) + 1;
}

export interface Conservation {
  holds: boolean;
  /** inputs = train + validation + holdout + duplicates + overruled + quarantined + retired, with the numbers. */
  equation: string;
  inputs: number;
  accounted: number;
}

/** Every input row is in exactly one of the splits, the duplicates, the overruled, the quarantine or the retired. */
export function conservation(c: MergeCounts): Conservation {
  const inputs = c.inputs.parentRows + c.inputs.newLines;
  const terms = [c.splits.train, c.splits.validation, c.splits.holdout, c.duplicates, c.overruled, c.quarantined, c.retired.byAge + c.retired.byRowCap];
  const accounted = terms.reduce((a, b) => a + b, 0);
  const byReason = Object.values(c.quarantinedByReason).reduce((a, b) => a + b, 0);
  const holds = inputs === accounted && byReason === c.quarantined && c.total === c.splits.train + c.splits.validation + c.splits.holdout;
  return {
    holds,
    inputs,
    accounted,
    equation:
      `${c.inputs.parentRows} parent + ${c.inputs.newLines} new = ${c.splits.train} train + ${c.splits.validation} validation + ${c.splits.holdout} holdout` +
      ` + ${c.duplicates} duplicates + ${c.overruled} overruled + ${c.quarantined} quarantined + ${c.retired.byAge + c.retired.byRowCap} retired` +
      (holds ? '' : ` (does not hold: ${inputs} read, ${accounted} accounted for)`),
  };
}

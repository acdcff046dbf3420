// What becomes of every observation of one row key: the merge's decisions, free of I/O. The streaming
// engine (activities/dataset.ts) groups observations by key and hands each group here.
import type { ConflictPolicy, Split, SplitShares } from '../dataset-version';
import { splitFor } from './keys';

/** One sighting of a row: in the parent version, or on a line of a new source. */
export interface Observation {
  key: string;
  /** placementHash(key): decides a new row's split. */
  hash: string;
  label: number;
  /** Canonical feature text (featuresText). */
  features: string;
  /** Record time, ms since the epoch; null when neither the record nor its source says. */
  time: number | null;
  /** Input order: the parent's rows first, then the sources in order, each line in order. */
  order: number;
  /** The split the parent version holds this row in; null for a new line. */
  parentSplit: Split | null;
  /** Where the row was read: `s3://bucket/key:line`. */
  origin: string;
}

export type Fate =
  /** Kept in the version, in `split`. */
  | { fate: 'kept'; split: Split }
  /** The same content as the kept row (or as a row kept earlier): dropped as a duplicate. */
  | { fate: 'duplicate' }
  /** A different label (or content) for the key, which the policy decided against. */
  | { fate: 'overruled' }
  /** A conflicting label held back under quarantine-conflicts. */
  | { fate: 'quarantined'; code: 'conflicting_label'; reason: string };

export interface KeyResolution {
  /** The observation that stands for the row in the version, or null when nothing is kept. */
  kept: { observation: Observation; split: Split; isNew: boolean; relabelled: boolean } | null;
  /** Every observation's fate, in input order. */
  fates: { observation: Observation; fate: Fate }[];
  conflict: boolean;
}

const content = (o: Observation) => `${o.label}|${o.features}`;

/** Newer first by record time (an unknown time is oldest), then by input order. */
export function isNewer(a: Observation, b: Observation): boolean {
  const ta = a.time ?? -Infinity;
  const tb = b.time ?? -Infinity;
  return ta !== tb ? ta > tb : a.order > b.order;
}

/**
 * Resolves one key:
 *  - observations with the same content (label and features) collapse into one row; the rest are duplicates;
 *  - a row the parent holds keeps its split, whatever the hash says: nothing leaves holdout, and a
 *    relabelled holdout row stays in holdout;
 *  - a new row goes where its hash puts it;
 *  - different contents for one key are a conflict, settled by the policy:
 *      keep-existing         the parent's row, or with no parent the earliest line's content;
 *      newest-wins           the newest observation's content (record time, then input order);
 *      quarantine-conflicts  the parent's row stays; every new line that disagrees with it is
 *                            quarantined (with no parent row, every line of the key is), whatever the order.
 *    A losing content is `overruled` under the first two policies.
 */
export function resolveKey(observations: readonly Observation[], policy: ConflictPolicy, shares: SplitShares): KeyResolution {
  if (observations.length === 0) throw new RangeError('resolveKey needs at least one observation');
  const ordered = [...observations].sort((a, b) => a.order - b.order);
  const parent = ordered.find((o) => o.parentSplit !== null) ?? null;
  const contents = new Set(ordered.map(content));
  const conflict = contents.size > 1;
  const splitOf = (o: Observation): Split => parent?.parentSplit ?? splitFor(o.hash, shares);

  if (conflict && policy === 'quarantine-conflicts') {
    const fates = ordered.map((observation) => {
      if (parent && content(observation) === content(parent)) {
        return { observation, fate: observation === parent ? ({ fate: 'kept', split: parent.parentSplit! } as Fate) : ({ fate: 'duplicate' } as Fate) };
      }
      const others = [...new Set(ordered.filter((o) => content(o) !== content(observation)).map((o) => String(o.label)))];
      const against = parent ? `the parent version's label ${parent.label}` : `other new rows (label ${others.join(', ')})`;
      const what = parent && parent.label === observation.label ? 'different features' : `label ${observation.label}`;
      return {
        observation,
        fate: { fate: 'quarantined', code: 'conflicting_label', reason: `conflicting_label: key ${observation.key} matches ${against}; this line has ${what}` } as Fate,
      };
    });
    return { kept: parent ? { observation: parent, split: parent.parentSplit!, isNew: false, relabelled: false } : null, fates, conflict };
  }

  let winner: Observation;
  if (!conflict || policy === 'keep-existing') {
    winner = parent ?? ordered[0]!;
  } else {
    winner = ordered.reduce((newest, o) => (isNewer(o, newest) ? o : newest));
  }
  // The kept observation of the winning content: the parent's if it has that content, else its first line.
  const winning = content(winner);
  const representative = parent && content(parent) === winning ? parent : ordered.find((o) => content(o) === winning)!;
  const split = splitOf(representative);
  const fates = ordered.map((observation) => ({
    observation,
    fate: (observation === representative ? { fate: 'kept', split } : content(observation) === winning ? { fate: 'duplicate' } : { fate: 'overruled' }) as Fate,
  }));
  return {
    kept: { observation: representative, split, isNew: parent === null, relabelled: parent !== null && representative !== parent },
    fates,
    conflict,
  };
}

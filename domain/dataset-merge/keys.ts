// Row identity: the de-duplication key, the hash that places a row in a split and a disk partition,
// and the canonical text of a row's content. The sha256 itself is the caller's (the merge uses
// node:crypto's, ten times faster than @noble's here); digests equal domain/dataset-version.ts's, so
// versions written before agree on every key and split.
import type { Split, SplitShares } from '../dataset-version';

/** Hex sha256 of a UTF-8 string. */
export type Sha256Hex = (text: string) => string;

/** How rows are told apart: by their features (a content hash), or by the key the record carries. */
export type DedupKeyMode = 'content' | 'record-key';

/** Features in their shortest round-trip form, comma-joined: the text a content key hashes. */
export function featuresText(features: readonly number[]): string {
  let text = '';
  for (let i = 0; i < features.length; i++) text += (i ? ',' : '') + String(features[i]);
  return text;
}

/** The content key: 32 hex of sha256 over the features alone, so one example with two labels collides. */
export function contentKey(features: string, sha256Hex: Sha256Hex): string {
  return sha256Hex(features).slice(0, 32);
}

const HEX_DIGEST = /^[0-9a-f]{32,}$/;

/**
 * The uniform hash a row's placement derives from: a content key already is one; any other key is
 * hashed as `split|key` (as assignSplit in dataset-version.ts does, so both place a row alike).
 */
export function placementHash(key: string, sha256Hex: Sha256Hex): string {
  return HEX_DIGEST.test(key) ? key : sha256Hex(`split|${key}`);
}

/** u ∈ [0, 1) from the hash's last 52 bits: exact in a double, so the same on every platform. */
export function placementDraw(hash: string): number {
  return parseInt(hash.slice(-13), 16) / 2 ** 52;
}

/**
 * A new row's split from its placement hash: holdout below holdoutShare, then validation, then train.
 * Holdout is carved first, so a change of the validation share never moves a row in or out of holdout.
 */
export function splitFor(hash: string, shares: SplitShares): Split {
  const u = placementDraw(hash);
  if (u < shares.holdoutShare) return 'holdout';
  if (u < shares.holdoutShare + shares.validationShare) return 'validation';
  return 'train';
}

/**
 * The disk partition (0..count-1) of a hash: by its leading 32 bits, so partitions are ranges of the
 * hash order and reading them in turn, each sorted, reads every row in hash order whatever the count.
 */
export function partitionOf(hash: string, count: number): number {
  return Math.min(count - 1, Math.floor((parseInt(hash.slice(0, 8), 16) / 2 ** 32) * count));
}

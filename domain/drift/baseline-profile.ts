// A dataset baseline's profile, kept between runs. The champion's training split is the same every run
// until the champion changes, so its profile is made once per dataset version (as Model Monitor's
// baseline job runs once) and read back while everything it was made from is unchanged: the version, the
// split's objects, the columns and the profile limits. Only the capture window is then read each run.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../dataset-version';
import { DatasetProfile, type ProfiledFeature, type ProfileLimits } from './profile';
import type { DatasetSplitProfileJson, DatasetSplitStats } from './profiling';

/**
 * Names what a kept profile holds. Change it whenever profiling changes what a profile of the same rows
 * would be (its fields, sketches, seeds or limits' meaning): profiles kept before are then not reused.
 */
export const BASELINE_PROFILE_FORMAT = 'drift-baseline-profile/1';

/** Everything a baseline profile depends on: a kept one is reused only when all of it is the same. */
export interface BaselineProfileIdentity {
  format: string;
  datasetVersion: string;
  /** The split's objects in the order they are read, with their sizes. */
  objects: { uri: string; size: number }[];
  /** The columns the split is read with, in order. */
  features: { name: string; type: string }[];
  limits: ProfileLimits;
}

export interface BaselineSplitProfile {
  profile: DatasetProfile;
  stats: DatasetSplitStats;
}

/** What is written: the identity in full (the key alone could collide with nothing, but says nothing either) and the profile. */
export interface KeptBaselineProfileJson {
  identity: BaselineProfileIdentity;
  reference: DatasetSplitProfileJson;
}

export function baselineProfileIdentity(input: {
  datasetVersion: string;
  objects: readonly { uri: string; size: number }[];
  features: readonly ProfiledFeature[];
  limits: ProfileLimits;
}): BaselineProfileIdentity {
  return {
    format: BASELINE_PROFILE_FORMAT,
    datasetVersion: input.datasetVersion,
    objects: input.objects.map((o) => ({ uri: o.uri, size: o.size })),
    features: input.features.map((f) => ({ name: f.name, type: f.type })),
    limits: { exactValues: input.limits.exactValues, distinctValues: input.limits.distinctValues, categories: input.limits.categories },
  };
}

/** 32 hex characters of a SHA-256 over the identity: the kept profile's file name. */
export function baselineProfileKey(identity: BaselineProfileIdentity): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(identity)))).slice(0, 32);
}

export function keptBaselineProfile(identity: BaselineProfileIdentity, reference: BaselineSplitProfile): KeptBaselineProfileJson {
  return {
    identity,
    reference: { stats: { ...reference.stats, unreadableExamples: [...reference.stats.unreadableExamples] }, profile: reference.profile.toJSON() },
  };
}

/**
 * A kept profile read back, if it is one for `identity`; otherwise why not (another format or identity,
 * or a file that does not read as one), so that the caller profiles the split and writes it anew.
 */
export function readKeptBaselineProfile(text: string, identity: BaselineProfileIdentity, where: string): { reference: BaselineSplitProfile } | { reason: string } {
  let kept: Partial<KeptBaselineProfileJson>;
  try {
    kept = JSON.parse(text) as Partial<KeptBaselineProfileJson>;
  } catch (err) {
    return { reason: `${where} is not JSON: ${(err as Error).message}` };
  }
  if (kept === null || typeof kept !== 'object' || !kept.identity || !kept.reference) return { reason: `${where} holds no "identity" and "reference"` };
  if (kept.identity.format !== BASELINE_PROFILE_FORMAT) return { reason: `${where} is of format ${JSON.stringify(kept.identity.format)}, not ${BASELINE_PROFILE_FORMAT}` };
  if (canonicalJson(kept.identity) !== canonicalJson(identity)) return { reason: `${where} was made from other objects, columns or limits` };
  const stats = kept.reference.stats;
  if (!stats || typeof stats.rows !== 'number' || !Array.isArray(stats.unreadableExamples)) return { reason: `${where}: reference.stats is not a split's statistics` };
  try {
    return { reference: { profile: DatasetProfile.fromJSON(kept.reference.profile, `${where} reference.profile`), stats } };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

// A Model Monitor baseline as the drift stage's reference: readModelMonitorBaseline's features turned into
// the feature profiles every drift method compares (domain/drift/profile.ts), so a baseline job's
// statistics.json stands where the champion's training split would.
//   - numerical: present/missing counts, min, max, mean, sum and std_dev from the statistics (from the
//     sketch where a field is absent), and the KLL sketch. A sketch nothing was compacted in holds every
//     value, so it is read as exact values (and distinct counts, when few); otherwise the profile is the sketch.
//   - categorical: the categorical buckets' counts; values the buckets do not list (present minus the
//     buckets' sum) count as pooled overflow.
// Features the baseline cannot give (`skipped`) have no profile: the drift report calls them missing
// columns, with the reason.
// A file whose numbers do not add up (a sketch summarising another count than num_present, fractional
// counts) throws ModelMonitorFormatError naming the file and the JSON path.
import { DatasetProfile, type DatasetProfileJson, type FeatureProfileJson, type ProfileLimits } from '../drift/profile';
import { DriftInputError } from '../drift/types';
import { readModelMonitorBaseline, type ModelMonitorBaseline, type ReferenceFeature } from './baseline';
import type { Constraints } from './constraints';
import { ModelMonitorFormatError, type FormatIssue } from './format';
import type { FeatureStatistics, Statistics } from './statistics';

export interface ModelMonitorReference {
  profile: DatasetProfile;
  baseline: ModelMonitorBaseline;
}

export interface BaselineFiles {
  /** Names for error messages: the S3 URIs, say. */
  statistics: string;
  constraints: string;
}

export function modelMonitorReferenceProfile(statistics: Statistics, constraints: Constraints, files: BaselineFiles, limits: ProfileLimits): ModelMonitorReference {
  const baseline = readModelMonitorBaseline(statistics, constraints);
  const issues: FormatIssue[] = [];
  const index = new Map(statistics.features.map((f, i) => [f.name, i]));
  const features: DatasetProfileJson['features'] = [];
  for (const feature of baseline.features) {
    const i = index.get(feature.name)!;
    const json = feature.kind === 'numerical' ? numericalJson(feature, statistics.features[i]!, `features[${i}].numerical_statistics`, limits, issues) : categoricalJson(feature, `features[${i}].string_statistics`, issues);
    if (json) features.push({ name: feature.name, ...json });
  }
  if (!Number.isSafeInteger(statistics.dataset.item_count)) issues.push({ path: 'dataset.item_count', message: `expected a whole number of rows, got ${statistics.dataset.item_count}` });
  if (issues.length > 0) throw new ModelMonitorFormatError(files.statistics, issues);
  try {
    return { profile: DatasetProfile.fromJSON({ rows: statistics.dataset.item_count, limits, features }, files.statistics), baseline };
  } catch (err) {
    if (err instanceof DriftInputError) throw new ModelMonitorFormatError(files.statistics, [{ path: '', message: err.message }]);
    throw err;
  }
}

function wholeCount(value: number, path: string, issues: FormatIssue[]): boolean {
  if (Number.isSafeInteger(value)) return true;
  issues.push({ path, message: `expected a whole number, got ${value}` });
  return false;
}

function numericalJson(feature: ReferenceFeature, stats: FeatureStatistics, at: string, limits: ProfileLimits, issues: FormatIssue[]): FeatureProfileJson | undefined {
  const sketch = feature.sketch!;
  const ok = wholeCount(feature.present, `${at}.common.num_present`, issues) && wholeCount(feature.missing, `${at}.common.num_missing`, issues);
  if (!ok) return undefined;
  if (sketch.count !== feature.present) {
    issues.push({ path: `${at}.distribution.kll.sketch`, message: `summarises ${sketch.count} values but common.num_present is ${feature.present}` });
    return undefined;
  }
  const items = sketch.weightedValues();
  const numbers = stats.numerical_statistics!;
  const count = feature.present;
  let mean = numbers.mean;
  let variance = numbers.std_dev === undefined ? undefined : numbers.std_dev ** 2;
  if (count > 0 && (mean === undefined || variance === undefined)) {
    const m = items.reduce((s, x) => s + x.value * x.weight, 0) / count;
    mean ??= m;
    variance ??= items.reduce((s, x) => s + x.weight * (x.value - m) ** 2, 0) / count;
  }
  const exact = sketch.normalizedRankError === 0 && count <= limits.exactValues;
  const distinct = new Map<number, number>();
  for (const { value, weight } of items) distinct.set(value, (distinct.get(value) ?? 0) + weight);
  return {
    kind: 'numerical',
    count,
    missing: feature.missing,
    min: count === 0 ? null : (numbers.min ?? items[0]!.value),
    max: count === 0 ? null : (numbers.max ?? items[items.length - 1]!.value),
    mean: mean ?? 0,
    m2: (variance ?? 0) * count,
    sum: numbers.sum ?? (mean ?? 0) * count,
    integral: feature.inferredType === 'Integral',
    values: exact ? items.map((x) => x.value) : null,
    distinct: exact && distinct.size <= limits.distinctValues ? [...distinct].sort((a, b) => a[0] - b[0]) : null,
    kll: exact ? null : sketch.toModelMonitor(),
    seed: 1,
  };
}

function categoricalJson(feature: ReferenceFeature, at: string, issues: FormatIssue[]): FeatureProfileJson | undefined {
  const ok = wholeCount(feature.present, `${at}.common.num_present`, issues) && wholeCount(feature.missing, `${at}.common.num_missing`, issues);
  const categories = feature.categories!;
  let listed = 0;
  categories.forEach((c) => {
    listed += c.count;
  });
  if (!categories.every((c) => Number.isSafeInteger(c.count))) {
    issues.push({ path: `${at}.distribution.categorical.buckets`, message: 'expected whole-number counts' });
    return undefined;
  }
  if (!ok) return undefined;
  if (listed > feature.present) {
    issues.push({ path: `${at}.distribution.categorical.buckets`, message: `counts sum to ${listed}, more than common.num_present (${feature.present})` });
    return undefined;
  }
  return {
    kind: 'categorical',
    count: feature.present,
    missing: feature.missing,
    categories: categories.map((c): [string, number] => [c.value, c.count]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    overflow: feature.present - listed,
  };
}

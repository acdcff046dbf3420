// A small picture of one feature, reference against current, for the HTML report: shares (each side's
// present values sum to 1) over bins both sides share.
//   - numerical: 20 equal-width bins between the 0.5% and 99.5% quantiles of either side (values beyond
//     fall in the end bins, which says so), counted from exact values, distinct counts or KLL sketches,
//     whichever each profile kept (`basis`: sketch when a compacted sketch was read);
//   - numerical with at most 12 distinct values over both sides (flags, small counts), known exactly: one
//     bar per value;
//   - categorical: the 8 categories with the largest combined share, the rest (and categories pooled past
//     a profile's cap) as one "other" bar.
import type { CategoricalProfile, FeatureProfile, NumericalProfile } from './profile';
import { weightedQuantile, weightedSampleOf, type WeightedSample } from './samples';

export type FeatureHistogram =
  | {
      kind: 'bins';
      /** bins + 1 edges. */
      edges: number[];
      reference: number[];
      current: number[];
      /** Values below the first edge or above the last were counted in the end bins. */
      clipped: { below: boolean; above: boolean };
      basis: 'exact' | 'sketch';
    }
  | {
      kind: 'categories';
      labels: string[];
      reference: number[];
      current: number[];
      /** Listed categories folded into the last bar ("other"); 0 when each listed category has its own bar. */
      otherCategories: number;
      /** "other" also holds values a profile pooled past its category cap (categories not known). */
      pooled: boolean;
    };

export const HISTOGRAM_BINS = 20;
export const HISTOGRAM_CATEGORIES = 8;
const DISCRETE_MAX_VALUES = 12;
export const OTHER_LABEL = '(other)';

/** null when neither side has values to draw, or the two sides are of different kinds. */
export function featureHistogram(reference: FeatureProfile | undefined, current: FeatureProfile | undefined): FeatureHistogram | null {
  const sides = [reference, current].filter((p): p is FeatureProfile => p !== undefined && p.count > 0);
  if (sides.length === 0) return null;
  const kind = sides[0]!.kind;
  if (sides.some((p) => p.kind !== kind)) return null;
  const present = (p: FeatureProfile | undefined) => (p && p.count > 0 ? p : undefined);
  return kind === 'numerical'
    ? numericalHistogram(present(reference) as NumericalProfile | undefined, present(current) as NumericalProfile | undefined)
    : categoricalHistogram(present(reference) as CategoricalProfile | undefined, present(current) as CategoricalProfile | undefined);
}

function numericalHistogram(reference: NumericalProfile | undefined, current: NumericalProfile | undefined): FeatureHistogram {
  const a = reference ? weightedSampleOf(reference, 'histogram', 'reference') : null;
  const b = current ? weightedSampleOf(current, 'histogram', 'current') : null;
  const samples = [a, b].filter((s): s is WeightedSample => s !== null);
  const discrete = discreteValues(samples);
  if (discrete) {
    const shares = (s: WeightedSample | null) => discrete.map((v) => (s ? weightAt(s, v) / s.total : 0));
    return { kind: 'categories', labels: discrete.map(String), reference: shares(a), current: shares(b), otherCategories: 0, pooled: false };
  }
  const min = Math.min(...samples.map((s) => s.values[0]!));
  const max = Math.max(...samples.map((s) => s.values[s.values.length - 1]!));
  let low = Math.min(...samples.map((s) => weightedQuantile(s, 0.005)));
  let high = Math.max(...samples.map((s) => weightedQuantile(s, 0.995)));
  if (!(high > low)) [low, high] = [min, max];
  const bins = high > low ? HISTOGRAM_BINS : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? high : low + ((high - low) * i) / bins));
  const shares = (s: WeightedSample | null) => {
    const counts = new Array<number>(bins).fill(0);
    if (!s) return counts;
    for (let i = 0; i < s.values.length; i++) {
      const position = bins === 1 ? 0 : Math.floor(((s.values[i]! - low) / (high - low)) * bins);
      counts[Math.min(bins - 1, Math.max(0, position))]! += s.weights[i]!;
    }
    return counts.map((c) => c / s.total);
  };
  return {
    kind: 'bins',
    edges,
    reference: shares(a),
    current: shares(b),
    clipped: { below: min < low, above: max > high },
    basis: samples.some((s) => s.rankError > 0) ? 'sketch' : 'exact',
  };
}

/** The values of both samples, sorted, when they are known exactly and few. */
function discreteValues(samples: WeightedSample[]): number[] | null {
  if (samples.some((s) => s.rankError > 0)) return null;
  const values = new Set<number>();
  for (const s of samples) {
    for (const v of s.values) {
      values.add(v);
      if (values.size > DISCRETE_MAX_VALUES) return null;
    }
  }
  return [...values].sort((x, y) => x - y);
}

function weightAt(sample: WeightedSample, value: number): number {
  let weight = 0;
  for (let i = 0; i < sample.values.length; i++) if (sample.values[i] === value) weight += sample.weights[i]!;
  return weight;
}

function categoricalHistogram(reference: CategoricalProfile | undefined, current: CategoricalProfile | undefined): FeatureHistogram {
  const shareOf = (p: CategoricalProfile | undefined, category: string) => (p ? (p.counts().get(category) ?? 0) / p.count : 0);
  const categories = new Set<string>([...(reference?.counts().keys() ?? []), ...(current?.counts().keys() ?? [])]);
  const ranked = [...categories].sort((x, y) => shareOf(reference, y) + shareOf(current, y) - (shareOf(reference, x) + shareOf(current, x)) || (x < y ? -1 : x > y ? 1 : 0));
  const shown = ranked.slice(0, HISTOGRAM_CATEGORIES);
  const rest = ranked.length - shown.length;
  const pooled = (reference?.overflow ?? 0) > 0 || (current?.overflow ?? 0) > 0;
  const shares = (p: CategoricalProfile | undefined) => {
    const bars = shown.map((c) => shareOf(p, c));
    if (rest > 0 || pooled) bars.push(p ? 1 - bars.reduce((s, x) => s + x, 0) : 0);
    return bars.map((x) => Math.max(0, x));
  };
  const labels = rest > 0 || pooled ? [...shown, OTHER_LABEL] : shown;
  return { kind: 'categories', labels, reference: shares(reference), current: shares(current), otherCategories: rest, pooled };
}

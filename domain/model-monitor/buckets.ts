// The 10 equal-width buckets Model Monitor materialises beside each KLL sketch
// (`distribution.kll.buckets`), computed the way the container's own files show: bounds
// min + i·(max − min)/10, each bucket counting the weight in [lower, upper), the last one closed at max.
// Counted from a sketch (as the container does), or from exact weighted values where a writer has them
// (a profile that kept its values or distinct counts), so a window's buckets are exact wherever they can be.
import { KllSketch } from '../drift/kll';

export interface KllBucket {
  lower_bound: number;
  upper_bound: number;
  count: number;
}

export const MODEL_MONITOR_BUCKETS = 10;

/** Values with weights, parallel arrays (an exact value weighs 1; a sketch item at level h, 2^h). */
export interface WeightedValues {
  values: ArrayLike<number>;
  weights: ArrayLike<number>;
}

export function modelMonitorBuckets(source: KllSketch | WeightedValues, min: number, max: number, buckets = MODEL_MONITOR_BUCKETS): KllBucket[] {
  const bounds = Array.from({ length: buckets + 1 }, (_, i) => min + (i * (max - min)) / buckets);
  const counts = new Array<number>(buckets).fill(0);
  const add = (value: number, weight: number) => {
    if (value < min || value > max) return;
    let i = 0;
    while (i < buckets - 1 && value >= bounds[i + 1]!) i++;
    counts[i]! += weight;
  };
  if (source instanceof KllSketch) for (const { value, weight } of source.weightedValues()) add(value, weight);
  else for (let i = 0; i < source.values.length; i++) add(source.values[i]!, source.weights[i]!);
  return counts.map((count, i) => ({ lower_bound: bounds[i]!, upper_bound: bounds[i + 1]!, count }));
}

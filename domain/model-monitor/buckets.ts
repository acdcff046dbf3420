// The 10 equal-width buckets Model Monitor materialises beside each KLL sketch
// (`distribution.kll.buckets`), computed from the sketch the way the container's own files show:
// bounds min + i·(max − min)/10, each bucket counting the sketch's weight in [lower, upper), the last one
// closed at max. For a writer of statistics.json (the current window's), so its buckets read like the
// container's.
import type { KllSketch } from '../drift/kll';

export interface KllBucket {
  lower_bound: number;
  upper_bound: number;
  count: number;
}

export const MODEL_MONITOR_BUCKETS = 10;

export function modelMonitorBuckets(sketch: KllSketch, min: number, max: number, buckets = MODEL_MONITOR_BUCKETS): KllBucket[] {
  const bounds = Array.from({ length: buckets + 1 }, (_, i) => min + (i * (max - min)) / buckets);
  const counts = new Array<number>(buckets).fill(0);
  for (const { value, weight } of sketch.weightedValues()) {
    if (value < min || value > max) continue;
    let i = 0;
    while (i < buckets - 1 && value >= bounds[i + 1]!) i++;
    counts[i]! += weight;
  }
  return counts.map((count, i) => ({ lower_bound: bounds[i]!, upper_bound: bounds[i + 1]!, count }));
}

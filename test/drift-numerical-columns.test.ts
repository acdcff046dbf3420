// NumericalProfile.addAllPair(a, xs, b, ys) must leave a and b exactly as a.addAll(xs) and b.addAll(ys)
// do, and addAll exactly as add() one by one: moments, extremes, sum, integrality, distinct counts, kept
// values and sketches, with missing values, across the switch to the sketch, from any earlier state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PROFILE_LIMITS, NumericalProfile } from '../domain/drift/profile';
import { seededRandom } from '../domain/seeded-random';

function column(random: () => number, length: number, kind: number): Float64Array {
  return Float64Array.from({ length }, () => {
    const u = random();
    if (kind === 1 && u < 0.05) return u < 0.02 ? NaN : Infinity;
    if (kind === 2) return Math.floor(u * 7) - 3;
    return Math.round((u * 200 - 50) * 1e4) / 1e4;
  });
}

describe('numerical profiles: values a column at a time', () => {
  it('addAllPair equals addAll on each, and addAll equals add() one by one', () => {
    const random = seededRandom(9);
    for (const kinds of [[0, 0], [0, 1], [1, 2], [2, 2]]) {
      const pair = [new NumericalProfile(DEFAULT_PROFILE_LIMITS, 3), new NumericalProfile(DEFAULT_PROFILE_LIMITS, 4)];
      const apart = [new NumericalProfile(DEFAULT_PROFILE_LIMITS, 3), new NumericalProfile(DEFAULT_PROFILE_LIMITS, 4)];
      const single = [new NumericalProfile(DEFAULT_PROFILE_LIMITS, 3), new NumericalProfile(DEFAULT_PROFILE_LIMITS, 4)];
      // Past 10,000 values each, so kept values turn into a sketch part-way through a column.
      for (const length of [1, 1024, 777, 1024, 5000, 4000, 1024, 3]) {
        const xs = column(random, length, kinds[0]!);
        const ys = column(random, length, kinds[1]!);
        NumericalProfile.addAllPair(pair[0]!, xs, pair[1]!, ys, length);
        apart[0]!.addAll(xs, length);
        apart[1]!.addAll(ys, length);
        for (const x of xs) single[0]!.add(x);
        for (const y of ys) single[1]!.add(y);
        for (const i of [0, 1]) {
          assert.deepStrictEqual(pair[i]!.toState(), apart[i]!.toState(), `kinds ${kinds}, profile ${i}`);
          assert.deepStrictEqual(apart[i]!.toState(), single[i]!.toState(), `kinds ${kinds}, profile ${i}`);
        }
      }
      assert.ok(pair[0]!.sketch().count > 10_000);
    }
  });
});

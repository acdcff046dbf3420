// CategoricalProfile.addSmallInteger(v) must be add(String(v)), bit for bit: the same counts, the same
// order categories were met in (toState keeps it), the same overflow past the cap, alone, mixed with
// add() of the same and other categories, and across merges that prune the tally.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CategoricalProfile, DEFAULT_PROFILE_LIMITS, SMALL_INTEGER_CATEGORIES, type ProfileLimits } from '../domain/drift/profile';
import { seededRandom } from '../domain/seeded-random';

type Step = { small: number } | { text: string };

function steps(count: number, seed: number, distinct: number): Step[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (): Step => {
    const u = random();
    const value = Math.floor(random() ** 2 * distinct);
    if (u < 0.7) return { small: value % SMALL_INTEGER_CATEGORIES };
    // The same category by its text, now and then, and categories that are not small integers.
    if (u < 0.8) return { text: String(value % SMALL_INTEGER_CATEGORIES) };
    if (u < 0.9) return { text: `c${value}` };
    return { text: u < 0.95 ? '' : String(SMALL_INTEGER_CATEGORIES + value) };
  });
}

function fold(list: Step[], limits: ProfileLimits, fast: boolean): CategoricalProfile {
  const profile = new CategoricalProfile(limits);
  for (const step of list) {
    if ('small' in step) {
      if (fast) profile.addSmallInteger(step.small);
      else profile.add(String(step.small));
    } else profile.add(step.text);
  }
  return profile;
}

describe('categorical profiles: small integers added by number', () => {
  for (const [name, limits] of [
    ['below the cap', DEFAULT_PROFILE_LIMITS],
    ['past a cap of 12 categories', { ...DEFAULT_PROFILE_LIMITS, categories: 12 }],
  ] as const) {
    it(`${name}: the same profile as add(String(v))`, () => {
      for (const seed of [1, 2, 3]) {
        const list = steps(20_000, seed, 40);
        const fast = fold(list, limits, true);
        const plain = fold(list, limits, false);
        assert.deepEqual(fast.toState(), plain.toState());
        assert.deepEqual(fast.toJSON(), plain.toJSON());
        assert.deepEqual([...fast.counts()], [...plain.counts()]);
      }
    });

    it(`${name}: merges (which may prune the tally) and adding after a merge`, () => {
      const parts = [1, 2, 3, 4].map((seed) => steps(5_000, seed, 30 + seed * 10));
      const fast = fold(parts[0]!, limits, true);
      const plain = fold(parts[0]!, limits, false);
      for (const part of parts.slice(1)) {
        fast.merge(fold(part, limits, true));
        plain.merge(fold(part, limits, false));
        assert.deepEqual(fast.toState(), plain.toState());
        // The merged profile keeps counting: categories pruned by the merge arrive again.
        for (const step of part.slice(0, 500)) {
          if ('small' in step) {
            fast.addSmallInteger(step.small);
            plain.add(String(step.small));
          } else {
            fast.add(step.text);
            plain.add(step.text);
          }
        }
        assert.deepEqual(fast.toState(), plain.toState());
      }
      assert.ok(plain.count > 0);
    });
  }

  it('counts() and toJSON() in the middle of a stream see every count so far', () => {
    const profile = new CategoricalProfile();
    for (let i = 0; i < 10; i++) profile.addSmallInteger(3);
    assert.equal(profile.counts().get('3'), 10);
    for (let i = 0; i < 5; i++) profile.addSmallInteger(3);
    profile.add('3');
    assert.deepEqual(profile.toJSON().categories, [['3', 16]]);
    assert.equal(profile.count, 16);
  });
});

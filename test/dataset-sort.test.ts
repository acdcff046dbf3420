// The merge puts each partition's serialized lines in placement-hash order with a bucket sort; it must
// give exactly lines.sort()'s order, since the version's bytes are written in that order, and keep
// each hash's lines in one bucket, since the merge resolves a bucket at a time.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { PlacementOrder } from '../activities/dataset';

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('PlacementOrder', () => {
  it('orders lines as lines.sort() does: uniform hashes, repeated keys, one key many times', () => {
    const cases: string[][] = [];
    // Uniform hashes, a third of them seen twice or more (the merge's duplicates).
    cases.push(Array.from({ length: 50_000 }, (_, i) => `${hex(String(i % 35_000)).slice(0, 32)}\t\t${i % 2}\t1,2\t\t${i}\t\t0:${i}`));
    // Record keys: 64-hex hashes, keys that need escaping.
    cases.push(Array.from({ length: 5_000 }, (_, i) => `${hex(`split|k${i % 4_000}`)}\tk${i % 4_000}\\t\t0\t3\t\t${i}\ttrain\t1:${i}`));
    // One key seen 10,000 times, beside the extremes of the hash range.
    cases.push([...Array.from({ length: 10_000 }, (_, i) => `${'ab'.repeat(16)}\t\t${i % 3}\t1\t\t${i}\t\t0:${i}`), `${'0'.repeat(32)}\t\t0\t1\t\t0\t\t0:1`, `${'f'.repeat(32)}\t\t0\t1\t\t0\t\t0:2`]);
    // Fewer lines than the bucket sort bothers with.
    cases.push([`${'c'.repeat(32)}\tx`, `${'a'.repeat(32)}\ty`, `${'b'.repeat(32)}\tz`]);
    // One order for every case, as the merge keeps one for every partition: its arrays are reused.
    const order = new PlacementOrder();
    for (const lines of cases) {
      const expected = [...lines].sort();
      const buckets = [...order.buckets(Buffer.from([...lines].reverse().map((line) => `${line}\n`).join('')))];
      assert.deepEqual(buckets.flat(), expected);
      const bucketOfHash = new Map<string, number>();
      for (const [b, bucket] of buckets.entries()) {
        for (const line of bucket) assert.equal(bucketOfHash.get(line.slice(0, line.indexOf('\t'))) ?? b, b, 'a hash in two buckets');
        for (const line of bucket) bucketOfHash.set(line.slice(0, line.indexOf('\t')), b);
      }
    }
  });
});

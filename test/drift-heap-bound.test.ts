// The reading thread's heap bound (activities/drift-fold.ts HeapBound): a full collection once the heap
// outside the young generation has grown by the bound since the last one, measured on V8's own heap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { fullCollection, HeapBound, heapOutsideYoungGeneration } from '../activities/drift-fold';

const MiB = 1024 ** 2;

/**
 * An array of 8 MB of elements, moved out of the young generation as anything alive at a young
 * collection is (gc({ type: 'minor' }) is V8's young collection under --expose-gc).
 */
function oldArray(): number[] {
  const array = Array.from({ length: 1_000_000 }, (_, i) => i + 0.5);
  (fullCollection() as (options: { type: 'minor' }) => void)({ type: 'minor' });
  return array;
}

test('fullCollection frees garbage outside the young generation, and leaves no gc() in later contexts', () => {
  const collect = fullCollection();
  assert.equal(typeof collect, 'function');
  assert.equal(fullCollection(), collect, 'made once');
  assert.equal(runInNewContext('typeof gc'), 'undefined', 'the flag is set only while its own context is made');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');

  collect();
  const before = heapOutsideYoungGeneration();
  let garbage: number[] | null = oldArray();
  const grown = heapOutsideYoungGeneration();
  assert.ok(grown - before >= 7 * MiB, `the array is outside the young generation (grew ${grown - before} bytes)`);
  assert.equal(garbage.length, 1_000_000);
  garbage = null;
  collect();
  assert.ok(heapOutsideYoungGeneration() - before < 1 * MiB, 'collected');
});

test('HeapBound collects once the heap has grown by the bound, and not before', () => {
  fullCollection()();
  const bound = new HeapBound(4 * MiB, fullCollection(), 0);
  assert.equal(bound.afterObject(), false, 'nothing grew');
  let garbage: number[] | null = oldArray();
  assert.equal(garbage.length, 1_000_000);
  garbage = null;
  const grown = heapOutsideYoungGeneration();
  assert.equal(bound.afterObject(), true);
  assert.equal(bound.collections, 1);
  assert.ok(grown - heapOutsideYoungGeneration() >= 7 * MiB, 'the garbage is gone');
  assert.equal(bound.afterObject(), false, 'measured from what the collection left');

  // A bound above the growth does nothing.
  const loose = new HeapBound(64 * MiB, fullCollection(), 0);
  let more: number[] | null = oldArray();
  assert.equal(more.length, 1_000_000);
  more = null;
  assert.equal(loose.afterObject(), false);
  assert.equal(loose.collections, 0);
});

test('HeapBound measures from what is alive: heap that stays is collected once, not after every object', () => {
  fullCollection()();
  const bound = new HeapBound(4 * MiB, fullCollection(), 0);
  const kept = oldArray();
  assert.equal(bound.afterObject(), true, 'grew past the bound: collected, though nothing was freed');
  for (let i = 0; i < 5; i++) assert.equal(bound.afterObject(), false);
  assert.equal(bound.collections, 1);
  assert.equal(kept.length, 1_000_000);
});

test('HeapBound waits for growth by a share of what is alive when that is more than the bound', () => {
  const collect = fullCollection();
  const alive = [oldArray(), oldArray(), oldArray(), oldArray()];
  collect();
  // Some 32 MB alive: half of that is more than the 1 MiB bound.
  const bound = new HeapBound(1 * MiB, collect, 0.5);
  let garbage: number[] | null = oldArray();
  assert.equal(garbage.length, 1_000_000);
  garbage = null;
  assert.equal(bound.afterObject(), false, '8 MB of garbage is less than half of what is alive');
  let more: number[][] | null = [oldArray(), oldArray()];
  assert.equal(more.length, 2);
  more = null;
  assert.equal(bound.afterObject(), true, '24 MB is more than half');
  assert.equal(bound.collections, 1);
  assert.equal(alive.length, 4);
});

test('HeapBound calls the collection it is given', () => {
  let calls = 0;
  const bound = new HeapBound(0, () => calls++, 0);
  assert.equal(bound.afterObject(), true);
  assert.equal(calls, 1);
});

test('threads taking gc() at the same moment all get it (the flag belongs to the process)', async () => {
  // Each thread takes it as fold threads do when they start together, then proves it frees memory.
  const source = `
    require(${JSON.stringify(require.resolve('tsx/cjs'))});
    const { parentPort } = require('node:worker_threads');
    const { fullCollection, heapOutsideYoungGeneration } = require(${JSON.stringify(require.resolve('../activities/drift-fold'))});
    const collect = fullCollection();
    collect();
    const before = heapOutsideYoungGeneration();
    let garbage = Array.from({ length: 1_000_000 }, (_, i) => i + 0.5);
    collect({ type: 'minor' });
    const grown = heapOutsideYoungGeneration() - before;
    garbage = garbage.length > 0 ? null : garbage;
    collect();
    parentPort.postMessage({ grown, left: heapOutsideYoungGeneration() - before });
  `;
  const results = await Promise.all(
    Array.from({ length: 6 }, () => {
      const worker = new Worker(source, { eval: true });
      return new Promise<{ grown: number; left: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }).finally(() => worker.terminate());
    }),
  );
  for (const [i, r] of results.entries()) {
    assert.ok(r.grown >= 7 * MiB, `thread ${i}: the array reached the old generation (${r.grown} bytes)`);
    assert.ok(r.left < 1 * MiB, `thread ${i}: its gc() collected it (${r.left} bytes left)`);
  }
  assert.equal(runInNewContext('typeof gc'), 'undefined');
});

// With `threads: 'auto'` on a machine of two cores or more, a large window is folded on this thread and
// its objects' folds are merged on a merge thread (the window's sketches). The profile must be the one
// this thread alone makes, bit for bit, whatever the read concurrency (which also bounds how many folds
// wait for the merge thread), for capture windows and training splits alike.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { AUTO_OWN_THREAD_BYTES, AUTO_THREADS_ABOVE_BYTES, profileCaptureObjects, profileDatasetObjects, type ObjectRef, type ObjectSource } from '../activities/drift';
import type { ProfiledFeature } from '../domain/drift/profile';
import { seededRandom } from '../domain/seeded-random';

const features: ProfiledFeature[] = [
  { name: 'a', type: 'numerical' },
  { name: 'b', type: 'numerical' },
  { name: 'c', type: 'numerical' },
  { name: 'kind', type: 'categorical' },
];
const window = { from: new Date('2026-11-24T10:00:00Z'), to: new Date('2026-11-24T11:59:59Z') };

function source(texts: string[]): { source: ObjectSource; objects: ObjectRef[] } {
  const bytes = texts.map((t) => Buffer.from(t));
  return {
    source: {
      async open(uri) {
        const data = bytes[Number(uri.slice('mem://'.length))]!;
        return (async function* () {
          for (let at = 0; at < data.length; at += 50_000) yield data.subarray(at, at + 50_000);
        })();
      },
    },
    // Listed as large, so 'auto' takes them for a large window.
    objects: bytes.map((_, i) => ({ uri: `mem://${i}`, size: AUTO_THREADS_ABOVE_BYTES })),
  };
}

function captureTexts(seed: number): string[] {
  const random = seededRandom(seed);
  const row = () => [(random() * 100).toFixed(3), Math.floor(random() * 40), (random() * 2 - 1).toFixed(4), Math.floor(random() * 6)].join(',');
  return [9_000, 12_000, 300, 10_000, 7_500, 11_000, 1].map((n) =>
    Array.from(
      { length: n },
      (_, i) =>
        `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${row()}","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT","data":"0.1","encoding":"CSV"}},"eventMetadata":{"eventId":"e${i}","inferenceTime":"2026-11-24T1${i % 2}:00:00Z"},"eventVersion":"0"}`,
    ).join('\n'),
  );
}

describe('merging on a merge thread', () => {
  it('runs here: this machine has the cores for it', () => {
    assert.ok(availableParallelism() >= 2, 'the merge thread needs two cores; this test would not exercise it');
  });

  for (const concurrency of [1, 3, 8]) {
    it(`capture window, ${concurrency} read at once: the profile of one thread`, async () => {
      const { source: src, objects } = source(captureTexts(concurrency));
      const alone = await profileCaptureObjects(src, objects, { features, threads: 1, concurrency, window });
      const merged = await profileCaptureObjects(src, objects, { features, threads: 'auto', concurrency, window });
      assert.deepStrictEqual(merged.stats, alone.stats);
      assert.deepStrictEqual(merged.profile.toState(), alone.profile.toState());
      assert.equal(merged.stats.rows, 49_801);
    });
  }

  it('training split: the profile of one thread', async () => {
    const random = seededRandom(4);
    const texts = [15_000, 4_000, 11_000].map((n) => Array.from({ length: n }, () => [1, (random() * 9).toFixed(2), Math.floor(random() * 30), random().toFixed(5), Math.floor(random() * 3)].join(',')).join('\n'));
    const { source: src, objects } = source(texts);
    const alone = await profileDatasetObjects(src, objects, { features, threads: 1, concurrency: 2 });
    const merged = await profileDatasetObjects(src, objects, { features, threads: 'auto', concurrency: 2 });
    assert.deepStrictEqual(merged.stats, alone.stats);
    assert.deepStrictEqual(merged.profile.toState(), alone.profile.toState());
  });
});

describe('one large object', () => {
  // One object cannot be shared out, so 'auto' folds it on a thread of its own (the activity's thread is
  // then free for the other profile): the same profile, from one thread started for it.
  it("'auto' folds it on a thread of its own, with the profile this thread makes", async () => {
    const random = seededRandom(11);
    const text = Array.from({ length: 20_000 }, () => [0, (random() * 9).toFixed(2), Math.floor(random() * 30), random().toFixed(5), Math.floor(random() * 3)].join(',')).join('\n');
    const { source: src } = source([text]);
    const objects = [{ uri: 'mem://0', size: AUTO_OWN_THREAD_BYTES }];
    const started: unknown[] = [];
    const onWorker = (worker: unknown) => started.push(worker);
    process.on('worker', onWorker);
    try {
      const alone = await profileDatasetObjects(src, objects, { features, threads: 1 });
      assert.equal(started.length, 0, 'threads: 1 starts no thread');
      const threaded = await profileDatasetObjects(src, objects, { features, threads: 'auto' });
      assert.equal(started.length, 1, "'auto' starts one fold thread for the object");
      assert.deepStrictEqual(threaded.stats, alone.stats);
      assert.deepStrictEqual(threaded.profile.toState(), alone.profile.toState());
      assert.equal(threaded.stats.rows, 20_000);
      // Below the size, it stays here.
      await profileDatasetObjects(src, [{ uri: 'mem://0', size: AUTO_OWN_THREAD_BYTES - 1 }], { features, threads: 'auto' });
      assert.equal(started.length, 1);
    } finally {
      process.off('worker', onWorker);
    }
  });
});

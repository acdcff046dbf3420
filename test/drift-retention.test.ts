// What a capture fold keeps alive, measured after forced collections. A fold lives as long as its object
// is read, long enough for the garbage collector to move what it holds out of the young generation; once
// merged it is garbage that only a full collection frees, so whatever a fold holds adds up over the
// objects of a window between two full collections.
// - The text it reads: lines arrive as views into chunks of many lines (LineSplitter), and holding on to
//   one (the scanner's last text, or an inference time cut out of it, which V8 keeps as a view of the
//   whole chunk) kept one chunk per object in flight.
// - Memory outside the heap: a fold whose values wait in columns for the merge thread (handOver) gets no
//   values of its own, so it needs no room for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { detachedCopy } from '../domain/detached-text';
import { CaptureWindowProfile, ColumnBuffers, columnBuffersOf } from '../domain/drift/profiling';
import type { CategoricalProfile, ProfiledFeature } from '../domain/drift/profile';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const features: ProfiledFeature[] = [
  { name: 'amount', type: 'numerical' },
  { name: 'plan', type: 'categorical' },
];

function captureLine(i: number): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: `${(i * 0.37).toFixed(4)},${i % 3}`, encoding: 'CSV' },
      endpointOutput: { observedContentType: 'text/csv; charset=utf-8', mode: 'OUTPUT', data: '0.5', encoding: 'CSV' },
    },
    eventMetadata: { eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, inferenceTime: '2026-11-24T10:15:00Z' },
    eventVersion: '0',
  });
}

const LINES = 50_000;

/** Folds one chunk of LINES lines, each read in place as LineSplitter hands them over. */
function foldChunk(fold: CaptureWindowProfile): number {
  const chunk = Array.from({ length: LINES }, (_, i) => captureLine(i)).join('\n') + '\n';
  let start = 0;
  let line = 0;
  for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
    fold.addLineAt(chunk, start, end, 'chunk', ++line);
    start = end + 1;
  }
  return chunk.length;
}

async function heapAfterCollection(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    collect();
  }
  return process.memoryUsage().heapUsed;
}

test('a capture fold keeps none of the text it has read alive', async () => {
  const fold = new CaptureWindowProfile({ features, seed: 1 }, { from: Date.parse('2026-11-24T10:00:00Z'), to: Date.parse('2026-11-24T11:00:00Z') });
  // Warm up first, so that code and caches made by the first lines are in the baseline.
  const warmUp = new CaptureWindowProfile({ features, seed: 2 }, null);
  warmUp.addLine(captureLine(0), 'warm-up', 1);
  const before = await heapAfterCollection();
  const chunkLength = foldChunk(fold);
  assert.equal(fold.stats.rows, LINES);
  assert.equal(fold.stats.malformedRecords, 0);
  // V8 keeps the subject of the last regular expression run (RegExp.lastMatch and the like): one string
  // per context, whoever ran it. A match on something else lets the chunk go from there.
  assert.ok(/^\d+$/.test(String(LINES)));
  const after = await heapAfterCollection();
  assert.ok(chunkLength > 10 * 1024 ** 2, `the chunk is large enough to see (${chunkLength} characters)`);
  // What the fold itself holds (its kept values, a few hundred KiB) is allowed; the chunk is not.
  assert.ok(after - before < chunkLength / 4, `the heap grew by ${after - before} bytes over a ${chunkLength}-character chunk that was let go`);
  assert.equal(fold.profile.feature('amount')!.count, LINES, 'the fold is still there and whole');
});

test('a detached copy has the same characters, whatever its length and code units', () => {
  let seed = 7;
  const unit = () => (seed = (seed * 48_271) % 2_147_483_647) % 0x10000;
  for (const length of [0, 1, 13, 4_095, 4_096, 4_097, 10_000]) {
    // Any code units, lone surrogates included.
    const text = String.fromCharCode(...Array.from({ length }, unit));
    assert.equal(detachedCopy(text), text, `length ${length}`);
    assert.equal(detachedCopy(`xx${text}yy`.slice(2, 2 + length)), text, `a slice of length ${length}`);
  }
});

test('categories read in place are kept as copies, not as views of the chunk they were read from', async () => {
  const fold = new CaptureWindowProfile({ features, seed: 4 }, null);
  const withPlan = (i: number) => captureLine(i).replace(/,(\d)","encoding":"CSV"\}/, ',enterprise-annual-plan-$1","encoding":"CSV"}');
  fold.addLine(withPlan(0), 'warm-up', 1);
  const before = await heapAfterCollection();
  const chunkLength = ((chunk: string) => {
    let start = 0;
    let line = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      fold.addLineAt(chunk, start, end, 'chunk', ++line);
      start = end + 1;
    }
    return chunk.length;
  })(Array.from({ length: LINES }, (_, i) => withPlan(i + 1)).join('\n') + '\n');
  assert.deepEqual([...(fold.profile.feature('plan') as CategoricalProfile).counts().keys()].sort(), ['enterprise-annual-plan-0', 'enterprise-annual-plan-1', 'enterprise-annual-plan-2']);
  assert.equal(fold.stats.rows, LINES + 1);
  assert.ok(/^\d+$/.test(String(LINES))); // the last regular-expression subject, as above
  const after = await heapAfterCollection();
  assert.ok(after - before < chunkLength / 4, `the heap grew by ${after - before} bytes over a ${chunkLength}-character chunk that was let go`);
});

test('a fold handed to the merge thread holds almost no memory outside the heap', async () => {
  const many: ProfiledFeature[] = [
    ...Array.from({ length: 6 }, (_, i) => ({ name: `x${i}`, type: 'numerical' as const })),
    { name: 'plan', type: 'categorical' },
    { name: 'region', type: 'categorical' },
  ];
  const line = (i: number) =>
    captureLine(i).replace(/"data":"[^"]*","encoding":"CSV"\}/, `"data":"${[1, 2, 3, 4, 5, 6].map((k) => (i * k * 0.01).toFixed(2)).join(',')},${i % 3},${i % 7}","encoding":"CSV"}`);
  const buffers = new ColumnBuffers();
  const folds: CaptureWindowProfile[] = [];
  const states: unknown[] = [];
  const fold = (seed: number) => {
    const f = new CaptureWindowProfile({ features: many, seed, handOverBuffers: buffers }, null);
    for (let i = 0; i < 50; i++) f.addLine(line(i), 'object', i + 1);
    const state = f.handOver([]);
    // As the merge thread does once it has added the values: the columns go back to be filled again.
    buffers.give(columnBuffersOf(state));
    folds.push(f);
    states.push(state);
  };
  fold(0);
  await heapAfterCollection();
  const before = process.memoryUsage().arrayBuffers;
  const count = 200;
  for (let i = 1; i <= count; i++) fold(i);
  await heapAfterCollection();
  const perFold = (process.memoryUsage().arrayBuffers - before) / count;
  assert.equal(folds.length, count + 1);
  assert.equal(folds[count]!.stats.rows, 50);
  assert.equal(folds[count]!.stats.malformedRecords, 0);
  // The line scanner's two small arrays and the categorical counts' room are about 2 KB; room for kept
  // values (512 bytes per numerical feature) or a count per possible small integer (8 KiB per categorical
  // feature) would be several times that.
  assert.ok(perFold < 4096, `${perFold} bytes outside the heap per fold`);
  assert.equal(states.length, count + 1);
});

// A capture fold must not keep the text it reads alive. Lines arrive as views into chunks of many lines
// (LineSplitter), and a fold lives as long as its object is read: holding on to a chunk (the scanner's
// last text, or an inference time cut out of it, which V8 keeps as a view of the whole chunk) would keep
// one chunk per object in flight, which the garbage collector then promotes and frees only in its full
// collections. Checked by folding a chunk of some 16 MB and measuring the heap after a forced collection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CaptureWindowProfile } from '../domain/drift/profiling';
import type { ProfiledFeature } from '../domain/drift/profile';

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

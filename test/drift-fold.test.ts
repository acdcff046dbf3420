// Folding capture objects into profiles, three ways that must agree bit for bit: the reference (every line
// through parseCaptureLine, captureFieldRows, numericalValue and categoricalValue, as profiling did
// before it read lines in place), the fold as it runs in one thread (the usual line read in place), and
// the same on fold threads. Profiles are compared as DatasetProfile.toState gives them: every kept value,
// sketch item, count and moment, and the order categories and distinct values were met in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldObjects, LineSplitter } from '../activities/drift-fold';
import { profileCaptureObjects, profileDatasetObjects, type ObjectRef, type ObjectSource } from '../activities/drift';
import { CaptureFormatError, captureFieldRows, categoricalValue, numericalValue, parseCaptureLine } from '../domain/capture';
import { CaptureWindowProfile, DatasetSplitProfile, type CaptureWindowStats, type DatasetSplitStats } from '../domain/drift/profiling';
import { DatasetProfile, DEFAULT_PROFILE_LIMITS, mixSeed, type ProfiledFeature } from '../domain/drift/profile';
import { seededRandom } from '../domain/seeded-random';

const features: ProfiledFeature[] = [
  { name: 'amount', type: 'numerical' },
  { name: 'age', type: 'numerical' },
  { name: 'score', type: 'numerical' },
  { name: 'rating', type: 'numerical' },
  { name: 'plan', type: 'categorical' },
  { name: 'region', type: 'categorical' },
];
const window = { from: Date.parse('2026-11-24T10:00:00Z'), to: Date.parse('2026-11-24T11:59:59Z') };

/** What profiling did before lines were read in place: the reference every other path must equal. */
class ReferenceCaptureFold {
  readonly profile: DatasetProfile;
  readonly stats: CaptureWindowStats = { objects: 0, bytes: 0, records: 0, outsideWindow: 0, rows: 0, malformedRecords: 0, malformedExamples: [] };

  constructor(seed: number) {
    this.profile = new DatasetProfile(features, DEFAULT_PROFILE_LIMITS, mixSeed(seed, 0x636170));
  }

  addLine(text: string, source: string, line: number): void {
    if (text.trim() === '') return;
    this.stats.records++;
    try {
      const record = parseCaptureLine(text);
      const at = Date.parse(record.inferenceTime);
      if (at < window.from || at > window.to) {
        this.stats.outsideWindow++;
        return;
      }
      const { rows } = captureFieldRows(record, features.length);
      for (const row of rows) {
        features.forEach((f, i) => {
          const profile = this.profile.feature(f.name)!;
          if (profile.kind === 'numerical') profile.add(numericalValue(row[i]));
          else profile.add(categoricalValue(row[i]));
        });
      }
      this.stats.rows += rows.length;
      this.profile.rows += rows.length;
    } catch (err) {
      this.stats.malformedRecords++;
      if (this.stats.malformedExamples.length < 5) this.stats.malformedExamples.push(`${source}:${line}: ${err instanceof CaptureFormatError ? err.message : String(err)}`);
    }
  }

  merge(other: ReferenceCaptureFold): void {
    this.profile.merge(other.profile);
    for (const key of ['objects', 'bytes', 'records', 'outsideWindow', 'rows', 'malformedRecords'] as const) this.stats[key] += other.stats[key];
    for (const e of other.stats.malformedExamples) if (this.stats.malformedExamples.length < 5) this.stats.malformedExamples.push(e);
  }
}

/** Mostly Model Monitor's usual lines, and every kind the fast path leaves to parseCaptureLine. */
function captureCorpus(records: number, seed: number): string {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const number = () => pick([() => (random() * 1000 - 300).toFixed(4), () => String(Math.floor(random() * 50)), () => (random() * 3).toFixed(1), () => pick(['', ' 7', '"2.5"', 'n/a', '-0', '1e2', '.5'])])();
  const category = () => pick([() => String(Math.floor(random() * 12)), () => pick(['north', ' south ', '"east"', '', '1.0', '007', 'zone-é'])])();
  const row = () => [number(), number(), random() < 0.5 ? (random() * 10).toFixed(2) : String(Math.floor(random() * 4)), number(), category(), category()].join(',');
  const line = (data: string, options: { encoding?: string; contentType?: string; time?: string } = {}) =>
    JSON.stringify({
      captureData: {
        endpointInput: { observedContentType: options.contentType ?? 'text/csv', mode: 'INPUT', data, encoding: options.encoding ?? 'CSV' },
        endpointOutput: { observedContentType: 'text/csv; charset=utf-8', mode: 'OUTPUT', data: (random() * 1).toFixed(4), encoding: 'CSV' },
      },
      eventMetadata: { eventId: `e-${Math.floor(random() * 1e9)}`, inferenceTime: options.time ?? pick(['2026-11-24T10:00:00Z', '2026-11-24T10:03:00Z', '2026-11-24T11:59:59Z']) },
      eventVersion: '0',
    });
  const lines: string[] = [];
  for (let n = 0; n < records; n++) {
    const kind = random();
    if (kind < 0.9) lines.push(line(row()));
    else if (kind < 0.91) lines.push(line(`${row()}\n${row()}`));
    else if (kind < 0.92) lines.push(line(JSON.stringify({ instances: [{ features: row().split(',') }] }), { encoding: 'JSON', contentType: 'application/json' }));
    else if (kind < 0.93) lines.push(line(Buffer.from(row()).toString('base64'), { encoding: 'BASE64' }));
    else if (kind < 0.94) lines.push(line(row(), { time: pick(['2026-11-24T09:59:59Z', '2026-11-24T12:00:00Z', '2026-11-24T10:00:00\u005a']) }));
    else if (kind < 0.95) lines.push(line(row().split(',').slice(1).join(',')));
    else if (kind < 0.96) lines.push(line(row(), { contentType: pick(['text/csv; header=absent', 'application/octet-stream', 'TEXT/CSV']) }));
    else if (kind < 0.97) lines.push(line(row()).slice(0, Math.floor(random() * 200)));
    else if (kind < 0.98) lines.push(pick(['', '   ', 'not json', '{}', `${line(row())} trailing`]));
    else if (kind < 0.99) lines.push(line(row()).replace('{"captureData"', pick(['{ "captureData" ', '\t{"captureData"'])));
    else lines.push(line(row(), { time: 'yesterday' }));
  }
  return lines.join(pick(['\n', '\r\n']));
}

/** Objects held in memory, read in chunks of uneven size (lines and characters cut across chunks). */
function memorySource(texts: string[], seed: number): { source: ObjectSource; objects: ObjectRef[] } {
  const bytes = texts.map((t) => new TextEncoder().encode(t));
  const source: ObjectSource = {
    async open(uri) {
      const data = bytes[Number(uri.slice('mem://'.length))]!;
      const random = seededRandom(seed + data.length);
      return (async function* () {
        for (let at = 0; at < data.length; ) {
          const size = 1 + Math.floor(random() * 70_000);
          yield data.subarray(at, at + size);
          at += size;
        }
      })();
    },
  };
  return { source, objects: bytes.map((b, i) => ({ uri: `mem://${i}`, size: b.length })) };
}

function referenceFold(texts: string[]): ReferenceCaptureFold {
  const total = new ReferenceCaptureFold(0);
  texts.forEach((text, index) => {
    const fold = new ReferenceCaptureFold(index + 1);
    const splitter = new LineSplitter((line, start, end, number) => fold.addLine(line.slice(start, end), `mem://${index}`, number));
    splitter.push(new TextEncoder().encode(text));
    splitter.end();
    fold.stats.objects = 1;
    fold.stats.bytes = splitter.bytes;
    total.merge(fold);
  });
  return total;
}

describe('capture folds: in place, on threads, and the reference agree bit for bit', () => {
  // Objects above and below the 10,000 values a profile keeps exactly, so per-object sketches merge too.
  const texts = [12_500, 3_000, 10_000, 400, 11_000, 2_500].map((n, i) => captureCorpus(n, 100 + i));
  const reference = referenceFold(texts);

  it('the fold in this thread equals the reference', async () => {
    const { source, objects } = memorySource(texts, 1);
    const fold = await profileCaptureObjects(source, objects, { features, threads: 1, window: { from: new Date(window.from), to: new Date(window.to) } });
    assert.deepStrictEqual(fold.stats, reference.stats);
    assert.deepStrictEqual(fold.profile.toState(), reference.profile.toState());
    assert.deepStrictEqual(fold.toJSON().profile, reference.profile.toJSON());
    // The corpus has every kind of line: read in place, through parseCaptureLine, malformed, outside the window.
    assert.ok(reference.stats.malformedRecords > 500 && reference.stats.outsideWindow > 200 && reference.stats.rows > 35_000, JSON.stringify(reference.stats));
  });

  for (const threads of [2, 3]) {
    it(`on ${threads} fold threads, the same profile`, async () => {
      const { source, objects } = memorySource(texts, threads);
      const fold = await profileCaptureObjects(source, objects, { features, threads, concurrency: 3, window: { from: new Date(window.from), to: new Date(window.to) } });
      assert.deepStrictEqual(fold.stats, reference.stats);
      assert.deepStrictEqual(fold.profile.toState(), reference.profile.toState());
    });
  }

  it("'auto' threads (every core but one past AUTO_THREADS_ABOVE_BYTES): the same profile", async () => {
    const { source, objects } = memorySource(texts, 9);
    // Sizes as listed (the bytes are smaller): large enough to start threads.
    const large = objects.map((o) => ({ ...o, size: 64 * 1024 ** 2 }));
    const fold = await profileCaptureObjects(source, large, { features, window: { from: new Date(window.from), to: new Date(window.to) } });
    assert.deepStrictEqual(fold.stats, reference.stats);
    assert.deepStrictEqual(fold.profile.toState(), reference.profile.toState());
  });
});

describe('training-split folds: fields read in place equal split and convert', () => {
  it('on varied rows and rows of the wrong width', async () => {
    const random = seededRandom(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const field = () => pick([() => (random() * 100 - 50).toFixed(3), () => String(Math.floor(random() * 9)), () => pick(['', ' 3', '"4"', 'x', '-0', '1e3', 'é'])])();
    const texts = [0, 1].map(() =>
      Array.from({ length: 12_000 }, () => {
        const width = random() < 0.98 ? features.length + 1 : pick([features.length, features.length + 2]);
        return Array.from({ length: width }, field).join(',');
      }).join('\n'),
    );
    const { source, objects } = memorySource(texts, 3);
    const fold = await profileDatasetObjects(source, objects, { features });

    const expected = new DatasetProfile(features, DEFAULT_PROFILE_LIMITS, mixSeed(0, 0x626173));
    const stats: DatasetSplitStats = { objects: 2, bytes: objects.reduce((n, o) => n + o.size, 0), rows: 0, unreadableRows: 0, unreadableExamples: [] };
    texts.forEach((text, index) => {
      const part = new DatasetProfile(features, DEFAULT_PROFILE_LIMITS, mixSeed(index + 1, 0x626173));
      text.split('\n').forEach((line, n) => {
        const fields = line.split(',');
        if (fields.length !== features.length + 1) {
          stats.unreadableRows++;
          if (stats.unreadableExamples.length < 5) stats.unreadableExamples.push(`mem://${index}:${n + 1}: has ${fields.length} fields, expected the label and ${features.length} features`);
          return;
        }
        features.forEach((f, i) => {
          const p = part.feature(f.name)!;
          if (p.kind === 'numerical') p.add(numericalValue(fields[i + 1]));
          else p.add(categoricalValue(fields[i + 1]));
        });
        part.rows++;
        stats.rows++;
      });
      expected.merge(part);
    });
    assert.deepStrictEqual(fold.stats, stats);
    assert.deepStrictEqual(fold.profile.toState(), expected.toState());
  });
});

describe('fold plumbing', () => {
  it('a fold restored from its state merges as the fold itself does', () => {
    const text = captureCorpus(11_000, 5);
    const [a, b] = [1, 2].map(() => new CaptureWindowProfile({ features, seed: 3 }, window));
    for (const fold of [a!, b!]) text.split('\n').forEach((line, n) => fold.addLine(line, 'x', n + 1));
    const copy = new CaptureWindowProfile({ features, seed: 3 }, window, structuredClone(b!.toState()));
    const [left, right] = [1, 2].map(() => new CaptureWindowProfile({ features, seed: 9 }, window));
    left!.merge(b!);
    right!.merge(copy);
    assert.deepStrictEqual(right!.profile.toState(), left!.profile.toState());
    assert.deepStrictEqual(right!.stats, left!.stats);
  });

  it('foldObjects with no objects gives an empty fold', async () => {
    const fold = await foldObjects<DatasetSplitProfile>({ open: async () => (async function* () {})() }, [], { features }, { phase: 'baseline', features, window: null });
    assert.equal(fold.stats.rows, 0);
  });

  it('LineSplitter keeps a byte-order mark that is not at the start, and decodes bytes that are not ASCII after ASCII ones', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text, start, end) => lines.push(text.slice(start, end)));
    splitter.push(new TextEncoder().encode('ab\n'));
    splitter.push(new Uint8Array([0xef, 0xbb, 0xbf, 0x63, 0xc3]));
    splitter.push(new Uint8Array([0xa9, 0x0a, 0xff, 0x0a]));
    splitter.end();
    assert.deepEqual(lines, ['ab', '\ufeffcé', '\ufffd']);
    const first: string[] = [];
    const atStart = new LineSplitter((text, start, end) => first.push(text.slice(start, end)));
    atStart.push(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]));
    atStart.end();
    assert.deepEqual(first, ['a']);
  });
});

// The merge reads its inputs ahead of the parser (ReadAhead in activities/dataset.ts): an input that
// fails part-way must fail the merge with its error, not leave it waiting, and the writers it opened
// must be aborted. What the parser is handed does not depend on how the bytes arrived, and a spilled
// index, its partitions read back in slices, writes what the index held in memory would.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { mergeVersionObjects, type MergePlan, type ObjectIo } from '../activities/dataset';
import { parsePipelineConfig, type DatasetSchema } from '../domain/config';

const schema: DatasetSchema = { label: { name: 'y', classes: 2 }, features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] } as DatasetSchema;

function plan(sourceUris = ['s3://bkt/new/a.csv', 's3://bkt/new/b.csv', 's3://bkt/new/c.csv'], memoryBytes?: number): MergePlan {
  const config = parsePipelineConfig({
    model: 'read-ahead',
    roleArn: 'arn:aws:iam::000000000000:role/SageMakerRetraining',
    predictorType: 'binary_classifier',
    endpoint: { name: 'read-ahead', captureS3Uri: 's3://bkt/capture' },
    dataset: { rootS3Uri: 's3://bkt/versions', newDataS3Uri: 's3://bkt/new', schema },
    training: { image: 'x', outputS3Uri: 's3://bkt/training' },
    evaluation: { image: 'x', outputS3Uri: 's3://bkt/evaluation', metric: 'accuracy' },
    reportsS3Uri: 's3://bkt/reports',
  });
  const d = config.dataset;
  return {
    model: 'read-ahead',
    versionId: 'dv-test',
    versionUri: 's3://bkt/versions/read-ahead/dv-test',
    schema,
    input: d.input,
    shares: { validationShare: 0.1, holdoutShare: 0.2 },
    dedupKey: 'content',
    conflictPolicy: d.conflictPolicy,
    retention: d.retention,
    channels: d.channels,
    memoryBytes: memoryBytes ?? d.merge.memoryBytes,
    parent: null,
    sources: sourceUris.map((uri) => ({ uri, etag: 'e', size: 100, lastModified: null })),
  };
}

describe('reading ahead', () => {
  it('fails the merge with the error of an input that breaks part-way, and aborts its writers', { timeout: 20_000 }, async () => {
    const aborted: string[] = [];
    const opened: string[] = [];
    const io: ObjectIo = {
      open: async (uri) => {
        opened.push(uri);
        if (!uri.endsWith('b.csv')) return Readable.from([Buffer.from('1,0.5,2\n0,1.5,3\n')]);
        // A line, then the connection drops.
        let sent = false;
        return new Readable({
          read() {
            if (sent) {
              setImmediate(() => this.destroy(new Error('socket hang up')));
              return;
            }
            sent = true;
            this.push(Buffer.from('1,2.5,4\n'));
          },
        });
      },
      create: (uri) => ({
        write: () => undefined,
        close: async () => ({ bytes: 0 }),
        abort: async () => {
          aborted.push(uri);
        },
      }),
    };
    await assert.rejects(mergeVersionObjects(io, plan()), /socket hang up/);
    assert.ok(aborted.length > 0, 'the writers were aborted');
    assert.deepEqual(opened.slice(0, 2), ['s3://bkt/new/a.csv', 's3://bkt/new/b.csv'], 'objects are opened in order, the next while one is read');
  });

  it('reads every object in order when nothing fails', async () => {
    const written: string[] = [];
    const io: ObjectIo = {
      open: async (uri) => Readable.from([Buffer.from(`1,${uri.length % 7}.5,2\n`), Buffer.from(`0,${uri.charCodeAt(13)},3\n`)]),
      create: () => ({
        write: (text: string) => {
          written.push(text);
          return undefined;
        },
        close: async () => ({ bytes: 0 }),
        abort: async () => undefined,
      }),
    };
    const result = await mergeVersionObjects(io, plan());
    assert.equal(result.counts.inputs.newLines, 6);
    assert.equal(result.counts.splits.train + result.counts.splits.validation + result.counts.splits.holdout + result.counts.duplicates, 6);
  });

  it('writes the same objects whatever the chunks an object arrives in, spilled or not', { timeout: 60_000 }, async () => {
    // Two objects of several MiB, a tenth of their lines repeated; some lines are not canonical CSV.
    const objects = new Map<string, Buffer>();
    for (const [n, name] of ['a.csv', 'b.csv'].entries()) {
      const lines: string[] = [];
      for (let i = 0; i < 100_000; i++) {
        const row = n * 100_000 + (i % 10 === 9 ? i - 9 : i);
        lines.push(row % 1000 === 3 ? `${row % 2}, ${row}.50,${row % 997}` : `${row % 2},${row}.5,${row % 997}`);
      }
      objects.set(`s3://bkt/new/${name}`, Buffer.from(`${lines.join('\n')}\n`));
    }
    const mergeWith = async (chunkBytes: number, memoryBytes: number) => {
      const written = new Map<string, string[]>();
      const io: ObjectIo = {
        open: async (uri) => {
          const bytes = objects.get(uri)!;
          const chunks: Buffer[] = [];
          for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
          return Readable.from(chunks);
        },
        create: (uri) => {
          const texts: string[] = [];
          written.set(uri, texts);
          return {
            write: (text: string) => {
              texts.push(text);
              return undefined;
            },
            close: async () => ({ bytes: Buffer.byteLength(texts.join('')) }),
            abort: async () => undefined,
          };
        },
      };
      const result = await mergeVersionObjects(io, plan([...objects.keys()], memoryBytes));
      return { result, objects: new Map([...written].map(([uri, texts]) => [uri, texts.join('')])) };
    };
    const whole = await mergeWith(64 * 1024 * 1024, 256 * 1024 * 1024);
    const chunked = await mergeWith(7_919, 16 * 1024 * 1024);
    assert.equal(whole.result.spilled, false);
    assert.equal(chunked.result.spilled, true);
    assert.ok(chunked.result.partitions > 1);
    assert.equal(whole.result.counts.duplicates, 20_000);
    assert.deepEqual(chunked.result.counts, whole.result.counts);
    assert.deepEqual([...chunked.objects.keys()].sort(), [...whole.objects.keys()].sort());
    for (const [uri, text] of whole.objects) assert.ok(chunked.objects.get(uri) === text, `${uri} is the same`);
  });
});

// The merge reads its inputs ahead of the parser (ReadAhead in activities/dataset.ts): an input that
// fails part-way must fail the merge with its error, not leave it waiting, and the writers it opened
// must be aborted.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { mergeVersionObjects, type MergePlan, type ObjectIo } from '../activities/dataset';
import { parsePipelineConfig, type DatasetSchema } from '../domain/config';

const schema: DatasetSchema = { label: { name: 'y', classes: 2 }, features: [{ name: 'a', type: 'numerical' }, { name: 'b', type: 'numerical' }] } as DatasetSchema;

function plan(): MergePlan {
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
    memoryBytes: d.merge.memoryBytes,
    parent: null,
    sources: ['s3://bkt/new/a.csv', 's3://bkt/new/b.csv', 's3://bkt/new/c.csv'].map((uri) => ({ uri, etag: 'e', size: 100, lastModified: null })),
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
});

// The local S3 (s3rver) as the unmodified AWS SDK sees it, where the project changes how it answers:
// ListObjectsV2 pages. s3rver's own continuation tokens need DES, which OpenSSL 3 no longer offers, so
// without local/s3.ts's tokens any listing of more keys than MaxKeys failed with InternalError.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { listObjects } from '../activities/s3-objects';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';

const BUCKET = 'listing-test';
let workDir: string;
let server: LocalS3;
let s3: S3Client;

before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'local-s3-test-'));
  server = await startLocalS3({ directory: path.join(workDir, 's3'), buckets: [BUCKET] });
  s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: LOCAL_S3_CREDENTIALS, forcePathStyle: true });
  const keys = [...Array.from({ length: 1_001 }, (_, i) => `many/object-${String(i).padStart(4, '0')}.csv`), 'few/a.csv', 'few/b.csv', 'few/c.csv', 'few/d.csv', 'few/e.csv', 'other/z.csv'];
  for (let at = 0; at < keys.length; at += 50) {
    await Promise.all(keys.slice(at, at + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }))));
  }
});

after(async () => {
  s3?.destroy();
  await server?.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('ListObjectsV2 pages in the local S3', () => {
  it('pages through a prefix two keys at a time, each page naming the token it was asked with', async () => {
    const first = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'few/', MaxKeys: 2 }));
    assert.deepEqual(first.Contents?.map((o) => o.Key), ['few/a.csv', 'few/b.csv']);
    assert.equal(first.IsTruncated, true);
    assert.equal(first.KeyCount, 2);
    assert.ok(first.NextContinuationToken);
    assert.equal(first.ContinuationToken, undefined);

    const second = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'few/', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
    assert.deepEqual(second.Contents?.map((o) => o.Key), ['few/c.csv', 'few/d.csv']);
    assert.equal(second.ContinuationToken, first.NextContinuationToken);
    assert.equal(second.StartAfter, undefined);
    assert.equal(second.IsTruncated, true);

    const last = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'few/', MaxKeys: 2, ContinuationToken: second.NextContinuationToken }));
    assert.deepEqual(last.Contents?.map((o) => o.Key), ['few/e.csv']);
    assert.equal(last.IsTruncated, false);
    assert.equal(last.NextContinuationToken, undefined);
  });

  it("the SDK's paginator and the product's listObjects get every key past the first 1,000", async () => {
    const paged: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET, Prefix: 'many/' })) paged.push(...(page.Contents ?? []).map((o) => o.Key!));
    assert.equal(paged.length, 1_001);
    assert.equal(new Set(paged).size, 1_001);
    const listed = await listObjects(s3, `s3://${BUCKET}/many`);
    assert.equal(listed.length, 1_001);
    assert.equal(listed.at(-1)!.key, 'many/object-1000.csv');
  });

  it('a token it did not make is InvalidArgument, as S3 answers it', async () => {
    await assert.rejects(
      s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'few/', ContinuationToken: 'bm90IGEgdG9rZW4' })),
      (err: unknown) => err instanceof S3ServiceException && err.name === 'InvalidArgument' && err.$metadata.httpStatusCode === 400 && /continuation token/i.test(err.message),
    );
  });

  it('a listing with start-after still echoes it', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'few/', StartAfter: 'few/c.csv' }));
    assert.deepEqual(page.Contents?.map((o) => o.Key), ['few/d.csv', 'few/e.csv']);
    assert.equal(page.StartAfter, 'few/c.csv');
  });
});

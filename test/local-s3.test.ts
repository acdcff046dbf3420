// The local S3 (s3rver) as the unmodified AWS SDK sees it, where the project changes how it answers:
// - ListObjectsV2 pages. s3rver's own continuation tokens need DES, which OpenSSL 3 no longer offers, so
//   without local/s3.ts's tokens any listing of more keys than MaxKeys failed with InternalError.
// - GET Object, whose file local/s3.ts reads in larger chunks than s3rver does, into buffers it uses
//   again once the socket has written them: the bytes, ranges, headers and errors must be s3rver's own,
//   also when many bodies are read at once and slowly, and when a client goes away in the middle.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { listObjects } from '../activities/s3-objects';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../local/s3';
import { seededRandom } from '../domain/seeded-random';

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

describe('GET Object in the local S3', () => {
  // Several read chunks' worth, and not a whole number of them, in bytes of every value.
  const random = seededRandom(41);
  const large = Buffer.from(Array.from({ length: 2 * 1024 ** 2 + 12_345 }, () => Math.floor(random() * 256)));

  before(async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'get/large.bin', Body: large, ContentType: 'application/x-test', Metadata: { origin: 'local-s3-test' } }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'get/empty.bin', Body: Buffer.alloc(0) }));
  });

  async function bytesOf(input: { Key: string; Range?: string }) {
    const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, ...input }));
    return { response, bytes: Buffer.from(await response.Body!.transformToByteArray()) };
  }

  it('returns an object of several megabytes byte for byte, with its headers and metadata', async () => {
    const { response, bytes } = await bytesOf({ Key: 'get/large.bin' });
    assert.equal(bytes.length, large.length);
    assert.ok(bytes.equals(large), 'the same bytes');
    assert.equal(response.ContentLength, large.length);
    assert.equal(response.ContentType, 'application/x-test');
    assert.deepEqual(response.Metadata, { origin: 'local-s3-test' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'get/large.bin' }));
    assert.equal(response.ETag, head.ETag);
  });

  it('returns ranges across read chunks, and the end of the object', async () => {
    for (const [start, end] of [[1, 1], [1_048_570, 1_048_590], [100, 2 * 1024 ** 2 + 100], [large.length - 10, large.length - 1]] as const) {
      const { response, bytes } = await bytesOf({ Key: 'get/large.bin', Range: `bytes=${start}-${end}` });
      assert.ok(bytes.equals(large.subarray(start, end + 1)), `bytes ${start}-${end}`);
      assert.equal(response.ContentRange, `bytes ${start}-${end}/${large.length}`);
    }
    const { bytes } = await bytesOf({ Key: 'get/large.bin', Range: `bytes=${large.length - 100}-` });
    assert.ok(bytes.equals(large.subarray(large.length - 100)), 'an open-ended range');
  });

  it('returns an empty object, and refuses a missing key and an unsatisfiable range as S3 does', async () => {
    const { bytes } = await bytesOf({ Key: 'get/empty.bin' });
    assert.equal(bytes.length, 0);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'get/missing.bin' })), (err: unknown) => err instanceof S3ServiceException && err.name === 'NoSuchKey');
    await assert.rejects(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'get/large.bin', Range: `bytes=${large.length + 10}-${large.length + 20}` })),
      (err: unknown) => err instanceof S3ServiceException && err.name === 'InvalidRange' && err.$metadata.httpStatusCode === 416,
    );
  });

  it('returns the right bytes to GETs at once that each wait on their socket, while read buffers are used again', async () => {
    // Larger than what loopback's socket buffers take (some 36 MiB here), so that the server's writes wait
    // on each socket in turn while the other bodies' reads go on.
    const objects = Array.from({ length: 3 }, () => {
      const words = new Uint32Array((40 * 1024 ** 2) / 4);
      for (let w = 0; w < words.length; w++) words[w] = Math.floor(random() * 2 ** 32);
      return Buffer.from(words.buffer);
    });
    await Promise.all(objects.map((Body, i) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `get/concurrent-${i}.bin`, Body }))));
    await Promise.all(
      objects.map(async (expected, i) => {
        const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `get/concurrent-${i}.bin` }));
        const chunks: Buffer[] = [];
        for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
          chunks.push(Buffer.from(chunk));
          // Each reader stops a while, at its own times, so the sockets fill at different moments.
          if (chunks.length % 64 === i * 16) await new Promise((resolve) => setTimeout(resolve, 40));
        }
        const body = Buffer.concat(chunks);
        assert.equal(body.length, expected.length, `object ${i}: its length`);
        assert.ok(body.equals(expected), `object ${i}: the same bytes`);
      }),
    );
  });

  it('goes on serving after a client goes away in the middle of a body', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'get/large.bin' }));
      const body = response.Body as import('node:stream').Readable;
      for await (const _chunk of body) break; // the first chunk only; breaking out destroys the body and its socket
    }
    const { bytes } = await bytesOf({ Key: 'get/large.bin' });
    assert.ok(bytes.equals(large), 'the whole object, after three abandoned reads');
  });
});

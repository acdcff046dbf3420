// Local S3: s3rver on loopback, reached by the unmodified AWS SDK through AWS_ENDPOINT_URL_S3.
// An IP-address endpoint makes the SDK use path-style addressing on its own.
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import S3rver, { type S3rverContext } from 's3rver';
import S3Error from 's3rver/lib/models/error';

/** s3rver checks SigV4 signatures against this fixed key pair. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

// ListObjectsV2 pages. s3rver makes its continuation tokens with DES, which OpenSSL 3 (Node 17 and later)
// no longer offers, so every truncated listing (more keys than MaxKeys, 1,000 by default) failed with
// InternalError, and a caller paging through a prefix of many objects never got past its first page. The
// tokens are made here instead, and s3rver is given the start-after it would have decoded from its own.

const TOKEN_PREFIX = 'local-s3:v1:';

function continuationToken(lastKey: string): string {
  return Buffer.from(TOKEN_PREFIX + lastKey, 'utf8').toString('base64url');
}

function keyOfToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(TOKEN_PREFIX)) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return text.slice(TOKEN_PREFIX.length);
}

/** Koa middleware, placed before s3rver's routes: continuation tokens for GET Bucket (List Objects) V2. */
async function listObjectsV2Pages(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  if (ctx.method !== 'GET' || ctx.query['list-type'] !== '2') return next();
  const token = ctx.query['continuation-token'];
  const startAfter = ctx.query['start-after'];
  if (typeof token === 'string' && token !== '') {
    const query: Record<string, string | string[] | undefined> = { ...ctx.query, 'start-after': keyOfToken(token) };
    delete query['continuation-token'];
    ctx.query = query;
  }
  // s3rver asks its store for the page; a page the store truncates gets its token here, not from s3rver.
  let lastKey: string | undefined;
  const store = ctx.store;
  ctx.store = Object.create(store, {
    listObjects: {
      value: async (bucket: string, options: unknown) => {
        const page = await store.listObjects(bucket, options);
        if (!page.isTruncated || page.objects.length === 0) return page;
        lastKey = page.objects[page.objects.length - 1]!.key;
        return { ...page, isTruncated: false };
      },
    },
  }) as typeof store;
  await next();
  const result = (ctx.body as { ListBucketResult?: Record<string, unknown> } | undefined)?.ListBucketResult;
  if (!result) return;
  if (typeof token === 'string' && token !== '') {
    result.ContinuationToken = token;
    result.StartAfter = startAfter;
  }
  if (lastKey !== undefined) {
    result.IsTruncated = true;
    result.NextContinuationToken = continuationToken(lastKey);
  }
}

// Object reads. s3rver streams an object's file 64 KiB at a time, and every chunk costs a read, a socket
// write and the garbage of its buffer: serving a capture window of 480 MB took about 1 s of CPU, on the
// same cores as the pipeline reading it. The object's file is read here in 1 MiB chunks instead (the same
// bytes, range and headers: s3rver still answers the request), which cuts that by about a third.

/** Bytes read from an object's file at a time. */
const OBJECT_READ_CHUNK = 1024 ** 2;

/** Koa middleware, placed before s3rver's routes: GET Object reads its file in large chunks. */
async function objectReadsInLargeChunks(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  if (ctx.method !== 'GET') return next();
  const store = ctx.store;
  ctx.store = Object.create(store, {
    getObject: {
      value: async (bucket: string, key: string, options: unknown) => {
        const object = await store.getObject(bucket, key, options);
        const opened = object?.content;
        if (!object || !opened) return object;
        // The same part of the same file (s3rver opened it with start and end, both inclusive), read in
        // larger chunks; s3rver's stream is opened but not read yet, so closing it loses nothing.
        const range = object.range ?? { start: 0, end: Math.max(0, object.size - 1) };
        object.content = createReadStream(store.getResourcePath(bucket, key, 'object'), { start: range.start, end: range.end, highWaterMark: OBJECT_READ_CHUNK });
        opened.destroy();
        return object;
      },
    },
  }) as typeof store;
  return next();
}

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
}

export async function startLocalS3(opts: { directory: string; port?: number; buckets?: string[] }): Promise<LocalS3> {
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    silent: true,
    directory: opts.directory,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  // Just before s3rver's routes (@koa/router's dispatch, which carries its router), so after its logger
  // and its XML encoder, which renders the body this leaves.
  const routes = server.middleware.findIndex((m) => 'router' in m);
  if (routes < 0) throw new Error("local S3: s3rver's routes were not found among its middleware (has s3rver changed?)");
  server.middleware.splice(routes, 0, listObjectsV2Pages, objectReadsInLargeChunks);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => server.close(),
  };
}

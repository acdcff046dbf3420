// Local S3: s3rver on loopback, reached by the unmodified AWS SDK through AWS_ENDPOINT_URL_S3.
// An IP-address endpoint makes the SDK use path-style addressing on its own.
import { mkdir, open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
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

// Object reads. s3rver streams an object's file 64 KiB at a time through a fresh buffer per read: serving
// a capture window of 480 MB took about 1 s of CPU, on the same cores as the pipeline reading it. A quarter
// of that was garbage collection: every read's buffer is memory outside V8's heap, and V8 answers a few
// dozen MB of it with a full collection (23 of them for that window). Here a GET Object's file is read in
// 1 MiB chunks into a few buffers that are used again once the socket has taken their bytes. s3rver
// still answers the request (status, headers, range, errors); only the body's bytes are written here.

/** Bytes read from an object's file at a time. */
const OBJECT_READ_CHUNK = 1024 ** 2;
/** Read buffers kept for the next chunk once written; more may be in use at once, and are then dropped. */
const READ_BUFFERS_KEPT = 16;

/** An object's bytes on disk, as the GET asked for them: the file, and the inclusive range within it. */
const OBJECT_FILE = Symbol('local-s3 object file');
interface ObjectFile {
  path: string;
  start: number;
  end: number;
}

class ReadBuffers {
  private readonly free: Buffer[] = [];

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(OBJECT_READ_CHUNK);
  }

  give(buffer: Buffer): void {
    if (this.free.length < READ_BUFFERS_KEPT) this.free.push(buffer);
  }
}

/**
 * Writes the file's range to the response and ends it. Each chunk's buffer goes back to `buffers` once the
 * socket is done with it (its write callback), and not before, since the socket may still hold the bytes.
 * A response closed early (the client went away) stops the reading; a read that fails destroys it.
 */
async function writeObjectFile(res: ServerResponse, file: ObjectFile, buffers: ReadBuffers): Promise<void> {
  const handle = await open(file.path, 'r');
  try {
    const end = file.end + 1;
    for (let position = file.start; position < end; ) {
      if (res.destroyed) return;
      const buffer = buffers.take();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(OBJECT_READ_CHUNK, end - position), position);
      if (bytesRead === 0) throw new Error(`local S3: ${file.path} ended at byte ${position}, before the ${end} its metadata gives`);
      position += bytesRead;
      const more = res.write(buffer.subarray(0, bytesRead), (err) => {
        if (!err) buffers.give(buffer);
      });
      if (!more) await drainedOrClosed(res);
    }
    res.end();
  } finally {
    await handle.close();
  }
}

/** Until the response can take more bytes, or is closed (then nothing more is written). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Koa middleware, placed before s3rver's routes: GET Object's bytes are read in large chunks into buffers used again. */
function objectReadsInLargeChunks(buffers: ReadBuffers) {
  return async (ctx: S3rverContext, next: () => Promise<void>): Promise<void> => {
    if (ctx.method !== 'GET') return next();
    const store = ctx.store;
    ctx.store = Object.create(store, {
      getObject: {
        value: async (bucket: string, key: string, options: unknown) => {
          const object = await store.getObject(bucket, key, options);
          const opened = object?.content;
          if (!object || !opened) return object;
          // s3rver opened the range (start and end both inclusive) as a stream it has not read from yet, and
          // makes that the body. The stream is marked with where its bytes are; they are read below instead.
          const range = object.range ?? { start: 0, end: object.size - 1 };
          (opened as Readable & { [OBJECT_FILE]?: ObjectFile })[OBJECT_FILE] = { path: store.getResourcePath(bucket, key, 'object'), start: range.start, end: range.end };
          return object;
        },
      },
    }) as typeof store;
    await next();
    const body = ctx.body as (Readable & { [OBJECT_FILE]?: ObjectFile }) | undefined;
    const file = body?.[OBJECT_FILE];
    if (!body || !file) return;
    // Status and headers are on the response already (Koa sets them as s3rver names them); Koa leaves the
    // rest of the response to this.
    ctx.respond = false;
    body.destroy();
    if (file.end < file.start) {
      ctx.res.end();
      return;
    }
    writeObjectFile(ctx.res, file, buffers).catch((err: unknown) => ctx.res.destroy(err instanceof Error ? err : new Error(String(err))));
  };
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
  server.middleware.splice(routes, 0, listObjectsV2Pages, objectReadsInLargeChunks(new ReadBuffers()));
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => server.close(),
  };
}

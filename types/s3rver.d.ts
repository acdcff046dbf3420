// s3rver ships no types; this covers the part the project uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs: unknown[] }[];
  }
  /** What the project's middleware uses of a request's Koa context. */
  export interface S3rverContext {
    method: string;
    query: Record<string, string | string[] | undefined>;
    body: unknown;
    /** false: Koa leaves the response to the middleware that set it. */
    respond?: boolean;
    res: import('node:http').ServerResponse;
    store: {
      listObjects(bucket: string, options: unknown): Promise<{ objects: { key: string }[]; commonPrefixes: string[]; isTruncated: boolean }>;
      /** null when there is no such object; content is null when the range asked for cannot be satisfied. */
      getObject(bucket: string, key: string, options: unknown): Promise<S3rverObject | null>;
      /** The file that holds a key's `object` (its bytes), `metadata` and so on. */
      getResourcePath(bucket: string, key: string, resource: string): string;
    };
  }
  /** An object as s3rver's store returns it (s3rver/lib/models/object). */
  export interface S3rverObject {
    bucket: string;
    key: string;
    content: import('node:stream').Readable | null;
    metadata: Record<string, string>;
    /** Inclusive byte range, on a range request. */
    range?: { start: number; end: number };
    readonly size: number;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware stack, composed when the server starts. */
    middleware: ((ctx: S3rverContext, next: () => Promise<void>) => Promise<void>)[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}

declare module 's3rver/lib/models/error' {
  /** An S3 error response: s3rver renders it as S3's XML error, with the code's HTTP status. */
  export default class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
}

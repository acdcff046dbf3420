// Reading and writing S3 objects by s3:// URI. Lines are streamed, never read whole into memory.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
// Not from domain/config, which would load zod: the drift processing job imports this through drift-profiling.
import { S3_URI } from '../domain/s3-uri';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = S3_URI.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, key: (match[2] ?? '').replace(/^\//, '') };
}

/** Joins URI segments with single slashes. */
export function s3Join(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].filter(Boolean).join('/');
}

export interface S3ObjectInfo {
  uri: string;
  key: string;
  etag: string;
  size: number;
  lastModified: Date | undefined;
}

/** Every object under a prefix, in key order. */
export async function listObjects(s3: S3Client, prefixUri: string, opts: { signal?: AbortSignal } = {}): Promise<S3ObjectInfo[]> {
  const { bucket, key } = parseS3Uri(prefixUri);
  const prefix = key && !key.endsWith('/') ? `${key}/` : key;
  const objects: S3ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: opts.signal });
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      objects.push({ uri: `s3://${bucket}/${o.Key}`, key: o.Key, etag: (o.ETag ?? '').replace(/"/g, ''), size: o.Size ?? 0, lastModified: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export async function objectExists(s3: S3Client, uri: string): Promise<boolean> {
  const { bucket, key } = parseS3Uri(uri);
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

export async function getText(s3: S3Client, uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString('utf-8');
}

export async function getJson<T>(s3: S3Client, uri: string): Promise<T> {
  const text = await getText(s3, uri);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${uri} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function putText(s3: S3Client, uri: string, body: string, contentType = 'text/plain'): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function putJson(s3: S3Client, uri: string, value: unknown): Promise<void> {
  await putText(s3, uri, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

/** Streams an object's lines (without line endings); the 1-based line number comes with each. */
export async function* readLines(s3: S3Client, uri: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<{ line: string; number: number }> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: opts.signal });
  const lines = createInterface({ input: object.Body as Readable, crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    yield { line, number };
  }
}

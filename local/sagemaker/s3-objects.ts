// Moving job data between S3 and a job's local /opt/ml, with the key-to-path rules SageMaker uses.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface S3Location {
  bucket: string;
  key: string;
}

/** Accepts `s3://bucket/key` and the virtual-hosted and path-style https forms SageMaker also takes. */
export function parseS3Uri(uri: string): S3Location {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (s3) return { bucket: s3[1], key: s3[2] };
  const url = new URL(uri);
  const virtualHosted = /^(.+)\.s3[.-]/.exec(url.hostname);
  const pathKey = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (virtualHosted) return { bucket: virtualHosted[1], key: pathKey };
  const [bucket, ...rest] = pathKey.split('/');
  return { bucket, key: rest.join('/') };
}

export function s3UriOf(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** Joins S3 key parts without doubling or dropping slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .filter((p) => p !== '')
    .join('/');
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith('/')) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function downloadObject(s3: S3Client, location: S3Location, file: string): Promise<void> {
  const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(object.Body as Readable, createWriteStream(file));
}

export async function readObject(s3: S3Client, location: S3Location): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

export async function objectExists(s3: S3Client, location: S3Location): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    return true;
  } catch {
    return false;
  }
}

/**
 * Downloads every object under an S3 prefix. A key lands at its path relative to the prefix's
 * "directory", so `s3://b/data/train/` puts `data/train/a/x.csv` at `a/x.csv`, and a prefix naming
 * one object puts that object at its file name. Returns the number of objects.
 */
export async function downloadPrefix(s3: S3Client, uri: string, destDir: string): Promise<number> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  let keys: string[];
  try {
    keys = await listKeys(s3, bucket, prefix);
  } catch {
    return 0;
  }
  const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  for (const key of keys) await downloadObject(s3, { bucket, key }, path.join(destDir, key.slice(base.length)));
  return keys.length;
}

/**
 * Downloads the objects a manifest lists: `[{"prefix": "s3://b/p/"}, "rel/key1", ...]`, each at
 * its relative path. Returns the number of objects.
 */
export async function downloadManifest(s3: S3Client, uri: string, destDir: string): Promise<number> {
  const manifest = JSON.parse((await readObject(s3, parseS3Uri(uri))).toString('utf8')) as unknown;
  if (!Array.isArray(manifest) || typeof manifest[0]?.prefix !== 'string') {
    throw new Error(`The manifest ${uri} must be a JSON array starting with {"prefix": "s3://..."}`);
  }
  const { bucket, key: prefix } = parseS3Uri(manifest[0].prefix as string);
  const relativeKeys = manifest.slice(1).filter((entry): entry is string => typeof entry === 'string');
  for (const relative of relativeKeys) {
    await downloadObject(s3, { bucket, key: prefix + relative }, path.join(destDir, relative));
  }
  return relativeKeys.length;
}

/**
 * Uploads a file as one buffer: a streamed body makes the SDK send aws-chunked content with a
 * trailing checksum, which S3 stand-ins such as s3rver store verbatim instead of decoding.
 */
export async function uploadFile(s3: S3Client, file: string, location: S3Location, contentType?: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: await readFile(file), ContentType: contentType }));
}

/** Every regular file under a directory, as paths relative to it (forward slashes). */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

/** Uploads a directory's files under an S3 prefix, keeping relative paths. */
export async function uploadDirectory(s3: S3Client, dir: string, uri: string): Promise<number> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  const files = await filesUnder(dir);
  for (const relative of files) await uploadFile(s3, path.join(dir, relative), { bucket, key: joinKey(prefix, relative) });
  return files.length;
}

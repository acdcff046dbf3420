// Training channels as SageMaker delivers them: checked at CreateTrainingJob, then File mode copies
// the objects under /opt/ml/input/data/<channel>/, and Pipe mode streams them through the FIFOs
// /opt/ml/input/data/<channel>_<epoch> (epoch 0 first; the next FIFO appears once one has been read
// to its end). Pipe mode decompresses Gzip objects and, with RecordWrapperType RecordIO, wraps each
// object (or each augmented-manifest attribute) in one MXNet RecordIO record. An augmented manifest's
// attributes are sent in AttributeNames order: a string as its text, a `-ref` attribute as the
// object it names, anything else as its JSON.
import { execFile } from 'node:child_process';
import { constants, open as openFd, promises as fs } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Channel, CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';
import { validationError } from './errors';
import { JobFailure } from './job-artifacts';
import { downloadManifest, downloadPrefix, listKeys, parseS3Uri, readObject } from './s3-objects';

const MAX_ATTRIBUTE_NAMES = 16;

function modeOf(channel: Channel, request: CreateTrainingJobRequest): string {
  return channel.InputMode ?? request.AlgorithmSpecification?.TrainingInputMode ?? 'File';
}

/** The channel rules CreateTrainingJob enforces before a job exists. */
export function assertChannelsValid(request: CreateTrainingJobRequest): void {
  for (const channel of request.InputDataConfig ?? []) {
    const name = channel.ChannelName;
    const mode = modeOf(channel, request);
    const source = channel.DataSource?.S3DataSource;
    if (source?.S3DataType === 'AugmentedManifestFile') {
      if (mode !== 'Pipe') throw validationError(`Channel ${name}: AugmentedManifestFile can only be used if the channel's input mode is Pipe, not ${mode}.`);
      if (!source.AttributeNames?.length) throw validationError(`Channel ${name}: AttributeNames must list the augmented manifest's attributes to pass when S3DataType is AugmentedManifestFile.`);
    }
    if (source?.AttributeNames?.length) {
      if (source.S3DataType !== 'AugmentedManifestFile') throw validationError(`Channel ${name}: AttributeNames apply only to S3DataType AugmentedManifestFile, not ${source.S3DataType}.`);
      if (source.AttributeNames.length > MAX_ATTRIBUTE_NAMES) throw validationError(`Channel ${name}: at most ${MAX_ATTRIBUTE_NAMES} AttributeNames, got ${source.AttributeNames.length}.`);
    }
    // The API reference: "CompressionType is used only in Pipe input mode. In File mode, leave this field unset or set it to None."
    if (mode !== 'Pipe' && channel.CompressionType && channel.CompressionType !== 'None') {
      throw validationError(`Channel ${name}: CompressionType ${channel.CompressionType} is used only in Pipe input mode; in ${mode} mode leave it unset or None.`);
    }
    if (mode !== 'Pipe' && channel.RecordWrapperType && channel.RecordWrapperType !== 'None') {
      throw validationError(`Channel ${name}: RecordWrapperType ${channel.RecordWrapperType} is used only in Pipe input mode; in ${mode} mode leave it unset or None.`);
    }
  }
}

export function isPipeChannel(channel: Channel, request: CreateTrainingJobRequest): boolean {
  return modeOf(channel, request) === 'Pipe';
}

/** File (and FastFile) mode: the channel's objects under dest, at their paths relative to the prefix or manifest prefix. */
export async function downloadChannel(s3: S3Client, channel: Channel, dest: string): Promise<number> {
  const source = channel.DataSource!.S3DataSource!;
  if (source.S3DataType === 'ManifestFile') {
    return downloadManifest(s3, source.S3Uri!, dest).catch((err: Error) => {
      throw new JobFailure(`ClientError: Could not download manifest file ${source.S3Uri}: ${err.message}`);
    });
  }
  return downloadPrefix(s3, source.S3Uri!, dest);
}

// --- Pipe mode --------------------------------------------------------------------------------------------

const RECORDIO_MAGIC = 0xced7230a;

/** One MXNet RecordIO record: magic, length (flag 0: a whole record), the bytes, zero padding to 4 bytes. */
export function recordIoFrame(data: Buffer): Buffer {
  const padding = (4 - (data.length % 4)) % 4;
  const frame = Buffer.alloc(8 + data.length + padding);
  frame.writeUInt32LE(RECORDIO_MAGIC, 0);
  frame.writeUInt32LE(data.length & 0x1fffffff, 4);
  data.copy(frame, 8);
  return frame;
}

/** The records of a RecordIO stream (for tests and algorithms reading Pipe channels). */
export function readRecordIo(stream: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at + 8 <= stream.length) {
    if (stream.readUInt32LE(at) !== RECORDIO_MAGIC) throw new Error(`not a RecordIO record at byte ${at}`);
    const length = stream.readUInt32LE(at + 4) & 0x1fffffff;
    records.push(stream.subarray(at + 8, at + 8 + length));
    at += 8 + length + ((4 - (length % 4)) % 4);
  }
  return records;
}

async function objectBody(s3: S3Client, uri: string): Promise<Readable> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body as Readable;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The object URIs a prefix or manifest channel delivers, in key order (a manifest: its order). */
async function channelObjects(s3: S3Client, channel: Channel): Promise<string[]> {
  const source = channel.DataSource!.S3DataSource!;
  if (source.S3DataType === 'ManifestFile') {
    const manifest = JSON.parse((await readObject(s3, parseS3Uri(source.S3Uri!))).toString('utf8')) as unknown;
    if (!Array.isArray(manifest) || typeof (manifest[0] as { prefix?: unknown })?.prefix !== 'string') {
      throw new JobFailure(`ClientError: The manifest ${source.S3Uri} must be a JSON array starting with {"prefix": "s3://..."}`);
    }
    const prefix = (manifest[0] as { prefix: string }).prefix;
    return manifest.slice(1).filter((e): e is string => typeof e === 'string').map((relative) => `${prefix}${relative}`);
  }
  const { bucket, key } = parseS3Uri(source.S3Uri!);
  return (await listKeys(s3, bucket, key)).sort().map((k) => `s3://${bucket}/${k}`);
}

/**
 * Streams one epoch of a Pipe channel into `write`: every object (gunzipped if compressed), each as one
 * RecordIO record when wrapped; or an augmented manifest's attributes, line by line.
 */
export async function streamPipeEpoch(s3: S3Client, channel: Channel, write: (bytes: Buffer) => Promise<void>): Promise<void> {
  const source = channel.DataSource!.S3DataSource!;
  const wrap = channel.RecordWrapperType === 'RecordIO';
  const gzip = channel.CompressionType === 'Gzip';
  if (source.S3DataType === 'AugmentedManifestFile') {
    const manifest = (await collect(await objectBody(s3, source.S3Uri!))).toString('utf8');
    let number = 0;
    for (const line of manifest.split('\n')) {
      number++;
      if (!line.trim()) continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new JobFailure(`ClientError: Invalid augmented manifest ${source.S3Uri}: line ${number} is not valid JSON (${(err as Error).message})`);
      }
      for (const name of source.AttributeNames!) {
        if (!(name in record)) throw new JobFailure(`ClientError: Attribute ${name} is not found in line ${number} of the augmented manifest ${source.S3Uri}`);
        const value = record[name];
        const bytes = name.endsWith('-ref')
          ? await collect(await objectBody(s3, String(value)))
          : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
        await write(wrap ? recordIoFrame(bytes) : bytes);
      }
    }
    return;
  }
  for (const uri of await channelObjects(s3, channel)) {
    let body: Readable = await objectBody(s3, uri);
    if (gzip) body = body.pipe(createGunzip());
    if (wrap) {
      await write(recordIoFrame(await collect(body)));
    } else {
      for await (const chunk of body as AsyncIterable<Buffer>) await write(chunk);
    }
  }
}

const execFileAsync = promisify(execFile);
const openRaw = promisify(openFd) as (file: string, flags: number) => Promise<number>;

/**
 * Feeds a Pipe channel's FIFOs while the container runs: <channel>_0, then _1 once _0 was read to its
 * end, and so on. Waiting for a reader never blocks a thread (the FIFO is opened non-blocking and
 * retried), so a container that never reads costs nothing, and stop() ends the feeding at once.
 */
export class PipeChannelFeeder {
  private stopped = false;
  private socket: Socket | undefined;
  readonly done: Promise<void>;
  epochsDelivered = 0;

  private constructor(
    private readonly s3: S3Client,
    private readonly channel: Channel,
    private readonly dataDir: string,
    firstFifo: string,
    private readonly onFailure: (reason: string) => void,
  ) {
    this.done = this.feed(firstFifo).catch((err: unknown) => {
      if (!this.stopped) this.onFailure(err instanceof JobFailure ? err.message : `ClientError: Pipe channel ${channel.ChannelName}: ${(err as Error).message}`);
    });
  }

  /** Creates <channel>_0 (before the container starts, as SageMaker does) and starts feeding it. */
  static async start(s3: S3Client, channel: Channel, dataDir: string, onFailure: (reason: string) => void): Promise<PipeChannelFeeder> {
    const fifo = await makeFifo(dataDir, channel.ChannelName!, 0);
    return new PipeChannelFeeder(s3, channel, dataDir, fifo, onFailure);
  }

  private async feed(firstFifo: string): Promise<void> {
    let fifo = firstFifo;
    for (let epoch = 0; !this.stopped; epoch++) {
      const fd = await this.openForWriting(fifo);
      if (fd === null) return;
      const socket = new Socket({ fd, readable: false, writable: true });
      this.socket = socket;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      let next: string | undefined;
      try {
        await streamPipeEpoch(this.s3, this.channel, (bytes) => writeTo(socket, bytes));
        // The next epoch's FIFO exists before this one ends, so a reader that sees end-of-file can open it at once.
        next = await makeFifo(this.dataDir, this.channel.ChannelName!, epoch + 1);
      } finally {
        socket.end();
        await closed;
        this.socket = undefined;
      }
      if (this.stopped) return;
      this.epochsDelivered++;
      await fs.rm(fifo, { force: true });
      fifo = next;
    }
  }

  private async openForWriting(fifo: string): Promise<number | null> {
    for (;;) {
      if (this.stopped) return null;
      try {
        // A raw descriptor, not a FileHandle: the socket owns it from here.
        return await openRaw(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        // ENXIO: no reader has opened the FIFO yet.
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.socket?.destroy();
    await this.done;
  }
}

async function makeFifo(dataDir: string, channelName: string, epoch: number): Promise<string> {
  await fs.mkdir(dataDir, { recursive: true });
  const fifo = path.join(dataDir, `${channelName}_${epoch}`);
  await fs.rm(fifo, { force: true });
  await execFileAsync('mkfifo', ['-m', '600', fifo]);
  return fifo;
}

function writeTo(socket: Socket, bytes: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('the reader closed the pipe'));
  return socket.write(bytes) ? Promise.resolve() : new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      socket.off('drain', onDrain);
      reject(new Error('the reader closed the pipe'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

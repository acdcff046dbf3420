// Model Monitor's data capture: one JSON line per sampled invocation, buffered and written to
// `{DestinationS3Uri}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm-ss-SSS}-{uuid}.jsonl` (UTC hour of the
// inference time), the layout Model Monitor's analysis containers read.
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DataCaptureConfig } from '@aws-sdk/client-sagemaker';
import { joinKey, parseS3Uri } from './s3-objects';

export interface CapturedPayload {
  contentType: string;
  body: Buffer;
}

export interface Invocation {
  endpointName: string;
  variantName: string;
  input: CapturedPayload;
  output: CapturedPayload;
  inferenceId?: string;
  inferenceTime: Date;
}

type Encoding = 'CSV' | 'JSON' | 'BASE64';

/** Text encodings apply only to media types listed in CaptureContentTypeHeader; the rest are base64. */
function encodingFor(config: DataCaptureConfig, contentType: string): Encoding {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const listed = (types: string[] | undefined) => (types ?? []).some((t) => t.toLowerCase() === mediaType);
  if (listed(config.CaptureContentTypeHeader?.CsvContentTypes)) return 'CSV';
  if (listed(config.CaptureContentTypeHeader?.JsonContentTypes)) return 'JSON';
  return 'BASE64';
}

function capturedData(config: DataCaptureConfig, payload: CapturedPayload, mode: 'INPUT' | 'OUTPUT') {
  const encoding = encodingFor(config, payload.contentType);
  return {
    observedContentType: payload.contentType,
    mode,
    data: encoding === 'BASE64' ? payload.body.toString('base64') : payload.body.toString('utf8'),
    encoding,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Seconds precision, as in captured files: `2022-02-14T17:25:49Z`. */
function inferenceTimestamp(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

interface CaptureFile {
  key: string;
  bucket: string;
  lines: string[];
}

export class DataCaptureWriter {
  private buffers = new Map<string, CaptureFile>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly s3: S3Client,
    flushMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** Captures an invocation if capture is enabled and the sample falls within InitialSamplingPercentage. */
  capture(config: DataCaptureConfig | undefined, invocation: Invocation): void {
    if (!config || config.EnableCapture === false) return;
    if (Math.random() * 100 >= (config.InitialSamplingPercentage ?? 0)) return;
    const modes = new Set((config.CaptureOptions ?? []).map((o) => o.CaptureMode));
    const captureInput = modes.has('Input') || modes.has('InputAndOutput');
    const captureOutput = modes.has('Output') || modes.has('InputAndOutput');
    if (!captureInput && !captureOutput) return;
    const line = JSON.stringify({
      captureData: {
        ...(captureInput ? { endpointInput: capturedData(config, invocation.input, 'INPUT') } : {}),
        ...(captureOutput ? { endpointOutput: capturedData(config, invocation.output, 'OUTPUT') } : {}),
      },
      eventMetadata: {
        eventId: randomUUID(),
        inferenceTime: inferenceTimestamp(invocation.inferenceTime),
        ...(invocation.inferenceId ? { inferenceId: invocation.inferenceId } : {}),
      },
      eventVersion: '0',
    });
    const t = invocation.inferenceTime;
    const hourPath = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
    const destination = parseS3Uri(config.DestinationS3Uri!);
    const bufferKey = [destination.bucket, destination.key, invocation.endpointName, invocation.variantName, hourPath].join('|');
    let file = this.buffers.get(bufferKey);
    if (!file) {
      const fileName = `${pad(t.getUTCMinutes())}-${pad(t.getUTCSeconds())}-${pad(t.getUTCMilliseconds(), 3)}-${randomUUID()}.jsonl`;
      file = {
        bucket: destination.bucket,
        key: joinKey(destination.key, invocation.endpointName, invocation.variantName, hourPath, fileName),
        lines: [],
      };
      this.buffers.set(bufferKey, file);
    }
    file.lines.push(line);
  }

  /** Writes everything buffered so far; concurrent flushes queue behind each other. */
  flush(): Promise<void> {
    const files = [...this.buffers.values()];
    this.buffers = new Map();
    this.writing = this.writing.then(async () => {
      for (const file of files) {
        await this.s3
          .send(new PutObjectCommand({ Bucket: file.bucket, Key: file.key, Body: `${file.lines.join('\n')}\n`, ContentType: 'application/jsonl' }))
          .catch(() => undefined);
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

// Job data that outlives the container: model and output archives, and checkpoints kept in step
// with S3 while the job runs.
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { create as createTar } from 'tar';
import { downloadPrefix, filesUnder, joinKey, parseS3Uri, uploadFile } from './s3-objects';

/** A job failure whose text is the job's FailureReason, e.g. `ClientError: ...`. */
export class JobFailure extends Error {}

export async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

/** Archives a directory's contents (not the directory itself) as SageMaker does for /opt/ml/model. */
export async function uploadTarGz(s3: S3Client, dir: string, archive: string, s3Uri: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await mkdir(path.dirname(archive), { recursive: true });
  const entries = await readdir(dir);
  await createTar({ gzip: true, file: archive, cwd: dir, portable: true }, entries);
  await uploadFile(s3, archive, parseS3Uri(s3Uri), 'application/x-tar');
}

/**
 * Mirrors CheckpointConfig.LocalPath to CheckpointConfig.S3Uri: restores what is there before the
 * job starts, then uploads new or changed files while it runs and once more when it ends.
 */
export class CheckpointMirror {
  private readonly uploaded = new Map<string, string>();
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly s3: S3Client,
    private readonly localDir: string,
    private readonly s3Uri: string,
  ) {}

  async restore(): Promise<void> {
    await mkdir(this.localDir, { recursive: true });
    await downloadPrefix(this.s3, this.s3Uri.endsWith('/') ? this.s3Uri : `${this.s3Uri}/`, this.localDir);
    // Restored files are already in S3; only later changes need uploading.
    for (const relative of await filesUnder(this.localDir)) this.uploaded.set(relative, await this.fingerprint(relative));
  }

  /** Uploads changes; calls made while one runs wait for it rather than overlap. */
  sync(): Promise<void> {
    this.inFlight = this.inFlight.then(() => this.uploadChanges()).catch(() => undefined);
    return this.inFlight;
  }

  private async uploadChanges(): Promise<void> {
    const { bucket, key: prefix } = parseS3Uri(this.s3Uri);
    for (const relative of await filesUnder(this.localDir)) {
      const fingerprint = await this.fingerprint(relative).catch(() => undefined);
      if (fingerprint === undefined || this.uploaded.get(relative) === fingerprint) continue;
      await uploadFile(this.s3, path.join(this.localDir, relative), { bucket, key: joinKey(prefix, relative) });
      this.uploaded.set(relative, fingerprint);
    }
  }

  private async fingerprint(relative: string): Promise<string> {
    const { size, mtimeMs } = await stat(path.join(this.localDir, relative));
    return `${size}:${mtimeMs}`;
  }
}

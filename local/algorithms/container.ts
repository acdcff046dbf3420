// What every algorithm entry point shares: the failure contract, built-in-algorithm-style logging
// and small readers for the files SageMaker hands a container.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A problem the job's caller caused (bad hyperparameters, bad data). The failure reason starts with
 * "ClientError: ", as SageMaker's built-in algorithms write it, so callers can tell it from a crash
 * and know a retry will not help.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
}

/** SageMaker keeps the first 1 KB of a failure reason; one line reads best in DescribeTrainingJob. */
const MAX_REASON_BYTES = 1024;

/**
 * The failure file's line. Only a ClientError carries a prefix: for anything else SageMaker itself
 * prefixes the file's text with "AlgorithmError: ".
 */
export function failureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = (err instanceof ClientError ? `ClientError: ${message}` : message).replace(/\s*\n\s*/g, ' ');
  const bytes = Buffer.from(line, 'utf8');
  return bytes.length <= MAX_REASON_BYTES ? line : bytes.subarray(0, MAX_REASON_BYTES - 3).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** One log line in the built-in algorithms' shape: `[MM/DD/YYYY HH:MM:SS INFO <pid>] message`. */
export function log(message: string, level: 'INFO' | 'WARNING' | 'ERROR' = 'INFO'): void {
  const t = new Date();
  const stamp = `${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${t.getUTCFullYear()} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  const line = `[${stamp} ${level} ${process.pid}] ${message}\n`;
  (level === 'ERROR' ? process.stderr : process.stdout).write(line);
}

/**
 * Runs an entry point's main. On failure writes the one-line reason to each of `failureFiles`
 * (best effort: the reason also goes to stderr) and exits non-zero.
 */
export async function runEntryPoint(main: () => Promise<void>, failureFiles: readonly string[]): Promise<void> {
  try {
    await main();
  } catch (err) {
    const reason = failureReason(err);
    log(err instanceof ClientError ? reason : `AlgorithmError: ${reason}`, 'ERROR');
    if (!(err instanceof ClientError) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    for (const file of failureFiles) {
      try {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, `${reason}\n`);
      } catch (writeErr) {
        log(`could not write ${file}: ${(writeErr as Error).message}`, 'ERROR');
      }
    }
    process.exit(1);
  }
}

/** Reads a JSON file SageMaker provides; undefined if it is absent, ClientError if it is not JSON. */
export async function readOptionalJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ClientError(`${path.basename(file)} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes a file so a concurrent reader (or the runner's checkpoint sync) never sees half of it. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial`);
  await writeFile(partial, content);
  await rename(partial, file);
}

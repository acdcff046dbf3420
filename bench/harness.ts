// What the drift and dataset suites share: the peers' Python venv, measuring one side as a child
// process (wall time from spawn to exit, peak RSS from /proc), and the local S3 a measured run reads
// through, started fresh in a process of its own for every run.
//
// Why a fresh S3 process per run: with s3rver inside the bench's own process, every run after a
// memory-hungry peer (Evidently) read up to 40% slower through it, ours and the plain S3 read ceiling
// alike, while a fresh s3rver was not slowed. A run must not pay for what ran before it.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PACKAGE_ROOT } from '../local/package-root';

/** The repository's root, whether this runs from bench/ (tsx) or compiled into bench/.peers/build/bench/. */
export const ROOT = PACKAGE_ROOT;
/** Git-ignored: the generated data and the peers' Python venvs. */
export const PEERS_HOME = path.join(ROOT, 'bench', '.peers');

/** A comma-separated list from the environment, or the fallback. */
export function envList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------------
// The peers' Python: a venv under bench/.peers, from pinned requirements, made on first use and again
// whenever the requirements file changes.

export async function ensureVenv(suite: string, venv: string, requirements: string, pythonVariable: string): Promise<string> {
  const python = path.join(venv, 'bin', 'python');
  const stamp = path.join(venv, '.requirements.sha256');
  const wanted = createHash('sha256').update(await readFile(requirements)).digest('hex');
  if (existsSync(python) && (await readFile(stamp, 'utf8').catch(() => '')) === wanted) return python;
  process.stderr.write(`${suite}: installing the Python peers' packages into ${path.relative(ROOT, venv)} (pinned in ${path.relative(ROOT, requirements)})\n`);
  await rm(venv, { recursive: true, force: true });
  await run(process.env[pythonVariable] ?? 'python3', ['-m', 'venv', venv]);
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  await writeFile(stamp, wanted);
  return python;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

// ---------------------------------------------------------------------------------------------------
// Our sides run compiled, as the installed package does (npm installs dist/, compiled by tsc): the bench
// compiles the product and bench/ with the same tsc into bench/.peers/build before measuring, and runs
// its children there with plain Node, without tsx's loader.

const BUILD = path.join(PEERS_HOME, 'build');

export async function compileForBench(suite: string): Promise<void> {
  process.stderr.write(`${suite}: compiling the product and bench/ into ${path.relative(ROOT, BUILD)} (tsc -p bench/tsconfig.json)\n`);
  await rm(BUILD, { recursive: true, force: true });
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'bench', 'tsconfig.json')]);
}

/** The command line of a bench file's compiled child, e.g. `benchChild('drift', 'ours', '1M')`. */
export function benchChild(file: string, ...args: string[]): [string, string[]] {
  return [process.execPath, [path.join(BUILD, 'bench', `${file}.js`), ...args]];
}

// ---------------------------------------------------------------------------------------------------
// Measuring one side.

export interface Measured<R> {
  wallSeconds: number;
  /** The machine's 1-minute load average when the side started: other work on the cores shows here. */
  loadAverage?: number;
  peakRssMiB: number;
  /** The child's last stdout line, parsed. */
  result?: R;
  failure?: string;
}

function vmHwmKiB(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (status) => Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0),
    () => 0,
  );
}

export interface MeasureOptions {
  /** Names the side's log file under `logDir`. */
  label: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
  logDir: string;
}

/**
 * Runs one side as a child process in its own process group and times it from spawn to exit. Peak RSS is
 * the larger of the VmHWM the child prints with its result and what polling /proc saw.
 */
export async function measure<R extends { vmHwmKiB?: number }>(opts: MeasureOptions): Promise<Measured<R>> {
  const logFile = path.join(opts.logDir, `${opts.label.replace(/[^a-zA-Z0-9.-]+/g, '-')}.log`);
  await mkdir(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  const started = process.hrtime.bigint();
  const child = spawn(opts.command, opts.args, { cwd: ROOT, env: { ...process.env, ...opts.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    log.write(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
    log.write(d);
  });
  // The child reports its own VmHWM at the end; polling covers a child that never gets there.
  let polledKiB = 0;
  const poll = setInterval(() => void vmHwmKiB(child.pid!).then((kib) => (polledKiB = Math.max(polledKiB, kib))), 200);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, opts.timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(poll);
  clearTimeout(timer);
  log.end();
  const peakRssMiB = polledKiB / 1024;
  if (timedOut) return { wallSeconds, peakRssMiB, failure: `did not finish within ${(opts.timeoutMs / 60_000).toFixed(0)} min` };
  if (code !== 0) {
    const oom = signal === 'SIGKILL' || /out of memory|MemoryError|Killed/i.test(stderrTail);
    const why = oom ? 'ran out of memory' : `exited with ${code ?? signal}`;
    // The error's own line says more than the stack under it.
    const lines = stderrTail.trim().split('\n');
    const said = [...lines].reverse().find((l) => /error|fatal|killed/i.test(l) && !/^\s+at /.test(l)) ?? lines.slice(-3).join(' | ');
    return { wallSeconds, peakRssMiB, failure: `${why} after ${wallSeconds.toFixed(0)} s at ${peakRssMiB.toFixed(0)} MiB (log: ${path.relative(ROOT, logFile)}): ${said.trim()}` };
  }
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as R;
  return { wallSeconds, peakRssMiB: Math.max(result.vmHwmKiB ?? 0, polledKiB) / 1024, result };
}

/** A measured child's last stdout line: its result, with its own VmHWM from /proc. */
export function printResult(result: object): void {
  const status = readFileSync('/proc/self/status', 'utf8');
  process.stdout.write(`${JSON.stringify({ ...result, vmHwmKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) })}\n`);
}

// ---------------------------------------------------------------------------------------------------
// The local S3 a run reads through: s3rver in a child process of its own (bench/local-s3-process.ts).

export interface BenchS3 {
  /** The environment a child needs to reach it with the unmodified AWS SDK. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchS3(directory: string, buckets: string[], region: string): Promise<BenchS3> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'local-s3-process.ts'), directory, ...buckets], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    exited.then(([code, signal]) => {
      throw new Error(`the bench's local S3 exited with ${code ?? signal} before it was ready`);
    }),
  ]);
  const ready = JSON.parse(first) as { endpoint: string; accessKeyId: string; secretAccessKey: string };
  return {
    env: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: ready.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ready.secretAccessKey,
      AWS_ENDPOINT_URL_S3: ready.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    async close() {
      lines.close();
      // Closing its stdin is the signal to stop; SIGKILL if it has not gone within 10 s.
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The S3 read ceiling: the most any side reading through the local S3 could reach.

/** GETs every key with `concurrency` requests in flight and counts its lines, parsing nothing. */
export async function countLinesThroughS3(s3: S3Client, bucket: string, keys: string[], concurrency: number): Promise<number> {
  let lines = 0;
  let next = 0;
  const reader = async () => {
    while (next < keys.length) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[next++]! }));
      for await (const chunk of object.Body as AsyncIterable<Buffer>) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, reader));
  return lines;
}

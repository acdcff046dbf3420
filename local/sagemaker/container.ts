// A "container" here is a Node process running an entry point (TypeScript or JavaScript) through tsx, with OPT_ML
// standing in for /opt/ml. Entry points default to /opt/ml when OPT_ML is unset, so the same file
// runs unchanged in a real SageMaker container.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../package-root';

const CONTAINER_ROOT = '/opt/ml';
/** The package's tsconfig, for TypeScript entry points; an installed package runs compiled ones and has none. */
const PACKAGE_TSCONFIG = path.join(PACKAGE_ROOT, 'tsconfig.json');

/** `tsx`'s package main registers both its ESM and CommonJS hooks, which `--import` needs. */
const TSX_LOADER_URL = pathToFileURL(require.resolve('tsx')).href;

/** Rewrites a container path under /opt/ml to the job's local stand-in. */
export function hostPath(containerPath: string, optMl: string): string {
  if (containerPath === CONTAINER_ROOT) return optMl;
  if (containerPath.startsWith(`${CONTAINER_ROOT}/`)) return path.join(optMl, containerPath.slice(CONTAINER_ROOT.length + 1));
  return containerPath;
}

/** Rewrites every /opt/ml path inside an argument, e.g. `--input=/opt/ml/processing/input`. */
export function translateArgument(argument: string, optMl: string): string {
  return argument.replace(/(^|[^\w/])\/opt\/ml(?=\/|$|[^\w])/g, (_m, lead: string) => `${lead}${optMl}`);
}

const RUNNABLE_SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * The program a container runs. A ContainerEntrypoint whose first element is a script this server
 * can run replaces the image's entry point, as it replaces ENTRYPOINT in Docker; any other
 * entrypoint (`python3 ...`) cannot run here, so the image's own entry point runs instead.
 */
export function containerProgram(
  imageEntryFile: string,
  entrypoint: string[] | undefined,
  optMl: string,
): { entryFile: string; leadingArgs: string[]; ignoredEntrypoint?: string[] } {
  if (!entrypoint?.length) return { entryFile: imageEntryFile, leadingArgs: [] };
  const [program, ...rest] = entrypoint.map((part) => translateArgument(part, optMl));
  if (RUNNABLE_SCRIPT.test(program)) return { entryFile: program, leadingArgs: rest };
  return { entryFile: imageEntryFile, leadingArgs: [], ignoredEntrypoint: entrypoint };
}

export interface ContainerLaunch {
  entryFile: string;
  args: string[];
  optMl: string;
  env: Record<string, string | undefined>;
  logFile: string;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ContainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LocalContainer {
  readonly exited: Promise<ContainerExit>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly stderrTail: string[] = [];
  private exit?: ContainerExit;

  private constructor(launch: ContainerLaunch) {
    this.log = createWriteStream(launch.logFile, { flags: 'a' });
    // The test runner's context variable would make a child that imports node:test report to it.
    const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
    this.child = spawn(process.execPath, ['--import', TSX_LOADER_URL, launch.entryFile, ...launch.args], {
      cwd: path.dirname(launch.optMl),
      env: { ...inherited, ...(existsSync(PACKAGE_TSCONFIG) ? { TSX_TSCONFIG_PATH: PACKAGE_TSCONFIG } : {}), ...launch.env, OPT_ML: launch.optMl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pipeLines('stdout', launch.onLine);
    this.pipeLines('stderr', launch.onLine);
    this.exited = new Promise((resolve) => {
      const finish = (exit: ContainerExit) => {
        if (this.exit) return;
        this.exit = exit;
        this.log.end(() => resolve(exit));
      };
      this.child.once('error', (err) => {
        this.record(`failed to start: ${err.message}`, 'stderr', launch.onLine);
        finish({ code: 127, signal: null });
      });
      this.child.once('close', (code, signal) => finish({ code, signal }));
    });
  }

  static async start(launch: ContainerLaunch): Promise<LocalContainer> {
    await mkdir(path.dirname(launch.logFile), { recursive: true });
    await mkdir(launch.optMl, { recursive: true });
    return new LocalContainer(launch);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last stderr lines, for a failure reason when the algorithm wrote none. */
  recentStderr(): string[] {
    return [...this.stderrTail];
  }

  /** SageMaker's stop: SIGTERM, a grace period for saving state, then SIGKILL. */
  async stop(graceMs: number): Promise<ContainerExit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }

  private pipeLines(stream: 'stdout' | 'stderr', onLine: ContainerLaunch['onLine']): void {
    let pending = '';
    const source = this.child[stream];
    source?.setEncoding('utf8');
    source?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) this.record(line, stream, onLine);
    });
    source?.on('end', () => {
      if (pending) this.record(pending, stream, onLine);
      pending = '';
    });
  }

  private record(line: string, stream: 'stdout' | 'stderr', onLine: ContainerLaunch['onLine']): void {
    this.log.write(`${line}\n`);
    if (stream === 'stderr') {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    }
    onLine?.(line, stream);
  }
}

// A real Temporal server for local mode, the demo and the tests: the Temporal CLI dev server with a
// SQLite file, the Web UI and the pipeline's search attributes.
//
// Where the CLI comes from, in order:
//   1. TEMPORAL_CLI_PATH, or a `temporal` on PATH;
//   2. a CLI this project built earlier into .tools/ (step 4 below, done once);
//   3. the Temporal SDK's cached download (needs the internet);
//   4. a pinned CLI built from the Go module proxy with `go install`.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { RETRAINING_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { PACKAGE_ROOT } from './package-root';

/** v1.5.1 is the newest tag `go install` accepts (later tags carry a replace directive). Server 1.29.1, UI 2.42.1. */
export const PINNED_CLI_VERSION = '1.5.1';
const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export const TOOLS_DIR = path.join(PACKAGE_ROOT, '.tools');
const builtCliPath = path.join(TOOLS_DIR, `temporal-cli-v${PINNED_CLI_VERSION}`, 'temporal');

type Log = (line: string) => void;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Builds the pinned CLI into .tools/, printing progress; the Go build cache makes later builds fast. */
export async function buildPinnedCli(log: Log): Promise<string> {
  const go = await onPath('go');
  if (!go) throw new Error('no `go` on PATH');
  const finalDir = path.dirname(builtCliPath);
  const partialDir = `${finalDir}.partial-${process.pid}`;
  await mkdir(partialDir, { recursive: true });
  log(`building Temporal CLI v${PINNED_CLI_VERSION} from the Go module proxy into ${path.relative(process.cwd(), finalDir) || finalDir} (first build takes several minutes on 2 cores)`);
  const started = Date.now();
  let packages = 0;
  let lastReport = 0;
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      go,
      ['install', '-v', '-ldflags', `-X github.com/temporalio/cli/temporalcli.Version=${PINNED_CLI_VERSION}`, `${CLI_MODULE}@v${PINNED_CLI_VERSION}`],
      { env: { ...process.env, GOBIN: partialDir, CGO_ENABLED: '0', GOFLAGS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let tail = '';
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        if (!line.startsWith('go: ')) packages++;
        const now = Date.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          log(`  ... ${packages} packages compiled, ${Math.round((now - started) / 1000)}s (${line.startsWith('go: ') ? line.slice(4) : line})`);
        }
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', reject);
    child.on('close', (c) => {
      if (c !== 0) reject(new Error(`go install exited with ${c}:\n${tail}`));
      else resolve(c);
    });
  }).catch(async (err) => {
    await rm(partialDir, { recursive: true, force: true });
    throw err;
  });
  void code;
  await rm(finalDir, { recursive: true, force: true });
  await rename(partialDir, finalDir);
  log(`built Temporal CLI v${PINNED_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)}s: ${builtCliPath}`);
  return builtCliPath;
}

export interface ResolvedCli {
  executable: EphemeralServerExecutable;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'built' | 'sdk-download';
  description: string;
}

/** Finds a CLI without downloading or building anything; undefined when there is none yet. */
export async function findInstalledCli(): Promise<ResolvedCli | undefined> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) throw new Error(`TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file`);
    return { executable: { type: 'existing-path', path: fromEnv }, source: 'TEMPORAL_CLI_PATH', description: fromEnv };
  }
  const fromPath = await onPath('temporal');
  if (fromPath) return { executable: { type: 'existing-path', path: fromPath }, source: 'PATH', description: fromPath };
  if (await isExecutable(builtCliPath)) return { executable: { type: 'existing-path', path: builtCliPath }, source: 'built', description: builtCliPath };
  return undefined;
}

const sdkDownload: EphemeralServerExecutable = { type: 'cached-download', downloadDir: path.join(TOOLS_DIR, 'sdk-download') };

/** Tries the SDK's download by starting (and stopping) a throwaway dev server with it. */
async function trySdkDownload(): Promise<void> {
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: sdkDownload, ip: '127.0.0.1' } });
  await env.teardown();
}

/** Finds a Temporal CLI, downloading or building one if needed. Throws an error naming every way to get one. */
export async function ensureTemporalCli(log: Log = (l) => console.error(l)): Promise<ResolvedCli> {
  const installed = await findInstalledCli();
  if (installed) return installed;
  const failures: string[] = [];
  try {
    log('no Temporal CLI on PATH: trying the Temporal SDK\'s cached download');
    await trySdkDownload();
    return { executable: sdkDownload, source: 'sdk-download', description: 'the SDK download cache in .tools/sdk-download' };
  } catch (err) {
    failures.push(`the SDK's cached download failed: ${firstLine(err)}`);
    log(`  the SDK's download is not reachable (${firstLine(err)}); building the pinned CLI instead`);
  }
  try {
    const built = await buildPinnedCli(log);
    return { executable: { type: 'existing-path', path: built }, source: 'built', description: built };
  } catch (err) {
    failures.push(`building with Go failed: ${firstLine(err)}`);
  }
  throw new Error(
    [
      'No Temporal CLI could be found, downloaded or built. Any one of these works:',
      '  1. install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on PATH, or set TEMPORAL_CLI_PATH to its path;',
      "  2. allow the Temporal SDK's cached download to reach the internet;",
      `  3. install Go (1.24 or newer) so that \`go install ${CLI_MODULE}@v${PINNED_CLI_VERSION}\` can build it into .tools/.`,
      'What was tried:',
      ...failures.map((f) => `  - ${f}`),
    ].join('\n'),
  );
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface LocalTemporal {
  /** host:port for TEMPORAL_ADDRESS */
  address: string;
  namespace: string;
  uiUrl: string;
  dbFile: string;
  environment: TestWorkflowEnvironment;
  close(): Promise<void>;
}

export async function startLocalTemporal(opts: { dbFile: string; namespace?: string; port?: number; uiPort?: number; log?: Log }): Promise<LocalTemporal> {
  const cli = await ensureTemporalCli(opts.log);
  await mkdir(path.dirname(opts.dbFile), { recursive: true });
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const environment = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.executable,
      ip: '127.0.0.1',
      port,
      ui: true,
      uiPort,
      namespace,
      dbFilename: opts.dbFile,
      searchAttributes: RETRAINING_SEARCH_ATTRIBUTES,
      log: { format: 'json', level: 'error' },
    },
  });
  return {
    address: `127.0.0.1:${port}`,
    namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    dbFile: opts.dbFile,
    environment,
    close: () => environment.teardown(),
  };
}

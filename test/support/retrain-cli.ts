// `retrain <args>` as an operator runs it: its own process, Temporal (and AWS) from the environment given.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface RetrainResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON a `--json` command printed on its last line of stdout. */
  json: <T = Record<string, unknown>>() => T;
}

export async function runRetrain(env: Record<string, string>, ...args: string[]): Promise<RetrainResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'retrain.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout.trim().split('\n').at(-1)!) as T };
}

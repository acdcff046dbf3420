// `npm run bench -- <suite>`: prints a table and writes bench/results/<suite>.json as
// {"suite", "figures": [{"name", "value", "unit", "target", "peer"}]}. Figures are medians of repeated runs.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Figure } from './figures';
import { concurrencyFigures } from './concurrency';
import { datasetSuite } from './dataset';
import { driftSuite } from './drift';
import { trainingSuite } from './training';

const ROOT = path.resolve(__dirname, '..');

const suites: Record<string, () => Promise<Figure[]>> = {
  training: trainingSuite,
  /** The training suite's 1,000-pipeline part alone (BENCH_PIPELINES sets how many). */
  concurrency: concurrencyFigures,
  /** Drift over captured traffic at 1M and 10M records, beside Python peers (numpy/scipy, Evidently): bench/README.md. */
  drift: driftSuite,
  /** The dataset merge of 1M and 10M parent rows with as many new ones, beside pandas: bench/README.md. */
  dataset: datasetSuite,
  /**
   * The demo pipeline (drift → dataset → train → evaluate → gate → promote) on the local stack, run 2 of
   * the demo. overheadSeconds = the run's wall time minus the time inside SageMaker jobs and the endpoint update.
   */
  async pipeline() {
    const repeats = Number(process.env.BENCH_REPEATS ?? 3);
    const runs: { overheadSeconds: number; historyEvents: number; wallSeconds: number; sageMakerSeconds: number }[] = [];
    for (let i = 0; i < repeats; i++) {
      process.stderr.write(`pipeline: demo run ${i + 1}/${repeats}\n`);
      runs.push(JSON.parse(lastLine(await runDemo())));
    }
    return [
      { name: 'overheadSeconds', value: median(runs.map((r) => r.overheadSeconds)), unit: 's', target: '<= 10', peer: null },
      { name: 'historyEvents', value: median(runs.map((r) => r.historyEvents)), unit: 'events', target: '<= 200', peer: null },
      { name: 'wallSeconds', value: median(runs.map((r) => r.wallSeconds)), unit: 's', target: null, peer: null },
      { name: 'sageMakerSeconds', value: median(runs.map((r) => r.sageMakerSeconds)), unit: 's', target: null, peer: null },
    ];
  },
};

function runDemo(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'demo.ts'), '--once', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`demo exited with ${code}`))));
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main() {
  const suite = process.argv[2];
  if (!suite || !suites[suite]) {
    console.error(`usage: npm run bench -- <suite>\nsuites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  const figures = await suites[suite]!();
  console.table(figures.map((f) => ({ figure: f.name, value: f.value, unit: f.unit, target: f.target ?? '', peer: f.peer ?? '', ...(f.note ? { note: f.note } : {}) })));
  await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const file = path.join(ROOT, 'bench', 'results', `${suite}.json`);
  await writeFile(file, `${JSON.stringify({ suite, figures }, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

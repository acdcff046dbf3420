// The package as npm would install it: `npm run build` compiles it into dist/, and plain Node (no tsx)
// loads every export by the package's own name, runs the `retrain` bin, finds the local images' compiled
// entry points, and Temporal's bundler takes a user's workflows module that re-exports ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** Plain Node: nothing the clone's tsx would register. */
const PLAIN_ENV = { ...process.env, NODE_OPTIONS: '' };

test('the built package loads, runs and bundles without tsx', { timeout: 240_000 }, async (t) => {
  await run(NPM, ['run', '--silent', 'build'], { cwd: ROOT, env: PLAIN_ENV });
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    main: string;
    types: string;
    bin: Record<string, string>;
    exports: Record<string, { types: string; default: string } | string>;
  };

  await t.test('every export and its types are in dist/', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      assert.ok(existsSync(path.join(ROOT, target.default)), `${subpath}: ${target.default} is missing`);
      assert.ok(existsSync(path.join(ROOT, target.types)), `${subpath}: ${target.types} is missing`);
    }
    assert.ok(existsSync(path.join(ROOT, pkg.main)) && existsSync(path.join(ROOT, pkg.types)));
  });

  await t.test('plain Node loads the root, ./workflows and ./local by the package name', async () => {
    const script = `
      const root = require(${JSON.stringify(pkg.name)});
      const workflows = require(${JSON.stringify(`${pkg.name}/workflows`)});
      const local = require(${JSON.stringify(`${pkg.name}/local`)});
      const own = require.resolve(${JSON.stringify(pkg.name)});
      console.log(JSON.stringify({
        own,
        plugin: typeof root.SageMakerRetrainingPlugin,
        activities: typeof root.createRetrainingActivities,
        parse: typeof root.parsePipelineConfig,
        pipeline: typeof workflows.retrainingPipeline,
        stack: typeof local.startLocalStack,
        tsx: Object.keys(require.cache).some((f) => f.includes('/node_modules/tsx/')),
      }));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT, env: PLAIN_ENV });
    const loaded = JSON.parse(stdout.trim()) as Record<string, string | boolean>;
    assert.equal(loaded.own, path.join(ROOT, 'dist', 'index.js'));
    assert.deepEqual(
      { plugin: loaded.plugin, activities: loaded.activities, parse: loaded.parse, pipeline: loaded.pipeline, stack: loaded.stack, tsx: loaded.tsx },
      { plugin: 'function', activities: 'function', parse: 'function', pipeline: 'function', stack: 'function', tsx: false },
    );
  });

  await t.test('the retrain bin runs as compiled JavaScript', async () => {
    const bin = path.join(ROOT, pkg.bin.retrain!);
    assert.match(await readFile(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const { stdout } = await run(process.execPath, [bin, '--help'], { cwd: ROOT, env: PLAIN_ENV });
    assert.match(stdout, /^Usage: retrain /);
    for (const command of ['start', 'status', 'approve', 'rollback', 'schedule']) assert.match(stdout, new RegExp(`\\n  ${command}\\b`));
  });

  await t.test("the local images' entry points are the compiled ones", async () => {
    const script = `
      const { BUILT_IN_IMAGES } = require(${JSON.stringify(path.join(ROOT, 'dist', 'local', 'sagemaker', 'images.js'))});
      console.log(JSON.stringify(Object.values(BUILT_IN_IMAGES).flatMap((image) => Object.values(image))));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT, env: PLAIN_ENV });
    const entries = JSON.parse(stdout.trim()) as string[];
    assert.ok(entries.length >= 5, `${entries.length} entry points`);
    for (const entry of entries) {
      assert.ok(entry.startsWith(path.join(ROOT, 'dist') + path.sep) && entry.endsWith('.js'), entry);
      assert.ok(existsSync(entry), `${entry} is missing`);
    }
  });

  await t.test("Temporal's bundler takes a workflows module that re-exports the package's", async () => {
    // Inside the package, so its own name resolves to it (a self-reference), as it would from node_modules.
    const dir = path.join(ROOT, 'test', 'artifacts', 'package-user');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const workflowsFile = path.join(dir, 'workflows.js');
    await writeFile(workflowsFile, `module.exports = require(${JSON.stringify(`${pkg.name}/workflows`)});\n`);
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowsFile, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    assert.match(code, /retrainingPipeline/);
    assert.ok(code.includes(path.join('dist', 'workflows')), 'the bundle holds the compiled workflows from dist/');
  });

  await t.test('npm pack ships dist/ and the docs, not the tests, the bench or the sources', async () => {
    const { stdout } = await run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, env: PLAIN_ENV, maxBuffer: 64 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const wanted of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/workflows/index.js', 'dist/cli/retrain.js', 'dist/local/algorithms/drift/profile.js']) {
      assert.ok(files.includes(wanted), `${wanted} is not packed`);
    }
    const stray = files.filter((f) => /^(test|bench|activities|workflows|domain|local|cli)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    assert.deepEqual(stray, []);
  });
});

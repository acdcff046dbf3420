// The lint rule that keeps workflows deterministic: I/O, Node built-ins, clocks and randomness outside
// the SDK are errors in workflows/ and domain/, and allowed elsewhere.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '..');
const eslint = new ESLint({ cwd: root });

async function problems(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('workflows may not import Node built-ins, AWS or activity code', async () => {
  for (const source of ["import { readFile } from 'node:fs/promises';", "import fs from 'fs';", "import { S3Client } from '@aws-sdk/client-s3';", "import { trainCandidate } from '../activities/training';"]) {
    const found = await problems(`${source}\nexport const x = 1;\n`, 'workflows/sample.ts');
    assert.ok(found.some((p) => p.includes('no-restricted-imports')), `${source} → ${found.join('; ')}`);
  }
});

test('workflows may not read the environment, use Math.random or setTimeout', async () => {
  const found = await problems('export const a = process.env.X;\nexport const b = Math.random();\nsetTimeout(() => {}, 1);\n', 'workflows/sample.ts');
  assert.ok(found.some((p) => p.includes("'process'")), found.join('; '));
  assert.ok(found.some((p) => p.includes('Math.random')), found.join('; '));
  assert.ok(found.some((p) => p.includes("'setTimeout'")), found.join('; '));
});

test('type-only imports of activities are allowed, and activities may do I/O', async () => {
  assert.deepEqual(await problems("import type { RetrainingActivities } from '../activities';\nexport type A = RetrainingActivities;\n", 'workflows/sample.ts'), []);
  assert.deepEqual(await problems("import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n", 'activities/sample.ts'), []);
});

test('the pure domain modules follow the same rule', async () => {
  const found = await problems("import { createHash } from 'node:crypto';\nexport const h = createHash;\n", 'domain/sample.ts');
  assert.ok(found.some((p) => p.includes('no-restricted-imports')), found.join('; '));
});

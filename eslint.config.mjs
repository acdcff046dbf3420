// Lint: TypeScript's recommended rules everywhere, plus the sandbox rule for workflows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code is replayed deterministically inside Temporal's sandbox. Anything that does I/O,
// reads the clock or talks to AWS belongs in an activity instead.
const bannedInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  '@aws-sdk/*',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
  'pino',
  'pino-pretty',
  's3rver',
  'tar',
  'csv-parse',
  'commander',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'bench/.peers/**', 'bench/results/**', 'dist/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: bannedInWorkflows.filter((m) => !m.includes('*')).map((name) => ({
            name,
            message: 'Workflows are deterministic orchestration: do I/O in an activity.',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: ['@aws-sdk/*', '../activities', '../activities/**', '../local/**', '../worker/**', '../cli/**'],
              // `import type` is erased at build time, so a workflow may name activity types.
              allowTypeImports: true,
              message: 'Workflows and pure domain modules may import only workflow-safe modules (workflows/, domain/).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a workflow timer.' },
        { name: 'fetch', message: 'Do I/O in an activity.' },
        { name: 'process', message: 'Workflows must not read the environment.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Randomness outside the SDK breaks replay.' },
      ],
    },
  },
);

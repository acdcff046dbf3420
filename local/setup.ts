// One-time set-up for tests and local mode: make sure a Temporal CLI is there (building the pinned
// one if nothing else is), so the first test does not spend minutes compiling.
import { ensureTemporalCli } from './temporal';

ensureTemporalCli((line) => console.error(line)).then(
  (cli) => console.error(`Temporal CLI: ${cli.description} (${cli.source})`),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

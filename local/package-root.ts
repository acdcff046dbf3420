// Where this package is, whether it runs from its TypeScript sources (a clone, through tsx) or compiled
// into dist/ (an installed package): paths to its own files are found from here, never from the cwd.
import { existsSync } from 'node:fs';
import path from 'node:path';

function nearestPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${from} or any folder above it`);
  }
}

/** The folder holding this package's package.json. */
export const PACKAGE_ROOT = nearestPackageRoot(__dirname);

/** `.ts` from the sources, `.js` compiled: the extension of this package's own entry points. */
export const OWN_EXTENSION = path.extname(__filename);

/** One of this package's own modules by its path from the sources' root, e.g. `local/algorithms/drift/profile`. */
export function ownModule(fromSourceRoot: string): string {
  return path.join(__dirname, '..', `${fromSourceRoot}${OWN_EXTENSION}`);
}

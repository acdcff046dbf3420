// `retrain start --set key.path=value`: one-off changes to a pipeline config, applied to the file's
// JSON before the config schema sees it. A value is read as JSON when it parses (5, true, "x", [1,2],
// {"a":1}) and as a string otherwise; a path the schema does not know is refused, not silently dropped.
import { InvalidConfigError, parsePipelineConfig, type PipelineConfig, type PipelineConfigInput } from './config';

export interface ConfigOverride {
  path: string[];
  value: unknown;
  /** As the operator wrote it, for messages and the run's details. */
  text: string;
}

/** "training.hyperparameters.epochs=5" → { path: [training, hyperparameters, epochs], value: 5 }. */
export function readOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || !key) throw new InvalidConfigError([{ path: text, message: 'a --set is key.path=value, e.g. training.hyperparameters.epochs=5' }], '--set');
  const path = key.split('.');
  if (path.some((p) => !p)) throw new InvalidConfigError([{ path: key, message: 'has an empty segment; write key.path with single dots' }], '--set');
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare word is a string
  }
  return { path, value, text };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(root: unknown, path: string[]): unknown {
  let at = root;
  for (const key of path) at = Array.isArray(at) ? at[Number(key)] : isObject(at) ? at[key] : undefined;
  return at;
}

/**
 * The config with every override applied, validated by the pipeline config schema. Throws
 * InvalidConfigError naming the bad path: one that crosses a value that is not an object, one the schema
 * does not know (it would be stripped), or a value the schema refuses.
 */
export function applyConfigOverrides(config: PipelineConfigInput, overrides: ConfigOverride[], where = 'pipeline config'): { input: PipelineConfigInput; parsed: PipelineConfig } {
  const input = structuredClone(config) as unknown as Record<string, unknown>;
  for (const { path, value } of overrides) {
    let at: unknown = input;
    path.slice(0, -1).forEach((key, i) => {
      const container = at as Record<string, unknown> | unknown[];
      let next = Array.isArray(container) ? container[Number(key)] : container[key];
      if (next === undefined) {
        next = {};
        if (Array.isArray(container)) throw new InvalidConfigError([{ path: path.slice(0, i + 1).join('.'), message: `there is no element ${key}` }], `--set ${path.join('.')}`);
        container[key] = next;
      }
      if (typeof next !== 'object' || next === null) {
        throw new InvalidConfigError([{ path: path.slice(0, i + 1).join('.'), message: `is ${JSON.stringify(next)}, not an object, so it has no field ${path[i + 1]}` }], `--set ${path.join('.')}`);
      }
      at = next;
    });
    const last = path[path.length - 1];
    if (Array.isArray(at)) at[Number(last)] = value;
    else (at as Record<string, unknown>)[last] = value;
  }
  const parsed = parsePipelineConfig(input, `${where} with --set`);
  const unknown = overrides.filter((o) => valueAt(parsed, o.path) === undefined);
  if (unknown.length) {
    throw new InvalidConfigError(
      unknown.map((o) => ({ path: o.path.join('.'), message: 'is not a field of the pipeline config (see PipelineConfigSchema in domain/config.ts)' })),
      `${where} with --set`,
    );
  }
  return { input: input as unknown as PipelineConfigInput, parsed };
}

// Deterministic SageMaker resource names and idempotency tokens. A retried activity derives the same
// name, so "already exists" means "our earlier attempt got through", never someone else's job.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { SAGEMAKER_NAME } from './config';

export type SageMakerResourceKind = 'train' | 'eval' | 'model' | 'config' | 'drift' | 'dataset';

export interface SageMakerNameParts {
  model: string;
  kind: SageMakerResourceKind;
  workflowId: string;
  runId: string;
  /** Training attempts after a failure or a stop get their own job. */
  attempt?: number;
}

const MAX_NAME_LENGTH = 63;
/** 48 bits: a collision needs ~16 million runs of the same model and kind. */
const HASH_HEX_DIGITS = 12;

function digestOf(fields: string[]): string {
  // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
  return bytesToHex(sha256(utf8ToBytes(fields.map((f) => `${f.length}:${f}`).join('|'))));
}

/** The model name as SageMaker allows it: letters, digits and inner hyphens. */
function readablePrefix(model: string, budget: number): string {
  const cleaned = model.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  return cleaned.slice(0, budget).replace(/-+$/, '');
}

/**
 * `{model prefix}-{kind}-{12 hex}[-a{attempt}]`, at most 63 characters and always matching SageMaker's
 * name pattern. The hash covers the model as well as workflowId and runId, so truncating a long model
 * name to fit cannot make two runs' names collide.
 */
export function sageMakerName(parts: SageMakerNameParts): string {
  const { model, kind, workflowId, runId, attempt } = parts;
  if (attempt !== undefined && !(Number.isSafeInteger(attempt) && attempt >= 0)) {
    throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  }
  const hash = digestOf([model, workflowId, runId]).slice(0, HASH_HEX_DIGITS);
  const suffix = `-${kind}-${hash}${attempt === undefined ? '' : `-a${attempt}`}`;
  const name = `${readablePrefix(model, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
  if (!SAGEMAKER_NAME.test(name)) throw new Error(`derived SageMaker name "${name}" does not match ${SAGEMAKER_NAME}`);
  return name;
}

/** The suffix sageMakerName gives every name: `-{kind}-{12 hex}[-a{attempt}]`. */
const PIPELINE_SUFFIX = new RegExp(`-(train|eval|model|config)-[0-9a-f]{${HASH_HEX_DIGITS}}(-a\\d+)?$`);

/**
 * Whether a name could be one sageMakerName derived: a cheap test that spares foreign jobs' events a
 * tag lookup. It cannot say which run the name belongs to (the hash is one-way); tags do that.
 */
export function isPipelineJobName(name: string): boolean {
  return PIPELINE_SUFFIX.test(name);
}

/**
 * An idempotency token for CreateModelPackage (ClientToken: 1–36 of [a-zA-Z0-9-]), shaped like a UUID.
 * `purpose` separates tokens for different calls made by the same run.
 */
export function clientToken(parts: { model: string; workflowId: string; runId: string; purpose?: string }): string {
  const hex = digestOf([parts.model, parts.workflowId, parts.runId, parts.purpose ?? 'register-model-package']);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

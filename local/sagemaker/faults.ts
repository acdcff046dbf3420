// Deterministic fault injection and simulated time. A job opts in through the reserved tag
// `local-sagemaker:faults` (or the server through `trainingFaults`), so a pipeline's retry logic can
// meet every failure class on demand, and a time scale lets a "6-hour" job finish in seconds.
import { seededRandom } from '../../domain/seeded-random';
import { SageMakerServiceError } from './errors';

export const FAULTS_TAG = 'local-sagemaker:faults';

/** SageMaker's FailureReason texts for the failures a fault can cause. */
export const CAPACITY_ERROR_REASON =
  'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.';
export const INTERNAL_ERROR_REASON = 'InternalServerError: We encountered an internal error. Please try again.';
export const ALGORITHM_ERROR_REASON = 'AlgorithmError: See job logs for more information';

export type FaultKind =
  | 'spot-interruption'
  | 'max-wait-exceeded'
  | 'max-runtime-exceeded'
  | 'capacity-error'
  | 'internal-error'
  | 'algorithm-error'
  | 'slow';

export interface Fault {
  kind: FaultKind;
  /** Simulated seconds: into Training for timed faults, extra Downloading time for `slow`. */
  seconds?: number;
  /** `xN`: only the first N jobs carrying this exact fault (per scope) get it. */
  times?: number;
  /** The fault as written, which with the scope is what `xN` counts. */
  spec: string;
}

/** Whether a fault takes `@<seconds>`: required, optional or not at all. */
const SECONDS: Record<FaultKind, 'required' | 'optional' | 'none'> = {
  'spot-interruption': 'required',
  'max-wait-exceeded': 'required',
  'max-runtime-exceeded': 'required',
  slow: 'required',
  'capacity-error': 'none',
  'internal-error': 'optional',
  'algorithm-error': 'optional',
};

const FAULT_SYNTAX = /^([a-z-]+)(?:@(\d+(?:\.\d+)?))?(?:\s*x(\d+))?$/;

export class FaultSyntaxError extends Error {}

/** Parses `fault[@seconds][ xN];...`; throws FaultSyntaxError naming the first bad fault. */
export function parseFaults(value: string, allowed: readonly FaultKind[] = Object.keys(SECONDS) as FaultKind[]): Fault[] {
  const faults: Fault[] = [];
  for (const raw of value.split(';')) {
    const spec = raw.trim().replace(/\s+/g, ' ');
    if (!spec) continue;
    const match = FAULT_SYNTAX.exec(spec);
    const kind = match?.[1] as FaultKind | undefined;
    if (!match || !kind || !(kind in SECONDS)) {
      throw new FaultSyntaxError(`unknown fault '${spec}'; expected one of ${Object.keys(SECONDS).join(', ')}, as name[@seconds][ xN]`);
    }
    if (!allowed.includes(kind)) throw new FaultSyntaxError(`fault '${spec}' does not apply to this kind of job`);
    // A crash needs a container to kill: without a time, algorithm-error hits as Training begins.
    const seconds = match[2] === undefined ? (kind === 'algorithm-error' ? 0 : undefined) : Number(match[2]);
    if (SECONDS[kind] === 'required' && seconds === undefined) throw new FaultSyntaxError(`fault '${spec}' needs @<seconds>`);
    if (SECONDS[kind] === 'none' && seconds !== undefined) throw new FaultSyntaxError(`fault '${spec}' takes no @<seconds>`);
    const times = match[3] === undefined ? undefined : Number(match[3]);
    if (times === 0) throw new FaultSyntaxError(`fault '${spec}' has x0; use x1 or more`);
    faults.push({ kind, seconds, times, spec });
  }
  return faults;
}

/**
 * The request as SageMaker's constraint check should see it. SageMaker's tag-value pattern has no
 * `;`, so the reserved tag's separators are checked as spaces; every other rule still applies. The
 * tag is local-only, and the real service would reject it, which keeps it from slipping into AWS.
 */
export function withFaultTagSeparatorsAllowed<T extends { Tags?: { Key?: string; Value?: string }[] }>(input: T): T {
  if (!Array.isArray(input.Tags) || !input.Tags.some((t) => t?.Key === FAULTS_TAG && typeof t.Value === 'string')) return input;
  return {
    ...input,
    Tags: input.Tags.map((t) => (t?.Key === FAULTS_TAG && typeof t.Value === 'string' ? { ...t, Value: t.Value.replaceAll(';', ' ') } : t)),
  };
}

/** The tag's faults, or a ValidationException naming the tag and the bad fault. */
export function faultsFromTags(tags: { Key?: string; Value?: string }[] | undefined, allowed?: readonly FaultKind[]): { value: string; faults: Fault[] } | undefined {
  const tag = tags?.find((t) => t.Key === FAULTS_TAG);
  if (!tag) return undefined;
  try {
    return { value: tag.Value ?? '', faults: parseFaults(tag.Value ?? '', allowed) };
  } catch (err) {
    if (!(err instanceof FaultSyntaxError)) throw err;
    throw new SageMakerServiceError('ValidationException', `Invalid value for tag ${FAULTS_TAG}: ${err.message}.`);
  }
}

/**
 * Counts `xN` faults per server, per (fault string, scope), where the scope is the job's checkpoint
 * URI or, without one, the fault list. Retries of one pipeline run share a checkpoint URI, so they
 * meet the fault N times and then run normally.
 */
export class FaultCounter {
  private readonly seen = new Map<string, number>();

  /** The faults this job actually gets; consumes one use of each counted fault. */
  admit(faults: Fault[], scope: string): Fault[] {
    return faults.filter((fault) => {
      if (fault.times === undefined) return true;
      const key = `${fault.spec}\u0000${scope}`;
      const used = this.seen.get(key) ?? 0;
      this.seen.set(key, used + 1);
      return used < fault.times;
    });
  }
}

/** Simulated seconds per real second; converts in both directions. */
export class TimeScale {
  constructor(readonly scale: number) {}

  /** Real milliseconds for simulated seconds, kept inside what setTimeout accepts. */
  realMs(simSeconds: number): number {
    return Math.min(2 ** 31 - 1, Math.max(0, (simSeconds * 1000) / this.scale));
  }

  /** A job's simulated clock: real at its creation, then running `scale` times faster. */
  jobNow(epoch: Date): Date {
    if (this.scale === 1) return new Date();
    return new Date(epoch.getTime() + (Date.now() - epoch.getTime()) * this.scale);
  }
}

export interface ControlPlaneFaults {
  throttleRate?: number;
  internalErrorRate?: number;
  seed?: number;
}

/** Picks, reproducibly from the seed, which control-plane calls fail. */
export function controlPlaneFaultPicker(faults: ControlPlaneFaults | undefined): (() => SageMakerServiceError | undefined) | undefined {
  const throttleRate = faults?.throttleRate ?? 0;
  const internalErrorRate = faults?.internalErrorRate ?? 0;
  if (throttleRate <= 0 && internalErrorRate <= 0) return undefined;
  const random = seededRandom(faults?.seed ?? 1);
  return () => {
    const draw = random();
    if (draw < throttleRate) return new SageMakerServiceError('ThrottlingException', 'Rate exceeded');
    if (draw < throttleRate + internalErrorRate) {
      return new SageMakerServiceError('InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500);
    }
    return undefined;
  };
}

// ---- Hosting faults ---------------------------------------------------------------------------

/** A CloudWatch alarm that goes into ALARM this many simulated seconds after traffic starts moving. */
export interface AlarmFault {
  alarmName: string;
  seconds: number;
}

/**
 * Faults for endpoints, from the reserved tag on CreateModel (or CreateEndpointConfig, for every model
 * it deploys): `unhealthy` (the containers never pass /ping), `invocation-errors` (/invocations answers
 * 500) and `alarm:<AlarmName>[@<seconds>]`.
 */
export interface HostingFaults {
  unhealthy: boolean;
  invocationErrors: boolean;
  alarms: AlarmFault[];
}

const HOSTING_FAULT_NAMES = ['unhealthy', 'invocation-errors', 'alarm:<AlarmName>[@<seconds>]'];

export function parseHostingFaults(value: string): HostingFaults {
  const faults: HostingFaults = { unhealthy: false, invocationErrors: false, alarms: [] };
  for (const raw of value.split(';')) {
    const spec = raw.trim();
    if (!spec) continue;
    if (spec === 'unhealthy') faults.unhealthy = true;
    else if (spec === 'invocation-errors') faults.invocationErrors = true;
    else if (spec.startsWith('alarm:')) {
      const body = spec.slice('alarm:'.length);
      const at = /@(\d+(?:\.\d+)?)$/.exec(body);
      const alarmName = (at ? body.slice(0, at.index) : body).trim();
      if (!alarmName) throw new FaultSyntaxError(`fault '${spec}' names no alarm; expected alarm:<AlarmName>[@<seconds>]`);
      faults.alarms.push({ alarmName, seconds: at ? Number(at[1]) : 0 });
    } else {
      throw new FaultSyntaxError(`unknown fault '${spec}'; expected one of ${HOSTING_FAULT_NAMES.join(', ')}`);
    }
  }
  return faults;
}

/** The tag's hosting faults, or a ValidationException naming the tag and the bad fault. */
export function hostingFaultsFromTags(tags: { Key?: string; Value?: string }[] | undefined): HostingFaults | undefined {
  const tag = tags?.find((t) => t.Key === FAULTS_TAG);
  if (!tag) return undefined;
  try {
    return parseHostingFaults(tag.Value ?? '');
  } catch (err) {
    if (!(err instanceof FaultSyntaxError)) throw err;
    throw new SageMakerServiceError('ValidationException', `Invalid value for tag ${FAULTS_TAG}: ${err.message}.`);
  }
}

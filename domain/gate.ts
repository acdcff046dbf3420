// The promotion gate: does the candidate beat the champion on the holdout metric by enough?
// Workflows call this, so it never throws: anything it cannot judge is a reject with a reason.
import { isErrorMetric, type MetricName } from './config';

export type { MetricName };
export type Metrics = Partial<Record<MetricName, number>>;

export interface GatePolicy {
  metric: MetricName;
  /** The candidate must beat the champion by at least this much, in metric units (0: a tie promotes). */
  minImprovement: number;
  /** An absolute floor (ceiling for error metrics) the candidate must reach, champion or not. */
  threshold?: number;
}

export interface GateDecision {
  decision: 'promote' | 'reject';
  metric: MetricName;
  /** NaN (null once serialised) when the candidate has no usable value. */
  candidate: number;
  champion: number | null;
  /** How much better the candidate is (positive = better, whichever direction the metric runs). */
  improvement: number | null;
  /** One sentence per check, with the numbers: the failed checks first, then the passed ones. */
  reasons: string[];
}

/** Differences like 0.3 − 0.28 come out a hair under 0.02; a bar met to within rounding is met. */
const ROUNDING_ALLOWANCE = 1e-12;

/** Six significant digits keeps 0.020000000000000018 from reaching a human. */
function show(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function unusable(value: unknown): string | null {
  if (value === undefined) return 'is missing';
  if (typeof value !== 'number' || !Number.isFinite(value)) return `is ${String(value)}, not a finite number`;
  return null;
}

export function decideGate(input: { candidate: Metrics; champion: Metrics | null; policy: GatePolicy }): GateDecision {
  const { candidate: candidateMetrics, champion: championMetrics, policy } = input;
  const { metric, minImprovement, threshold } = policy;
  const lowerIsBetter = isErrorMetric(metric);
  const direction = lowerIsBetter ? 'lower is better' : 'higher is better';
  const failed: string[] = [];
  const passed: string[] = [];
  const reject = (reason: string) => failed.push(reason);

  if (!(Number.isFinite(minImprovement) && minImprovement >= 0)) reject(`The gate policy's minImprovement is ${minImprovement}; it must be a finite number ≥ 0.`);
  if (threshold !== undefined && !Number.isFinite(threshold)) reject(`The gate policy's threshold is ${threshold}; it must be a finite number.`);

  const candidateValue = candidateMetrics[metric];
  const candidateProblem = unusable(candidateValue);
  const candidate = candidateProblem ? NaN : (candidateValue as number);
  if (candidateProblem) reject(`The candidate's ${metric} ${candidateProblem}, so it cannot be judged.`);

  let champion: number | null = null;
  let improvement: number | null = null;
  if (championMetrics === null) {
    if (!candidateProblem) {
      passed.push(
        threshold === undefined
          ? `There is no champion yet and no threshold, so the candidate (${metric} ${show(candidate)}) is the first model.`
          : `There is no champion yet, so the candidate (${metric} ${show(candidate)}) is judged on the threshold alone.`,
      );
    }
  } else {
    const championValue = championMetrics[metric];
    const championProblem = unusable(championValue);
    if (championProblem) {
      reject(`The champion's ${metric} ${championProblem}, so the candidate cannot be compared with it; re-evaluate the champion on the holdout.`);
    } else {
      champion = championValue as number;
      if (!candidateProblem) {
        improvement = lowerIsBetter ? champion - candidate : candidate - champion;
        const comparison = `${metric} ${show(candidate)} against the champion's ${show(champion)} (${direction})`;
        if (improvement >= minImprovement - ROUNDING_ALLOWANCE) {
          passed.push(`The candidate's ${comparison} is an improvement of ${show(improvement)}, meeting the required ${show(minImprovement)}.`);
        } else if (improvement >= 0) {
          reject(`The candidate's ${comparison} is an improvement of only ${show(improvement)}; the policy requires ${show(minImprovement)}.`);
        } else {
          reject(`The candidate's ${comparison} is worse by ${show(-improvement)}; the policy requires an improvement of ${show(minImprovement)}.`);
        }
      }
    }
  }

  if (threshold !== undefined && Number.isFinite(threshold) && !candidateProblem) {
    const bound = lowerIsBetter ? 'at most' : 'at least';
    const meets = lowerIsBetter ? candidate <= threshold + ROUNDING_ALLOWANCE : candidate >= threshold - ROUNDING_ALLOWANCE;
    if (meets) passed.push(`The candidate's ${metric} ${show(candidate)} meets the threshold (${bound} ${show(threshold)}).`);
    else reject(`The candidate's ${metric} ${show(candidate)} misses the threshold (${bound} ${show(threshold)}).`);
  }

  return { decision: failed.length > 0 ? 'reject' : 'promote', metric, candidate, champion, improvement, reasons: [...failed, ...passed] };
}

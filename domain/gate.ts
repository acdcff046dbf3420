// The promotion gate: does the candidate earn its place? Thresholds on any metric, a minimum improvement
// over the champion (absolute or relative), a tolerance for regression on any slice, and optionally a
// significance test on the paired holdout predictions (docs/gate.md). Workflows call this, so it is pure,
// deterministic and never throws: anything it cannot judge is a reject with a reason.
import { isErrorMetric, type GateSettings, type MetricName, type SummaryMetricName } from './config';
import { mcnemar, type BootstrapInterval, type DiscordantPairs } from './significance';

export type { MetricName, SummaryMetricName };
/** An evaluation summary: the metrics of one model on the holdout or a slice of it. */
export type Metrics = Partial<Record<SummaryMetricName, number>>;

/** One slice of the holdout, scored for both models (evaluation.json's `slices`). */
export interface SliceMetrics {
  feature: string;
  /** The value or bucket: "2", "[0, 10)", "other (7 values)". */
  slice: string;
  /** How a person names it: "cat_0 = 2", "num_3 in [0, 10)". */
  name: string;
  rows: number;
  /** Null when the slice has no rows. */
  candidate: Metrics | null;
  /** Null without a champion, or when the slice has no rows. */
  champion: Metrics | null;
}

/** What the evaluation computed on the paired predictions of both models (null without a champion). */
export interface PairedStatistics {
  rows: number;
  /** McNemar's b and c; null for a regressor. */
  discordantPairs: DiscordantPairs | null;
  /** The percentile interval of the candidate's improvement on `metric` (positive = better); null where undefined. */
  bootstrap: (BootstrapInterval & { metric: MetricName }) | null;
}

export type SignificancePolicy = { test: 'mcnemar'; alpha: number; exact?: boolean } | { test: 'paired-bootstrap'; alpha: number };

export interface GatePolicy {
  /** The primary metric: improvement, slices and significance are judged on it. */
  metric: MetricName;
  /** A number is absolute, in metric units; `relative` is a share of the champion's value. Both given: both must hold. */
  minImprovement: number | { absolute?: number; relative?: number };
  /** The legacy single bound on the primary metric: a floor, or a ceiling for error metrics. */
  threshold?: number;
  /** Bounds on any summary metric. */
  thresholds?: Partial<Record<SummaryMetricName, { min?: number; max?: number }>>;
  /** How much worse than the champion the candidate may be on a slice; unset: slices are reported, not gated. */
  sliceTolerance?: number;
  /** Slices with fewer rows are reported, not gated (default 30). */
  minSliceRows?: number;
  significance?: SignificancePolicy;
}

export type GateCheckName = 'policy' | 'candidate' | 'champion' | 'first-model' | 'improvement' | 'relative-improvement' | 'threshold' | 'slice' | 'significance';

/** One check of the gate, structured; `reason` says the same as a sentence with the numbers. */
export interface GateCheck {
  check: GateCheckName;
  /** not-gated: reported for the reader, not counted (a small slice, slices without a tolerance). */
  outcome: 'failed' | 'passed' | 'not-gated';
  reason: string;
  metric?: string;
  candidate?: number | null;
  champion?: number | null;
  /** The bound the candidate was held to: a minimum improvement, a threshold, a slice's worst allowed value. */
  required?: number | null;
  slice?: { feature: string; slice: string; name: string; rows: number };
  pValue?: number;
  interval?: { lower: number; upper: number; confidence: number };
}

export interface GateDecision {
  decision: 'promote' | 'reject';
  metric: MetricName;
  /** NaN (null once serialised) when the candidate has no usable value. */
  candidate: number;
  champion: number | null;
  /** How much better the candidate is (positive = better, whichever direction the metric runs). */
  improvement: number | null;
  /** improvement / |champion|; null without a champion or when the champion's value is 0. */
  relativeImprovement: number | null;
  /** One sentence per check, with the numbers: the failed checks first, then the passed ones, then what was not gated. */
  reasons: string[];
  /** The same checks, structured, in the same order as `reasons`. */
  checks: GateCheck[];
}

export const DEFAULT_MIN_SLICE_ROWS = 30;

/** The policy a pipeline config asks for. */
export function gatePolicy(config: { evaluation: { metric: MetricName }; gate: GateSettings }): GatePolicy {
  const { minImprovement, threshold, thresholds, sliceTolerance, minSliceRows, significance } = config.gate;
  return { metric: config.evaluation.metric, minImprovement, threshold, thresholds, sliceTolerance, minSliceRows, significance };
}

/** Differences like 0.3 − 0.28 come out a hair under 0.02; a bar met to within rounding is met. */
const ROUNDING_ALLOWANCE = 1e-12;

/** Six significant digits keeps 0.020000000000000018 from reaching a human. */
function show(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function percent(share: number): string {
  return `${show(share * 100)}%`;
}

function unusable(value: unknown): string | null {
  if (value === undefined) return 'is missing';
  if (typeof value !== 'number' || !Number.isFinite(value)) return `is ${String(value)}, not a finite number`;
  return null;
}

function badNumber(value: unknown, atLeast?: number): boolean {
  return typeof value !== 'number' || !Number.isFinite(value) || (atLeast !== undefined && value < atLeast);
}

export interface GateInput {
  candidate: Metrics;
  champion: Metrics | null;
  /** Per-slice metrics of both models; absent or empty when no slices were configured. */
  slices?: readonly SliceMetrics[];
  /** Paired statistics; null or absent without a champion. */
  paired?: PairedStatistics | null;
  policy: GatePolicy;
}

export function decideGate(input: GateInput): GateDecision {
  const { candidate: candidateMetrics, champion: championMetrics } = input;
  // Activities' results and configs cross JSON and versions: whatever arrives is judged, never thrown on.
  const policyGiven = !!input.policy && typeof input.policy === 'object';
  const policy: GatePolicy = policyGiven ? input.policy : { metric: 'accuracy', minImprovement: 0 };
  const slices = Array.isArray(input.slices) ? input.slices.filter((s): s is SliceMetrics => !!s && typeof s === 'object') : [];
  const { metric } = policy;
  const lowerIsBetter = isErrorMetric(metric);
  const direction = lowerIsBetter ? 'lower is better' : 'higher is better';
  const checks: GateCheck[] = [];
  const add = (check: GateCheck) => checks.push(check);
  const failPolicy = (reason: string) => add({ check: 'policy', outcome: 'failed', reason });
  if (!policyGiven) failPolicy(`The gate was given no policy (${String(input.policy)}), so it cannot judge the candidate.`);

  // The policy itself: a config that slipped past validation must reject, not throw.
  const absolute = typeof policy.minImprovement === 'number' ? policy.minImprovement : (policy.minImprovement?.absolute ?? 0);
  const relative = typeof policy.minImprovement === 'object' && policy.minImprovement !== null ? policy.minImprovement.relative : undefined;
  if (badNumber(absolute, 0)) failPolicy(`The gate policy's minImprovement is ${absolute}; it must be a finite number ≥ 0.`);
  if (relative !== undefined && badNumber(relative, 0)) failPolicy(`The gate policy's relative minImprovement is ${relative}; it must be a finite number ≥ 0.`);
  if (policy.threshold !== undefined && badNumber(policy.threshold)) failPolicy(`The gate policy's threshold is ${policy.threshold}; it must be a finite number.`);
  const bounds = boundsOf(policy, lowerIsBetter, failPolicy);
  if (policy.sliceTolerance !== undefined && badNumber(policy.sliceTolerance, 0)) failPolicy(`The gate policy's sliceTolerance is ${policy.sliceTolerance}; it must be a finite number ≥ 0.`);
  const minSliceRows = policy.minSliceRows ?? DEFAULT_MIN_SLICE_ROWS;
  if (!Number.isInteger(minSliceRows) || minSliceRows < 1) failPolicy(`The gate policy's minSliceRows is ${minSliceRows}; it must be a whole number ≥ 1.`);
  const significance = policy.significance;
  if (significance) {
    if (significance.test !== 'mcnemar' && significance.test !== 'paired-bootstrap') failPolicy(`The gate policy's significance test is "${String((significance as { test: unknown }).test)}"; it must be mcnemar or paired-bootstrap.`);
    if (!(typeof significance.alpha === 'number' && significance.alpha > 0 && significance.alpha < 1)) failPolicy(`The gate policy's significance alpha is ${significance.alpha}; it must lie strictly between 0 and 1.`);
  }
  const policyUsable = checks.length === 0;

  const candidateValue = candidateMetrics?.[metric];
  const candidateProblem = unusable(candidateValue);
  const candidate = candidateProblem ? NaN : (candidateValue as number);
  if (candidateProblem) add({ check: 'candidate', outcome: 'failed', metric, reason: `The candidate's ${metric} ${candidateProblem}, so it cannot be judged.` });

  let champion: number | null = null;
  let improvement: number | null = null;
  let relativeImprovement: number | null = null;
  if (championMetrics === null || championMetrics === undefined) {
    if (!candidateProblem) {
      const judged = bounds.length === 0 ? ' and no threshold, so the candidate' : ', so the candidate';
      const tail = bounds.length === 0 ? 'is the first model' : `is judged on the ${bounds.length === 1 ? 'threshold' : 'thresholds'} alone`;
      const skipped = [policy.sliceTolerance !== undefined && slices.length > 0 ? 'slices' : null, significance ? 'significance' : null].filter(Boolean);
      const note = skipped.length > 0 ? ` (${skipped.join(' and ')} need a champion to compare with)` : '';
      add({ check: 'first-model', outcome: 'passed', metric, candidate, reason: `There is no champion yet${judged} (${metric} ${show(candidate)}) ${tail}${note}.` });
    }
  } else {
    const championValue = championMetrics[metric];
    const championProblem = unusable(championValue);
    if (championProblem) {
      add({ check: 'champion', outcome: 'failed', metric, reason: `The champion's ${metric} ${championProblem}, so the candidate cannot be compared with it; re-evaluate the champion on the holdout.` });
    } else {
      champion = championValue as number;
      if (!candidateProblem) {
        improvement = lowerIsBetter ? champion - candidate : candidate - champion;
        relativeImprovement = champion === 0 ? null : improvement / Math.abs(champion);
        if (!badNumber(absolute, 0)) checkImprovement(add, { metric, candidate, champion, improvement, required: absolute, direction });
        if (relative !== undefined && !badNumber(relative, 0)) checkRelativeImprovement(add, { metric, candidate, champion, relativeImprovement, required: relative });
      }
    }
  }

  for (const bound of bounds) checkBound(add, bound, candidateMetrics);

  if (championMetrics) {
    if (policyUsable) checkSlices(add, { slices, metric, lowerIsBetter, tolerance: policy.sliceTolerance, minSliceRows });
    if (significance && policyUsable) checkSignificance(add, { significance, paired: input.paired ?? null, metric, lowerIsBetter });
  }

  const order = { failed: 0, passed: 1, 'not-gated': 2 } as const;
  const ordered = checks.map((c, i) => ({ c, i })).sort((a, b) => order[a.c.outcome] - order[b.c.outcome] || a.i - b.i).map(({ c }) => c);
  return {
    decision: ordered.some((c) => c.outcome === 'failed') ? 'reject' : 'promote',
    metric,
    candidate,
    champion,
    improvement,
    relativeImprovement,
    reasons: ordered.map((c) => c.reason),
    checks: ordered,
  };
}

type Add = (check: GateCheck) => void;

function checkImprovement(add: Add, a: { metric: MetricName; candidate: number; champion: number; improvement: number; required: number; direction: string }): void {
  const { metric, candidate, champion, improvement, required } = a;
  const comparison = `${metric} ${show(candidate)} against the champion's ${show(champion)} (${a.direction})`;
  const base = { check: 'improvement' as const, metric, candidate, champion, required };
  if (improvement >= required - ROUNDING_ALLOWANCE) {
    add({ ...base, outcome: 'passed', reason: `The candidate's ${comparison} is an improvement of ${show(improvement)}, meeting the required ${show(required)}.` });
  } else if (improvement >= 0) {
    add({ ...base, outcome: 'failed', reason: `The candidate's ${comparison} is an improvement of only ${show(improvement)}; the policy requires ${show(required)}.` });
  } else {
    add({ ...base, outcome: 'failed', reason: `The candidate's ${comparison} is worse by ${show(-improvement)}; the policy requires an improvement of ${show(required)}.` });
  }
}

function checkRelativeImprovement(add: Add, a: { metric: MetricName; candidate: number; champion: number; relativeImprovement: number | null; required: number }): void {
  const { metric, candidate, champion, relativeImprovement, required } = a;
  const base = { check: 'relative-improvement' as const, metric, candidate, champion, required };
  if (relativeImprovement === null) {
    add({ ...base, outcome: 'failed', reason: `The champion's ${metric} is 0, so a relative improvement of ${percent(required)} cannot be measured against it.` });
    return;
  }
  const comparison = `The candidate's ${metric} ${show(candidate)} against the champion's ${show(champion)}`;
  if (relativeImprovement >= required - ROUNDING_ALLOWANCE) {
    add({ ...base, outcome: 'passed', reason: `${comparison} is ${percent(relativeImprovement)} better, meeting the required relative improvement of ${percent(required)}.` });
  } else if (relativeImprovement >= 0) {
    add({ ...base, outcome: 'failed', reason: `${comparison} is only ${percent(relativeImprovement)} better; the policy requires ${percent(required)}.` });
  } else {
    add({ ...base, outcome: 'failed', reason: `${comparison} is ${percent(-relativeImprovement)} worse; the policy requires a relative improvement of ${percent(required)}.` });
  }
}

interface Bound {
  metric: SummaryMetricName;
  kind: 'min' | 'max';
  value: number;
}

/** Every bound the policy sets, the legacy threshold first; a bound that is not a finite number fails the policy instead. */
function boundsOf(policy: GatePolicy, lowerIsBetter: boolean, failPolicy: (reason: string) => void): Bound[] {
  const bounds: Bound[] = [];
  if (policy.threshold !== undefined && !badNumber(policy.threshold)) bounds.push({ metric: policy.metric, kind: lowerIsBetter ? 'max' : 'min', value: policy.threshold });
  for (const [metric, bound] of Object.entries(policy.thresholds ?? {}) as [SummaryMetricName, { min?: number; max?: number } | undefined][]) {
    if (!bound || typeof bound !== 'object' || (bound.min === undefined && bound.max === undefined)) {
      failPolicy(`The gate policy's threshold for ${metric} gives neither min nor max.`);
      continue;
    }
    for (const kind of ['min', 'max'] as const) {
      const value = bound[kind];
      if (value === undefined) continue;
      if (badNumber(value)) failPolicy(`The gate policy's ${kind} for ${metric} is ${value}; it must be a finite number.`);
      else bounds.push({ metric, kind, value });
    }
  }
  return bounds;
}

function checkBound(add: Add, bound: Bound, candidateMetrics: Metrics): void {
  const { metric, kind, value } = bound;
  const limit = `${kind === 'min' ? 'at least' : 'at most'} ${show(value)}`;
  const actual = candidateMetrics?.[metric];
  const problem = unusable(actual);
  const base = { check: 'threshold' as const, metric, required: value };
  if (problem) {
    add({ ...base, outcome: 'failed', candidate: null, reason: `The candidate's ${metric} ${problem}, so the threshold (${limit}) cannot be checked.` });
    return;
  }
  const candidate = actual as number;
  const meets = kind === 'min' ? candidate >= value - ROUNDING_ALLOWANCE : candidate <= value + ROUNDING_ALLOWANCE;
  add({ ...base, candidate, outcome: meets ? 'passed' : 'failed', reason: `The candidate's ${metric} ${show(candidate)} ${meets ? 'meets' : 'misses'} the threshold (${limit}).` });
}

function checkSlices(add: Add, a: { slices: readonly SliceMetrics[]; metric: MetricName; lowerIsBetter: boolean; tolerance: number | undefined; minSliceRows: number }): void {
  const { slices, metric, lowerIsBetter, tolerance, minSliceRows } = a;
  if (slices.length === 0) return;
  if (tolerance === undefined) {
    add({ check: 'slice', outcome: 'not-gated', metric, reason: `The evaluation scored ${slices.length} slice(s); the policy sets no sliceTolerance, so they are reported, not gated.` });
    return;
  }
  for (const s of slices) {
    const slice = { feature: s.feature, slice: s.slice, name: s.name, rows: s.rows };
    const base = { check: 'slice' as const, metric, slice };
    if (!(s.rows >= minSliceRows)) {
      add({ ...base, outcome: 'not-gated', reason: `Slice ${s.name} has ${s.rows} holdout row(s), fewer than minSliceRows (${minSliceRows}), so it is reported, not gated.` });
      continue;
    }
    const candidateValue = s.candidate?.[metric];
    const championValue = s.champion?.[metric];
    const candidateProblem = unusable(candidateValue);
    const championProblem = unusable(championValue);
    if (candidateProblem && championProblem) {
      // AUC with one class on the slice: undefined for both models alike.
      add({ ...base, outcome: 'not-gated', reason: `On slice ${s.name} (${s.rows} rows) ${metric} is undefined for both models (${candidateValue === null ? 'null' : candidateProblem}), so it is not gated.` });
      continue;
    }
    if (candidateProblem || championProblem) {
      const who = candidateProblem ? `the candidate's ${metric} ${candidateProblem}` : `the champion's ${metric} ${championProblem}`;
      add({ ...base, outcome: 'failed', reason: `On slice ${s.name} (${s.rows} rows) ${who}, so the slice cannot be judged.` });
      continue;
    }
    const candidate = candidateValue as number;
    const champion = championValue as number;
    const change = lowerIsBetter ? champion - candidate : candidate - champion;
    const worst = lowerIsBetter ? champion + tolerance : champion - tolerance;
    const values = { candidate, champion, required: worst };
    const comparison = `On slice ${s.name} (${s.rows} rows) the candidate's ${metric} ${show(candidate)} against the champion's ${show(champion)}`;
    if (change >= 0) {
      add({ ...base, ...values, outcome: 'passed', reason: `${comparison} is ${change === 0 ? 'no worse' : `better by ${show(change)}`}.` });
    } else if (-change <= tolerance + ROUNDING_ALLOWANCE) {
      add({ ...base, ...values, outcome: 'passed', reason: `${comparison} is worse by ${show(-change)}, within the sliceTolerance of ${show(tolerance)}.` });
    } else {
      add({ ...base, ...values, outcome: 'failed', reason: `${comparison} is worse by ${show(-change)}, more than the sliceTolerance of ${show(tolerance)}.` });
    }
  }
}

function checkSignificance(add: Add, a: { significance: SignificancePolicy; paired: PairedStatistics | null; metric: MetricName; lowerIsBetter: boolean }): void {
  const { significance, paired, metric } = a;
  const { alpha } = significance;
  const base = { check: 'significance' as const, metric };
  if (significance.test === 'mcnemar') {
    const pairs = paired?.discordantPairs;
    if (!pairs) {
      add({ ...base, outcome: 'failed', reason: "McNemar's test needs the evaluation's discordant pairs, which it did not give (a regressor, or an evaluation without paired statistics), so significance cannot be judged." });
      return;
    }
    let result;
    try {
      result = mcnemar(pairs, { exact: significance.exact ?? true });
    } catch (err) {
      add({ ...base, outcome: 'failed', reason: `The evaluation's discordant pairs are unusable (${(err as Error).message}), so significance cannot be judged.` });
      return;
    }
    const { candidateOnlyCorrect: b, championOnlyCorrect: c } = pairs;
    const variant = result.exact ? "McNemar's exact test" : "McNemar's chi-square test (continuity-corrected)";
    const evidence = `${variant} on the ${b + c} holdout row(s) only one model gets right (candidate ${b}, champion ${c}) gives p = ${show(result.pValue)}`;
    const facts = { pValue: result.pValue, required: alpha };
    if (result.pValue < alpha && b > c) add({ ...base, ...facts, outcome: 'passed', reason: `${evidence}, below alpha ${show(alpha)}: the candidate is significantly better.` });
    else if (result.pValue < alpha) add({ ...base, ...facts, outcome: 'failed', reason: `${evidence}, below alpha ${show(alpha)}: the champion is significantly better.` });
    else add({ ...base, ...facts, outcome: 'failed', reason: `${evidence}, not below alpha ${show(alpha)}: the difference may be chance.` });
    return;
  }
  const interval = paired?.bootstrap;
  if (!interval) {
    add({ ...base, outcome: 'failed', reason: `The evaluation gave no paired bootstrap interval for ${metric} (no paired statistics, or ${metric} undefined on the holdout), so significance cannot be judged.` });
    return;
  }
  if (interval.metric !== metric) {
    add({ ...base, outcome: 'failed', reason: `The evaluation's paired bootstrap is of ${interval.metric}, but the gate's metric is ${metric}, so significance cannot be judged; re-run the evaluation with evaluation.metric ${metric}.` });
    return;
  }
  const wanted = 1 - alpha;
  if (!(Math.abs(interval.confidence - wanted) < 1e-9) || unusable(interval.lower) || unusable(interval.upper)) {
    add({ ...base, outcome: 'failed', reason: `The evaluation's paired bootstrap interval is at ${percent(interval.confidence)} confidence with bounds ${interval.lower} and ${interval.upper}, but alpha ${show(alpha)} asks for a finite ${percent(wanted)} interval, so significance cannot be judged.` });
    return;
  }
  const span = `[${show(interval.lower)}, ${show(interval.upper)}]`;
  const evidence = `The paired bootstrap's ${percent(interval.confidence)} interval for the candidate's ${metric} improvement is ${span} (${interval.usableResamples} of ${interval.resamples} resamples, seed ${interval.seed})`;
  const facts = { interval: { lower: interval.lower, upper: interval.upper, confidence: interval.confidence }, required: 0 };
  if (interval.lower > 0) add({ ...base, ...facts, outcome: 'passed', reason: `${evidence}, above 0: the improvement is significant at alpha ${show(alpha)}.` });
  else if (interval.upper < 0) add({ ...base, ...facts, outcome: 'failed', reason: `${evidence}, below 0: the candidate is significantly worse.` });
  else add({ ...base, ...facts, outcome: 'failed', reason: `${evidence}, which includes 0: the improvement is not significant at alpha ${show(alpha)}.` });
}

// Evaluation processing job: scores the candidate and (when there is one) the champion on the same
// holdout rows, and writes what the promotion gate, the Model Registry and the smoke test read:
//   <output>/evaluation.json            summaries, Model Monitor statistics, per-slice metrics, paired statistics
//   <output>/candidate-metrics.json     Model Monitor's model-quality statistics (ModelQuality.Statistics)
//   <output>/champion-metrics.json      the same for the champion, when given
//   <output>/holdout-predictions.jsonl  each holdout row's answers from both models, as the endpoint gives them
// Usage: evaluate.ts --candidate <dir> [--champion <dir>] --holdout <dir> --output <dir> [--metric <name>]
//        [--slice <json>]... [--max-slice-values <n>] [--bootstrap-resamples <n>] [--bootstrap-seed <n>] [--confidence <x>]
// (docs/algorithms.md and docs/gate.md describe the files).
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isErrorMetric, type MetricName } from '../../../domain/config';
import { holdoutSlices, parseSliceArgument, type SliceColumn } from '../../../domain/evaluation-slices';
import { evaluateHoldout, metricOnDraws, predictedLabels, summaryOfRows, type HoldoutEvaluation, type HoldoutPredictions, type MetricSummary } from '../../../domain/metrics';
import { discordantPairs, mcnemar, pairedBootstrap } from '../../../domain/significance';
import { ClientError, log, runEntryPoint } from '../container';
import { readLabelledCsv, type LabelledRows } from '../labelled-csv';
import { labelCheck, loadLinearLearnerModel, predict, type LinearLearnerModel, type Prediction } from '../linear-learner/model';
import { containerPaths } from '../opt-ml';

/** Fixed so that the same models and holdout always give the same report, standard deviations included. */
const SUBSAMPLE_SEED = 0;
/** activities/evaluation.ts names the same file. */
const PREDICTIONS_FILE = 'holdout-predictions.jsonl';
const paths = containerPaths();

interface EvaluationArguments {
  candidate: string;
  champion: string | null;
  holdout: string;
  output: string;
  /** The gate's metric; by default accuracy for a classifier, rmse for a regressor. */
  metric: MetricName | null;
  slices: SliceColumn[];
  maxSliceValues: number;
  bootstrapResamples: number;
  bootstrapSeed: number;
  confidence: number;
}

const USAGE = 'usage: --candidate <dir> [--champion <dir>] --holdout <dir> --output <dir> [--metric <name>] [--slice <json>]... [--max-slice-values <n>] [--bootstrap-resamples <n>] [--bootstrap-seed <n>] [--confidence <x>]';
const METRICS: readonly MetricName[] = ['accuracy', 'f1', 'auc', 'log_loss', 'rmse', 'mae'];

function parseArguments(argv: readonly string[]): EvaluationArguments {
  const values = new Map<string, string>();
  const slices: SliceColumn[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--(candidate|champion|holdout|output|metric|slice|max-slice-values|bootstrap-resamples|bootstrap-seed|confidence)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new ClientError(`unexpected argument "${arg}"; ${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new ClientError(`--${match[1]} needs a value`);
    if (match[1] === 'slice') {
      try {
        slices.push(parseSliceArgument(value));
      } catch (err) {
        throw new ClientError((err as Error).message);
      }
    } else values.set(match[1], value);
  }
  for (const required of ['candidate', 'holdout', 'output']) {
    if (!values.has(required)) throw new ClientError(`--${required} is required`);
  }
  const metric = values.get('metric') ?? null;
  if (metric !== null && !METRICS.includes(metric as MetricName)) throw new ClientError(`--metric ${metric} is not one of ${METRICS.join(', ')}`);
  const wholeNumber = (name: string, fallback: number, min: number) => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new ClientError(`--${name} is ${text}; it must be a whole number >= ${min}`);
    return n;
  };
  const confidenceText = values.get('confidence');
  const confidence = confidenceText === undefined ? 0.95 : Number(confidenceText);
  if (!(confidence > 0 && confidence < 1)) throw new ClientError(`--confidence is ${confidenceText}; it must lie strictly between 0 and 1`);
  return {
    candidate: values.get('candidate')!,
    champion: values.get('champion') ?? null,
    holdout: values.get('holdout')!,
    output: values.get('output')!,
    metric: metric as MetricName | null,
    slices,
    maxSliceValues: wholeNumber('max-slice-values', 50, 1),
    bootstrapResamples: wholeNumber('bootstrap-resamples', 1000, 1),
    bootstrapSeed: wholeNumber('bootstrap-seed', 0, 0),
    confidence,
  };
}

function checkComparable(candidate: LinearLearnerModel, champion: LinearLearnerModel): void {
  const what = `the champion (training job ${champion.training_job_name})`;
  if (champion.predictor_type !== candidate.predictor_type) throw new ClientError(`${what} is a ${champion.predictor_type} but the candidate is a ${candidate.predictor_type}`);
  if (champion.num_classes !== candidate.num_classes) throw new ClientError(`${what} has num_classes=${champion.num_classes} but the candidate has ${candidate.num_classes}`);
  if (champion.feature_dim !== candidate.feature_dim) {
    throw new ClientError(`${what} takes ${champion.feature_dim} features but the candidate takes ${candidate.feature_dim}; they cannot be scored on the same holdout`);
  }
}

function headline(summary: MetricSummary): string {
  return 'accuracy' in summary ? `accuracy=${summary.accuracy.toFixed(4)} f1=${summary.f1.toFixed(4)}` : `rmse=${summary.rmse.toPrecision(6)} mae=${summary.mae.toPrecision(6)}`;
}

/** What a model says about every holdout row, exactly as its endpoint answers (serve.ts renders the same objects). */
function answers(model: LinearLearnerModel, holdout: LabelledRows): Prediction[] {
  if (holdout.featureDim !== model.feature_dim) {
    throw new ClientError(`the model (training job ${model.training_job_name}) expects ${model.feature_dim} features but the holdout has ${holdout.featureDim}`);
  }
  const d = holdout.featureDim;
  return Array.from({ length: holdout.rows }, (_, i) => predict(model, holdout.features.subarray(i * d, (i + 1) * d)));
}

function asHoldoutPredictions(model: LinearLearnerModel, predictions: readonly Prediction[], actual: Float64Array): HoldoutPredictions {
  switch (model.predictor_type) {
    case 'binary_classifier':
      return { predictorType: 'binary_classifier', actual, scores: predictions.map((p) => p.score as number) };
    case 'multiclass_classifier':
      return { predictorType: 'multiclass_classifier', actual, probabilities: predictions.map((p) => p.score as number[]) };
    case 'regressor':
      return { predictorType: 'regressor', actual, predicted: predictions.map((p) => p.score as number) };
  }
}

/** One JSON object per holdout row, in holdout order (files in code-point order, then line order), written in batches. */
async function writePredictions(file: string, candidate: readonly Prediction[], champion: readonly Prediction[] | null, labels: Float64Array): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const BATCH = 10_000;
    for (let start = 0; start < labels.length; start += BATCH) {
      let chunk = '';
      for (let i = start; i < Math.min(start + BATCH, labels.length); i++) {
        chunk += `${JSON.stringify({ candidate: candidate[i], champion: champion ? champion[i] : null, label: labels[i] })}\n`;
      }
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
}

interface SliceReport {
  feature: string;
  slice: string;
  name: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
  rows: number;
  candidate: MetricSummary | null;
  champion: MetricSummary | null;
}

function sliceReports(args: EvaluationArguments, holdout: LabelledRows, candidate: HoldoutPredictions, champion: HoldoutPredictions | null): SliceReport[] {
  return args.slices.flatMap((column) => {
    if (column.column >= holdout.featureDim) {
      throw new ClientError(`slice feature "${column.feature}" is feature column ${column.column + 1}, but the holdout rows have ${holdout.featureDim} features`);
    }
    const valueOf = (row: number) => holdout.features[row * holdout.featureDim + column.column];
    return holdoutSlices(column, holdout.rows, valueOf, args.maxSliceValues).map(({ rows, ...slice }) => ({
      ...slice,
      rows: rows.length,
      candidate: summaryOfRows(candidate, rows),
      champion: champion ? summaryOfRows(champion, rows) : null,
    }));
  });
}

function pairedStatistics(args: EvaluationArguments, metric: MetricName, candidate: HoldoutPredictions, champion: HoldoutPredictions) {
  const rows = candidate.actual.length;
  let mcnemarReport = null;
  if (candidate.predictorType !== 'regressor') {
    const pairs = discordantPairs(candidate.actual, predictedLabels(candidate), predictedLabels(champion));
    mcnemarReport = {
      candidate_only_correct: pairs.candidateOnlyCorrect,
      champion_only_correct: pairs.championOnlyCorrect,
      exact_p_value: mcnemar(pairs, { exact: true }).pValue,
      chi_square_p_value: mcnemar(pairs, { exact: false }).pValue,
    };
  }
  const candidateMetric = metricOnDraws(candidate, metric);
  const championMetric = metricOnDraws(champion, metric);
  const lowerIsBetter = isErrorMetric(metric);
  const interval = pairedBootstrap({
    rows,
    resamples: args.bootstrapResamples,
    seed: args.bootstrapSeed,
    confidence: args.confidence,
    statistic: (timesDrawn) => {
      const a = candidateMetric(timesDrawn);
      const b = championMetric(timesDrawn);
      if (a === null || b === null) return null;
      return lowerIsBetter ? b - a : a - b;
    },
  });
  const bootstrap = interval && {
    metric,
    observed_improvement: interval.observed,
    lower: interval.lower,
    upper: interval.upper,
    confidence: interval.confidence,
    resamples: interval.resamples,
    usable_resamples: interval.usableResamples,
    seed: interval.seed,
  };
  return { rows, mcnemar: mcnemarReport, bootstrap };
}

async function evaluate(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const candidate = await loadLinearLearnerModel(args.candidate);
  const champion = args.champion ? await loadLinearLearnerModel(args.champion) : null;
  if (champion) checkComparable(candidate, champion);
  const metric = args.metric ?? (candidate.predictor_type === 'regressor' ? 'rmse' : 'accuracy');
  const regressionMetric = metric === 'rmse' || metric === 'mae';
  if (regressionMetric !== (candidate.predictor_type === 'regressor')) {
    throw new ClientError(`--metric ${metric} does not apply to a ${candidate.predictor_type}; use ${candidate.predictor_type === 'regressor' ? 'rmse or mae' : 'accuracy, f1, auc or log_loss'}`);
  }
  const holdout = await readLabelledCsv(args.holdout, {
    source: 'holdout',
    featureDim: candidate.feature_dim,
    featureDimOrigin: `the candidate model (training job ${candidate.training_job_name})`,
    checkLabel: labelCheck(candidate.predictor_type, candidate.num_classes),
  });
  log(`scoring ${holdout.rows} holdout rows from ${holdout.files.length} file(s): candidate ${candidate.training_job_name}${champion ? `, champion ${champion.training_job_name}` : ', no champion'}`);

  const candidateAnswers = answers(candidate, holdout);
  const championAnswers = champion ? answers(champion, holdout) : null;
  const candidatePredictions = asHoldoutPredictions(candidate, candidateAnswers, holdout.labels);
  const championPredictions = champion && championAnswers ? asHoldoutPredictions(champion, championAnswers, holdout.labels) : null;
  const score = (model: LinearLearnerModel, p: HoldoutPredictions): HoldoutEvaluation => evaluateHoldout(p, { numClasses: model.num_classes ?? undefined, seed: SUBSAMPLE_SEED });
  const candidateReport = score(candidate, candidatePredictions);
  const championReport = champion && championPredictions ? score(champion, championPredictions) : null;

  const evaluation = {
    predictor_type: candidate.predictor_type,
    holdout_rows: holdout.rows,
    holdout_digest: holdout.digest,
    candidate_training_job: candidate.training_job_name,
    champion_training_job: champion?.training_job_name ?? null,
    metric,
    candidate: candidateReport.modelQuality,
    champion: championReport?.modelQuality ?? null,
    summary: { candidate: candidateReport.summary, champion: championReport?.summary ?? null },
    slices: sliceReports(args, holdout, candidatePredictions, championPredictions),
    paired: championPredictions ? pairedStatistics(args, metric, candidatePredictions, championPredictions) : null,
    predictions: PREDICTIONS_FILE,
  };
  await mkdir(args.output, { recursive: true });
  await writePredictions(path.join(args.output, PREDICTIONS_FILE), candidateAnswers, championAnswers, holdout.labels);
  await writeFile(path.join(args.output, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
  await writeFile(path.join(args.output, 'candidate-metrics.json'), `${JSON.stringify(candidateReport.modelQuality, null, 2)}\n`);
  if (championReport) await writeFile(path.join(args.output, 'champion-metrics.json'), `${JSON.stringify(championReport.modelQuality, null, 2)}\n`);

  const message = `candidate ${candidate.training_job_name}: ${headline(candidateReport.summary)}` +
    (championReport ? `; champion ${champion!.training_job_name}: ${headline(championReport.summary)}` : '; no champion') +
    ` (${holdout.rows} holdout rows${evaluation.slices.length ? `, ${evaluation.slices.length} slices` : ''})`;
  log(message);
  await writeExitMessage(message);
}

/** DescribeProcessingJob's ExitMessage; best effort, since only the report files matter to the pipeline. */
async function writeExitMessage(message: string): Promise<void> {
  const file = paths.messageFile;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${message}\n`);
  } catch (err) {
    log(`could not write ${file}: ${(err as Error).message}`, 'WARNING');
  }
}

// A processing job reports its failure through ExitMessage (output/message); output/failure as well,
// for runners that read a training-style failure file.
void runEntryPoint(evaluate, [paths.messageFile, paths.failureFile]);

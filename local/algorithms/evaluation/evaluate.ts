// Evaluation processing job: scores the candidate and (when there is one) the champion on the same
// holdout rows, and writes what the promotion gate and the Model Registry read:
//   <output>/evaluation.json          both models' Model Monitor statistics plus a flat summary
//   <output>/candidate-metrics.json   Model Monitor's model-quality statistics (ModelQuality.Statistics)
//   <output>/champion-metrics.json    the same for the champion, when given
// Usage: evaluate.ts --candidate <dir> [--champion <dir>] --holdout <dir> --output <dir>
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evaluateHoldout, type HoldoutEvaluation, type MetricSummary } from '../../../domain/metrics';
import { ClientError, log, runEntryPoint } from '../container';
import { readLabelledCsv } from '../labelled-csv';
import { holdoutPredictions, labelCheck, loadLinearLearnerModel, type LinearLearnerModel } from '../linear-learner/model';
import { containerPaths } from '../opt-ml';

/** Fixed so that the same models and holdout always give the same report, standard deviations included. */
const SUBSAMPLE_SEED = 0;
const paths = containerPaths();

interface EvaluationArguments {
  candidate: string;
  champion: string | null;
  holdout: string;
  output: string;
}

function parseArguments(argv: readonly string[]): EvaluationArguments {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--(candidate|champion|holdout|output)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ClientError(`unexpected argument "${arg}"; usage: --candidate <dir> [--champion <dir>] --holdout <dir> --output <dir>`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new ClientError(`--${match[1]} needs a directory`);
    values.set(match[1], value);
  }
  for (const required of ['candidate', 'holdout', 'output']) {
    if (!values.has(required)) throw new ClientError(`--${required} is required`);
  }
  return { candidate: values.get('candidate')!, champion: values.get('champion') ?? null, holdout: values.get('holdout')!, output: values.get('output')! };
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

async function evaluate(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const candidate = await loadLinearLearnerModel(args.candidate);
  const champion = args.champion ? await loadLinearLearnerModel(args.champion) : null;
  if (champion) checkComparable(candidate, champion);
  const holdout = await readLabelledCsv(args.holdout, {
    source: 'holdout',
    featureDim: candidate.feature_dim,
    featureDimOrigin: `the candidate model (training job ${candidate.training_job_name})`,
    checkLabel: labelCheck(candidate.predictor_type, candidate.num_classes),
  });
  log(`scoring ${holdout.rows} holdout rows from ${holdout.files.length} file(s): candidate ${candidate.training_job_name}${champion ? `, champion ${champion.training_job_name}` : ', no champion'}`);

  const score = (model: LinearLearnerModel): HoldoutEvaluation =>
    evaluateHoldout(holdoutPredictions(model, holdout), { numClasses: model.num_classes ?? undefined, seed: SUBSAMPLE_SEED });
  const candidateReport = score(candidate);
  const championReport = champion ? score(champion) : null;

  const evaluation = {
    predictor_type: candidate.predictor_type,
    holdout_rows: holdout.rows,
    holdout_digest: holdout.digest,
    candidate_training_job: candidate.training_job_name,
    champion_training_job: champion?.training_job_name ?? null,
    candidate: candidateReport.modelQuality,
    champion: championReport?.modelQuality ?? null,
    summary: { candidate: candidateReport.summary, champion: championReport?.summary ?? null },
  };
  await mkdir(args.output, { recursive: true });
  await writeFile(path.join(args.output, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
  await writeFile(path.join(args.output, 'candidate-metrics.json'), `${JSON.stringify(candidateReport.modelQuality, null, 2)}\n`);
  if (championReport) await writeFile(path.join(args.output, 'champion-metrics.json'), `${JSON.stringify(championReport.modelQuality, null, 2)}\n`);

  const message = `candidate ${candidate.training_job_name}: ${headline(candidateReport.summary)}` +
    (championReport ? `; champion ${champion!.training_job_name}: ${headline(championReport.summary)}` : '; no champion') +
    ` (${holdout.rows} holdout rows)`;
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

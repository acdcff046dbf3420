// Where SageMaker's container contract puts things. Locally the runner points OPT_ML at a job
// directory that stands in for /opt/ml, so the same entry points run unchanged in a real container.
// The SM_* variables (set by SageMaker's training toolkit, or by the local runner) win when present.
import path from 'node:path';

export const DEFAULT_OPT_ML = '/opt/ml';

export interface ContainerPaths {
  root: string;
  hyperparameters: string;
  inputDataConfig: string;
  resourceConfig: string;
  /** Parent of every input channel's directory. */
  dataDir: string;
  modelDir: string;
  outputDir: string;
  /** A training job's FailureReason comes from this file. */
  failureFile: string;
  /** A processing job's ExitMessage comes from this file. */
  messageFile: string;
  checkpointDir: string;
}

export function containerPaths(env: NodeJS.ProcessEnv = process.env): ContainerPaths {
  const root = env.OPT_ML || DEFAULT_OPT_ML;
  const configDir = path.join(root, 'input', 'config');
  const outputDir = env.SM_OUTPUT_DIR || path.join(root, 'output');
  return {
    root,
    hyperparameters: path.join(configDir, 'hyperparameters.json'),
    inputDataConfig: path.join(configDir, 'inputdataconfig.json'),
    resourceConfig: path.join(configDir, 'resourceconfig.json'),
    dataDir: env.SM_INPUT_DATA_DIR || path.join(root, 'input', 'data'),
    modelDir: env.SM_MODEL_DIR || path.join(root, 'model'),
    outputDir,
    failureFile: path.join(outputDir, 'failure'),
    messageFile: path.join(outputDir, 'message'),
    checkpointDir: path.join(root, 'checkpoints'),
  };
}

/** A channel's directory: SM_CHANNEL_<NAME> if set (dots and dashes become underscores), else <data dir>/<name>. */
export function channelDir(channel: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[`SM_CHANNEL_${channel.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`];
  return fromEnv || path.join(containerPaths(env).dataDir, channel);
}

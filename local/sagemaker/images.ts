// The local stand-in for ECR: an image URI names a repository, and each repository maps to the
// TypeScript entry points that play the container for training, processing and serving.
import path from 'node:path';

export type ContainerRole = 'train' | 'serve' | 'process';

/** Entry points of one algorithm image, as absolute paths or paths relative to the project root. */
export type AlgorithmImage = Partial<Record<ContainerRole, string>>;

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export const BUILT_IN_IMAGES: Readonly<Record<string, AlgorithmImage>> = {
  'linear-learner': {
    train: 'local/algorithms/linear-learner/train.ts',
    serve: 'local/algorithms/linear-learner/serve.ts',
  },
  'sagemaker-retraining-evaluation': {
    process: 'local/algorithms/evaluation/evaluate.ts',
  },
  'sagemaker-retraining-drift': { process: 'local/algorithms/drift/profile.ts' },
  'sagemaker-retraining-dataset': { process: 'local/algorithms/dataset/expand.ts' },
};

export interface ImageReference {
  uri: string;
  /** The registry host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  registry: string;
  /** The ECR registry ID (the account) when the host is an ECR host. */
  registryId: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses `<registry>/<repository>[:tag|@sha256:...]`; undefined when the URI has no registry part. */
export function parseImageUri(uri: string): ImageReference | undefined {
  const slash = uri.indexOf('/');
  if (slash <= 0) return undefined;
  const registry = uri.slice(0, slash);
  let rest = uri.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!rest) return undefined;
  const ecrAccount = /^(\d{12})\.dkr\.ecr\./.exec(registry)?.[1];
  return { uri, registry, registryId: ecrAccount ?? registry.split('.')[0], repository: rest, tag, digest };
}

export class ImageRegistry {
  private readonly images: Record<string, AlgorithmImage>;

  constructor(extra: Record<string, AlgorithmImage> = {}) {
    this.images = { ...BUILT_IN_IMAGES, ...extra };
  }

  /** The image's entry points, or undefined when the repository is unknown. */
  lookup(image: ImageReference): AlgorithmImage | undefined {
    return this.images[image.repository] ?? this.images[image.repository.split('/').pop() ?? ''];
  }

  /** Absolute path of the entry point for a role, resolved against the project root, not the cwd. */
  entryPoint(image: ImageReference, role: ContainerRole): string | undefined {
    const file = this.lookup(image)?.[role];
    return file === undefined ? undefined : path.resolve(PROJECT_ROOT, file);
  }
}

// The local stand-in for ECR: an image URI names a repository, and each repository maps to the
// entry points (TypeScript in a clone, JavaScript in the installed package) that play the container for
// training, processing and serving.
import path from 'node:path';
import { ownModule, PACKAGE_ROOT } from '../package-root';

export type ContainerRole = 'train' | 'serve' | 'process';

/** Entry points of one algorithm image, as absolute paths or paths relative to this package's root (the folder of its package.json). */
export type AlgorithmImage = Partial<Record<ContainerRole, string>>;

export const BUILT_IN_IMAGES: Readonly<Record<string, AlgorithmImage>> = {
  'linear-learner': {
    train: ownModule('local/algorithms/linear-learner/train'),
    serve: ownModule('local/algorithms/linear-learner/serve'),
  },
  'sagemaker-retraining-evaluation': {
    process: ownModule('local/algorithms/evaluation/evaluate'),
  },
  'sagemaker-retraining-drift': { process: ownModule('local/algorithms/drift/profile') },
  'sagemaker-retraining-dataset': { process: ownModule('local/algorithms/dataset/expand') },
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
    return file === undefined ? undefined : path.resolve(PACKAGE_ROOT, file);
  }
}

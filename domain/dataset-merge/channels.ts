// How a dataset version reaches a training job: which objects a split's channel reads (decided when
// the version is written, recorded in its manifest) and the Channel the training stage passes.
import type { Channel } from '@aws-sdk/client-sagemaker';
import type { DatasetChannelSettings } from '../config';

export type ChannelS3DataType = 'S3Prefix' | 'ManifestFile' | 'AugmentedManifestFile';

/** What a split's channel reads, as the version recorded it. */
export interface ChannelSource {
  s3DataType: ChannelS3DataType;
  /** The prefix (S3Prefix), the manifest object (ManifestFile) or the augmented manifest (AugmentedManifestFile). */
  s3Uri: string;
  /** AugmentedManifestFile only: the attributes passed to the algorithm, in this order. */
  attributeNames?: string[];
  contentType: string;
  compression: 'None' | 'Gzip';
  /** The data objects the channel delivers. */
  objects: number;
}

/** The augmented manifest's attributes the algorithm gets: the features (CSV text), then the label. */
export const AUGMENTED_ATTRIBUTES = ['features', 'label'] as const;

/**
 * A split's channel source from the objects the version wrote. CSV goes through its prefix, or
 * through a manifest file when it is several objects and s3DataType is auto (or ManifestFile): the
 * manifest names exactly the version's objects, whatever else lands under the prefix.
 */
export function channelSourceFor(
  settings: Pick<DatasetChannelSettings, 'format' | 'compression' | 's3DataType' | 'recordWrapper'>,
  written: { csvPrefix: string; csvObjects: number; manifestUri: string; augmentedManifestUri: string },
): ChannelSource {
  if (settings.format === 'augmented-manifest') {
    return {
      s3DataType: 'AugmentedManifestFile',
      s3Uri: written.augmentedManifestUri,
      attributeNames: [...AUGMENTED_ATTRIBUTES],
      contentType: settings.recordWrapper === 'RecordIO' ? 'application/x-recordio' : 'text/csv',
      compression: 'None',
      objects: 1,
    };
  }
  const manifest = settings.s3DataType === 'ManifestFile' || (settings.s3DataType === 'auto' && written.csvObjects > 1);
  return {
    s3DataType: manifest ? 'ManifestFile' : 'S3Prefix',
    s3Uri: manifest ? written.manifestUri : written.csvPrefix,
    contentType: 'text/csv',
    compression: settings.compression,
    objects: written.csvObjects,
  };
}

/** Whether a version's objects can feed these settings (a setting that changes the objects makes a new version). */
export function channelSettingsIdentity(settings: DatasetChannelSettings): Record<string, unknown> {
  return { format: settings.format, compression: settings.compression, s3DataType: settings.s3DataType, objectRows: settings.objectRows };
}

/** The Channel for CreateTrainingJob: input mode, distribution, compression and record wrapping as configured. */
export function trainingChannel(name: string, source: ChannelSource, settings: Pick<DatasetChannelSettings, 'inputMode' | 'distribution' | 'recordWrapper'>): Channel {
  return {
    ChannelName: name,
    ContentType: source.contentType,
    InputMode: settings.inputMode,
    CompressionType: source.compression,
    // SageMaker wants None (or nothing) in File mode; RecordIO wraps each object (or attribute) in Pipe mode.
    RecordWrapperType: settings.inputMode === 'Pipe' ? settings.recordWrapper : 'None',
    DataSource: {
      S3DataSource: {
        S3DataType: source.s3DataType,
        S3Uri: source.s3Uri,
        S3DataDistributionType: settings.distribution,
        ...(source.attributeNames ? { AttributeNames: source.attributeNames } : {}),
      },
    },
  };
}

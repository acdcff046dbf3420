// How newly labelled data is written and which labels are good enough: `dataset.input` in the pipeline
// config. The schema lives here, beside the readers it steers; domain/config.ts places it in the
// dataset section, so it is still one schema, validated with the rest of the config.
import { z } from 'zod';

/** A JSON field: a top-level name, or a dotted path into nested objects ("a.b"). */
const fieldPath = z.string().min(1).max(256);

export const LabelledDataInputFormat = z.enum(['csv', 'jsonl', 'ground-truth-manifest', 'model-monitor-ground-truth']);
export type LabelledDataInputFormat = z.infer<typeof LabelledDataInputFormat>;

export const LabelQualitySchema = z
  .object({
    /**
     * Keep a Ground Truth label only if its metadata's `confidence` is at least this. Ground Truth sets
     * confidence to 0.00 when one worker labels each object, so this filters out every such label.
     */
    minConfidence: z.number().min(0).max(1).optional(),
    /** Keep only labels whose metadata says `"human-annotated": "yes"` (drops automated labelling). */
    humanAnnotatedOnly: z.boolean().default(false),
    /**
     * Keep only labels from these labelling jobs. A name matches the metadata's `job-name` as written
     * ("labeling-job/churn-review") or without its "labeling-job/" prefix ("churn-review").
     */
    allowedJobNames: z.array(z.string().min(1)).min(1).optional(),
  })
  .prefault({});
export type LabelQuality = z.output<typeof LabelQualitySchema>;

export const LabelledDataInputSchema = z
  .object({
    /**
     * How the objects under `dataset.newDataS3Uri` are written: headerless CSV with the label first,
     * JSON Lines, Ground Truth output manifests, or Model Monitor ground-truth records (joined with the
     * endpoint's captured traffic by inferenceId or eventId).
     */
    format: LabelledDataInputFormat.default('csv'),
    /** A longer line (in UTF-8 bytes) is rejected as line_too_long rather than parsed. */
    maxLineBytes: z.number().int().min(64).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Where values sit in JSON records; each defaults to the schema's own name. */
    fields: z
      .object({
        /** JSON Lines and Model Monitor JSON labels: the label field. Manifests: the label attribute (the job's LabelAttributeName). */
        label: fieldPath.optional(),
        /** One field holding an array of numbers in schema order, or a field per feature name (unlisted features use their own name). */
        features: z.union([fieldPath, z.record(z.string().min(1), fieldPath)]).optional(),
        /** The de-duplication key's field; its value (a string or number) becomes the record's key. */
        key: fieldPath.optional(),
        /** An ISO 8601 time; for manifests it replaces the label metadata's creation-date. */
        time: fieldPath.optional(),
      })
      .prefault({}),
    /**
     * Manifests only: where a line's features are. `fields`: JSON fields beside the label attribute, as
     * for JSON Lines. `source`: the line's `source` text is a headerless CSV row of the features.
     */
    featuresFrom: z.enum(['fields', 'source']).default('fields'),
    labelQuality: LabelQualitySchema,
  })
  .superRefine((input, ctx) => {
    const { format, fields, labelQuality } = input;
    if (format === 'csv') {
      for (const name of ['label', 'features', 'key', 'time'] as const) {
        if (fields[name] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['fields', name], message: 'fields apply to JSON formats; CSV columns are the label, then the schema\'s features in order' });
        }
      }
    }
    if (input.featuresFrom === 'source' && format !== 'ground-truth-manifest') {
      ctx.addIssue({ code: 'custom', path: ['featuresFrom'], message: '"source" applies only to format "ground-truth-manifest"' });
    }
    if (input.featuresFrom === 'source' && fields.features !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['fields', 'features'], message: 'features come from "source" (featuresFrom); drop fields.features or use featuresFrom "fields"' });
    }
    const filtering = labelQuality.minConfidence !== undefined || labelQuality.humanAnnotatedOnly || labelQuality.allowedJobNames !== undefined;
    if (filtering && format !== 'ground-truth-manifest') {
      ctx.addIssue({ code: 'custom', path: ['labelQuality'], message: `label-quality filters read Ground Truth label metadata; format "${format}" has none` });
    }
  })
  .prefault({});
export type LabelledDataInputOptions = NonNullable<z.input<typeof LabelledDataInputSchema>>;
/** The reader options, as the config parses them (`config.dataset.input`). */
export type LabelledDataOptions = z.output<typeof LabelledDataInputSchema>;

/** The options with every default, for callers that build them outside a pipeline config (tests, tools). */
export function labelledDataOptions(input: LabelledDataInputOptions = {}): LabelledDataOptions {
  return LabelledDataInputSchema.parse(input);
}

/** Config checks that need the dataset's schema as well as its input options. */
export function checkInputAgainstSchema(
  dataset: { input: LabelledDataOptions; schema: { features: { name: string }[] } },
  ctx: { addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void },
): void {
  const features = dataset.input.fields.features;
  if (features === undefined || typeof features === 'string') return;
  const names = new Set(dataset.schema.features.map((f) => f.name));
  for (const name of Object.keys(features)) {
    if (!names.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['dataset', 'input', 'fields', 'features', name], message: `"${name}" is not a feature of dataset.schema` });
    }
  }
}

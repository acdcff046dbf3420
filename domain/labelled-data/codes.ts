// Every reason a labelled line can be turned away, by its stable code. Manifests count quarantined
// rows by these codes, so a code is never renamed; docs/labelled-data.md lists them with examples.

export const LABELLED_DATA_CODES = {
  // The line itself
  not_utf8: 'holds a byte sequence that is not UTF-8',
  line_too_long: 'is longer than input.maxLineBytes',
  empty_line: 'is blank',
  truncated_json: 'ends inside a JSON value (cut short)',
  invalid_json: 'is not valid JSON',
  not_an_object: 'is JSON, but not an object',
  empty_record: 'is an empty JSON object',
  // Values
  wrong_width: 'has more or fewer values than the schema has features',
  missing_value: 'lacks a feature value (empty, null or absent)',
  not_a_number: 'has a feature that is not a finite decimal number',
  wrong_type: 'has a field of the wrong JSON type',
  missing_key: 'lacks the configured de-duplication key',
  bad_time: 'has a time that is missing or not ISO 8601',
  // The label
  missing_label: 'has no label',
  bad_label: 'has a label that is not a number, or out of the class range',
  unknown_class: 'names a class the schema does not list',
  unsupported_task_type: 'carries a label that is not one class or number (boxes, multi-label, segmentation)',
  // Ground Truth manifests
  missing_source: 'has neither "source" nor "source-ref", or no "source" to read features from',
  missing_metadata: 'has a label attribute without its "-metadata" object',
  low_confidence: 'was filtered: confidence below labelQuality.minConfidence',
  not_human_annotated: 'was filtered: not human-annotated (labelQuality.humanAnnotatedOnly)',
  job_not_allowed: 'was filtered: labelling job not in labelQuality.allowedJobNames',
  // Captured traffic joined with Model Monitor ground truth
  bad_capture: 'is a data-capture line that cannot be read',
  bad_ground_truth: 'is a ground-truth record that cannot be read',
  ambiguous_capture: 'is a captured request with more than one row, which one label cannot label',
  duplicate_capture: 'is a second captured request with an id already joined',
  duplicate_label: 'repeats an earlier ground-truth record for the same id and label',
  conflicting_label: 'is a ground-truth record that disagrees with another for the same id',
  no_label_yet: 'is a captured request no ground-truth record labels (yet)',
  unmatched_label: 'is a ground-truth record no captured request matches',
} as const;

export type LabelledDataCode = keyof typeof LABELLED_DATA_CODES;

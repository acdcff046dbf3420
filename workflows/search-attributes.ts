// Custom search attributes the pipeline keeps up to date, so `temporal workflow list` and the
// Web UI can filter and show runs by model, stage and outcome. The dev server registers these.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RetrainingModel = defineSearchAttributeKey('RetrainingModel', SearchAttributeType.KEYWORD);
export const RetrainingStage = defineSearchAttributeKey('RetrainingStage', SearchAttributeType.KEYWORD);
export const RetrainingTrigger = defineSearchAttributeKey('RetrainingTrigger', SearchAttributeType.KEYWORD);
export const DriftScore = defineSearchAttributeKey('DriftScore', SearchAttributeType.DOUBLE);
export const CandidateMetric = defineSearchAttributeKey('CandidateMetric', SearchAttributeType.DOUBLE);
export const ChampionMetric = defineSearchAttributeKey('ChampionMetric', SearchAttributeType.DOUBLE);
export const GateDecision = defineSearchAttributeKey('GateDecision', SearchAttributeType.KEYWORD);
/**
 * The event ids of the alerts a run recorded (the latest ALERT_EVENT_IDS_KEPT): the receiver looks a
 * redelivered event up here, so one delivered again after its run has ended starts nothing.
 */
export const RetrainingAlertEventIds = defineSearchAttributeKey('RetrainingAlertEventIds', SearchAttributeType.KEYWORD_LIST);
/** Enough for any redelivery (EventBridge retries for at most 24 hours), and far inside Temporal's size limits. */
export const ALERT_EVENT_IDS_KEPT = 64;

export const RETRAINING_SEARCH_ATTRIBUTES = [
  RetrainingModel,
  RetrainingStage,
  RetrainingTrigger,
  DriftScore,
  CandidateMetric,
  ChampionMetric,
  GateDecision,
  RetrainingAlertEventIds,
];

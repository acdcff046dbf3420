// Manual approval of a candidate that passed the gate: what a person must say, and what the run
// records. Pure: the workflow's Update validator and the CLI both call checkApprovalRequest.

/** What `approve` and `reject` carry: who decides, and why. */
export interface ApprovalRequest {
  /** Who decides: a person's or a system's identity, as the registry and audit should show it. */
  approver: string;
  /** Why: shown on the run and written to the package's ApprovalDescription. */
  reason: string;
}

/** Where a decision came from. */
export type ApprovalSource = 'update' | 'model-registry' | 'timeout';

export interface ApprovalDecision {
  approved: boolean;
  /** The approver's identity; "SageMaker Model Registry" for a status set there; "timeout" when nobody decided. */
  approver: string;
  reason: string;
  source: ApprovalSource;
  /** Workflow time of the decision, ISO 8601. */
  decidedAt: string;
}

/** What the run shows while and after it waits. */
export interface ApprovalState {
  modelPackageArn: string;
  modelPackageVersion: number;
  status: 'awaiting' | 'approved' | 'rejected';
  /** When an undecided wait ends in rejection, ISO 8601. */
  deadline: string;
  decision: ApprovalDecision | null;
}

/** SageMaker's ApprovalDescription allows 1,024 characters; the reason leaves room for the approver's name. */
export const MAX_APPROVAL_REASON = 900;
export const MAX_APPROVER = 100;

/**
 * Problems with an approve/reject request, each naming the field; empty when it may be accepted.
 * A decision needs both an identity and a reason, so the registry and the run show who decided and why.
 */
export function checkApprovalRequest(request: unknown): string[] {
  if (typeof request !== 'object' || request === null) return ['the request must be an object with "approver" and "reason"'];
  const { approver, reason } = request as Partial<Record<keyof ApprovalRequest, unknown>>;
  const problems: string[] = [];
  if (typeof approver !== 'string' || !approver.trim()) problems.push('"approver" is required: the identity of who decides (for example an email address)');
  else if (approver.length > MAX_APPROVER) problems.push(`"approver" is ${approver.length} characters; at most ${MAX_APPROVER}`);
  if (typeof reason !== 'string' || !reason.trim()) problems.push('"reason" is required: why the candidate is approved or rejected');
  else if (reason.length > MAX_APPROVAL_REASON) problems.push(`"reason" is ${reason.length} characters; at most ${MAX_APPROVAL_REASON}`);
  return problems;
}

/** The package's ApprovalDescription for a decision. */
export function approvalDescription(decision: ApprovalDecision): string {
  const verb = decision.approved ? 'approved' : 'rejected';
  if (decision.source === 'timeout') return `rejected: ${decision.reason}`;
  return `${verb} by ${decision.approver}: ${decision.reason}`;
}

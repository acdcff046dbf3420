// One budget of SageMaker control-plane calls per worker, shared by every activity it runs, so a
// thousand waiting pipelines pace themselves instead of tripping SageMaker's fixed, account-wide rate
// limits (ThrottlingException), which are not adjustable.
import { Context } from '@temporalio/activity';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';

export interface CallBudgetClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: CallBudgetClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** A token bucket: `perSecond` calls on average, up to `burst` at once. Callers queue in order. */
export class SageMakerCallBudget {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perSecond: number,
    readonly burst: number = Math.max(1, Math.ceil(perSecond)),
    private readonly clock: CallBudgetClock = realClock,
  ) {
    if (!(perSecond > 0)) throw new Error(`SageMaker call budget must allow more than 0 calls per second, got ${perSecond}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves when the caller may make one call. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn;
    return turn;
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
    }
  }
}

const MIDDLEWARE_NAME = 'sagemakerRetrainingCallBudget';

/** While a call waits its turn, the activity making it heartbeats this often, so waiting is not mistaken for a dead worker. */
const QUEUED_HEARTBEAT_MS = 5000;

/** The activity on whose behalf a call is made, if any (the budget also serves calls made outside activities). */
function callingActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Makes every call through this client wait for the budget. Adding it twice to one client is a no-op.
 * An activity heartbeats while its call is queued: with a thousand pipelines on
 * one worker a call may wait minutes for its turn, and the activity's heartbeat timeout, not a
 * start-to-close timeout, is what tells a slow queue from a dead worker.
 */
export function spendCallBudget(client: SageMakerClient, budget: SageMakerCallBudget): void {
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(`${MIDDLEWARE_NAME} `))) return;
  client.middlewareStack.add(
    (next) => async (args) => {
      const activity = callingActivity();
      // Details stay the activity's business: a wait re-reports its progress right after its call.
      const beat = () => activity?.heartbeat();
      const timer = activity ? setInterval(beat, QUEUED_HEARTBEAT_MS) : undefined;
      try {
        await budget.take();
      } finally {
        clearInterval(timer);
      }
      return next(args);
    },
    { step: 'initialize', name: MIDDLEWARE_NAME },
  );
}

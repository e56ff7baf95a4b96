import type { Cancel, Clock } from '../ports/clock.js';

/**
 * How often the store is pinged. In aws mode a ping is an S3 HeadBucket and a DynamoDB
 * DescribeTable: 3.3 HEAD requests a second per process, about 8.6 million a month, $3.50 at
 * S3 Standard's $0.0004 per 1,000 (DescribeTable is free).
 */
export const READINESS_PROBE_MS = 300;
/**
 * How long readiness outlives the store's latest answer: the contract has /readyz follow the
 * store's state within one second; this leaves room for the caller's sampling.
 */
export const READINESS_BUDGET_MS = 900;

/**
 * Readiness: the store answered a ping within the last READINESS_BUDGET_MS and the node is not
 * draining. Pings start every READINESS_PROBE_MS and may overlap, each given the whole budget,
 * and a failed ping alone changes nothing. So on a busy host one failed ping, or answers up to
 * BUDGET - PROBE (600 ms) later than the one before, keep the node ready (before, one ping over
 * 450 ms or one failure turned it unready and a Varnish or load balancer probe could take the
 * whole region out), while a store that stops answering turns the node unready within
 * READINESS_BUDGET_MS of its last answer, and one answer makes it ready again. The probe runs
 * in the background so `/readyz` costs nothing and never waits on a dead store.
 */
export class Readiness {
  /** When the store last answered (the clock's ms); undefined before the first answer. */
  private lastAnswer?: number;
  private draining = false;
  private cancelProbes?: Cancel;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly clock: Clock,
  ) {}

  get ready(): boolean {
    return this.storeUp && !this.draining;
  }

  get reason(): string {
    if (this.draining) return 'draining';
    return this.storeUp ? 'ready' : 'store unreachable';
  }

  private get storeUp(): boolean {
    return this.lastAnswer !== undefined && this.clock.now() - this.lastAnswer < READINESS_BUDGET_MS;
  }

  async start(): Promise<void> {
    await this.probe();
    this.cancelProbes = this.clock.every(READINESS_PROBE_MS, () => void this.probe());
  }

  drain(): void {
    this.draining = true;
  }

  stop(): void {
    this.cancelProbes?.();
  }

  private async probe(): Promise<void> {
    let cancelTimeout: Cancel | undefined;
    try {
      await Promise.race([
        this.ping(),
        new Promise((_, reject) => {
          cancelTimeout = this.clock.after(READINESS_BUDGET_MS, () => reject(new Error('ping timeout')));
        }),
      ]);
      this.lastAnswer = this.clock.now();
    } catch {
      // A failed ping changes nothing: readiness runs out READINESS_BUDGET_MS after the last answer.
    } finally {
      cancelTimeout?.();
    }
  }
}

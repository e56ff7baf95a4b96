/** How often the store is pinged; readiness follows the store within one second. */
export const READINESS_PROBE_MS = 500;
const PROBE_TIMEOUT_MS = 450;

/**
 * Readiness: the store answered its latest ping and the node is not draining. The probe runs
 * in the background so `/readyz` costs nothing and never waits on a dead store.
 */
export class Readiness {
  private storeUp = false;
  private draining = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ping: () => Promise<void>) {}

  get ready(): boolean {
    return this.storeUp && !this.draining;
  }

  get reason(): string {
    if (this.draining) return 'draining';
    return this.storeUp ? 'ready' : 'store unreachable';
  }

  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), READINESS_PROBE_MS);
    this.timer.unref();
  }

  drain(): void {
    this.draining = true;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async probe(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ping(),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error('ping timeout')), PROBE_TIMEOUT_MS);
        }),
      ]);
      this.storeUp = true;
    } catch {
      this.storeUp = false;
    } finally {
      clearTimeout(timeout);
    }
  }
}

import type { Clock } from '../ports/clock.js';
import type { Purger } from '../ports/purger.js';
import { abortAfter, sleep } from './clock-waits.js';
import { systemClock } from './system-clock.js';

export interface PurgeClientOptions {
  /** Base URLs of the CDN tier (`http://edge-1:6081`); PURGE goes to `${base}/live/{event}/{path}`. */
  readonly baseUrls: readonly string[];
  readonly onOutcome: (outcome: 'ok' | 'retried' | 'failed' | 'dropped') => void;
  readonly onFailure?: (url: string, reason: string) => void;
  /** Attempts per URL. @default 3 */
  readonly attempts?: number;
  /** First retry delay; doubles each time. @default 100 */
  readonly retryDelayMs?: number;
  /** Per-attempt timeout. @default 2000 */
  readonly timeoutMs?: number;
  /** Purges in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Queued purges beyond which new ones are dropped (and counted). @default 10000 */
  readonly maxQueued?: number;
  /** Told the backlog (queued plus in flight) whenever it changes, for a gauge. */
  readonly onBacklog?: (backlog: number) => void;
  /** Times the attempts and the pauses between them. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Sends PURGE requests to every CDN base URL, with bounded concurrency, a bounded queue and
 * retries with exponential backoff. A 2xx or 404 (nothing cached) counts as done.
 */
export class PurgeClient implements Purger {
  private readonly queue: string[] = [];
  private active = 0;
  private idle: (() => void)[] = [];
  private readonly clock: Clock;

  constructor(private readonly options: PurgeClientOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Purges queued or in flight: bounded by maxQueued + concurrency. */
  get backlog(): number {
    return this.queue.length + this.active;
  }

  purge(event: string, paths: readonly string[]): void {
    for (const base of this.options.baseUrls) {
      for (const path of paths) {
        if (this.queue.length >= (this.options.maxQueued ?? 10_000)) {
          this.options.onOutcome('dropped');
          continue;
        }
        const suffix = path === '*' ? '*' : path.split('/').map(encodeURIComponent).join('/');
        this.queue.push(`${base}/live/${encodeURIComponent(event)}/${suffix}`);
      }
    }
    this.pump();
    this.options.onBacklog?.(this.backlog);
  }

  async flush(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.active < (this.options.concurrency ?? 16) && this.queue.length > 0) {
      const url = this.queue.shift()!;
      this.active++;
      void this.send(url).finally(() => {
        this.active--;
        this.pump();
        this.options.onBacklog?.(this.backlog);
        if (this.active === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async send(url: string): Promise<void> {
    const attempts = this.options.attempts ?? 3;
    let delay = this.options.retryDelayMs ?? 100;
    let reason = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const limit = abortAfter(this.clock, this.options.timeoutMs ?? 2000);
      try {
        const response = await fetch(url, { method: 'PURGE', signal: limit.signal });
        await response.body?.cancel();
        if (response.ok || response.status === 404) {
          this.options.onOutcome(attempt === 1 ? 'ok' : 'retried');
          return;
        }
        reason = `status ${response.status}`;
      } catch (error) {
        reason = (error as Error).message;
      } finally {
        limit.cancel();
      }
      if (attempt < attempts) {
        await sleep(this.clock, delay);
        delay *= 2;
      }
    }
    this.options.onOutcome('failed');
    this.options.onFailure?.(url, reason);
  }
}

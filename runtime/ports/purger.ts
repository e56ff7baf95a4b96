/** Removes objects from the CDN tier (PURGE fan-out). Fire and forget: outcomes go to metrics. */
export interface Purger {
  /** Purges `/live/{event}/{path}`; a path of `*` purges the whole event. */
  purge(event: string, paths: readonly string[]): void;
  /** Waits for queued purges (shutdown, tests). */
  flush(): Promise<void>;
}

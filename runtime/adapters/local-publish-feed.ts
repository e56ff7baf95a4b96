import type { ArrivingElsewhere, PublishedObject, PublishFeed, PublishListener } from '../ports/publish-feed.js';

/** Publish feed of a single instance: announcements reach this process's listeners at once. */
export class LocalPublishFeed implements PublishFeed {
  private readonly listeners: PublishListener[] = [];

  announce(object: PublishedObject): void {
    for (const listener of this.listeners) listener(object);
  }

  watch(): void {}

  unwatch(): void {}

  subscribe(listener: PublishListener): void {
    this.listeners.push(listener);
  }

  /** One instance: its own PUTs are in its stream registry already. */
  streamStarted(): void {}

  streamEnded(): void {}

  arriving(): readonly ArrivingElsewhere[] {
    return [];
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
  }
}

import type { Clock } from '../ports/clock.js';
import type { ArrivingElsewhere } from '../ports/publish-feed.js';
import type { StreamRelay } from '../ports/stream-relay.js';
import { IngestStream, RELAY_LINGER_MS } from './ingest-stream.js';

/**
 * PUTs arriving on other instances, as local copies fed by their relay (serving while ingesting
 * across instances): one relay read per stream on this instance, however many requests stream
 * it, with the same rules as a local stream (its end only once the PUT was acknowledged there,
 * every reader cut if it fails).
 */
export class RemoteStreams {
  private readonly copies = new Map<string, Promise<IngestStream | undefined>>();

  /** `relay`: undefined for an instance alone (memory mode): nothing arrives elsewhere. */
  constructor(
    private readonly relay: StreamRelay | undefined,
    private readonly clock: Clock,
  ) {}

  /**
   * The local copy of a PUT arriving elsewhere, once its relay answered; undefined when it did
   * not (the PUT ended long ago, or its instance is gone): the caller looks at the next candidate.
   */
  copyOf(arriving: ArrivingElsewhere): Promise<IngestStream | undefined> {
    const existing = this.copies.get(arriving.relay);
    if (existing) return existing;
    if (!this.relay) return Promise.resolve(undefined);
    const stream = new IngestStream(arriving.candidate);
    const forget = (): void => {
      this.copies.delete(arriving.relay);
    };
    const copy = this.relay
      .open(arriving.relay, {
        append: (chunk) => stream.append(chunk),
        end: () => stream.markComplete(),
        fail: () => stream.markFailed(),
      })
      .then((answered) => {
        if (!answered) {
          forget();
          return undefined;
        }
        // Kept a little past its end: requests that still see the record get the whole bytes here.
        let stop = (): void => undefined;
        const ended = (): void => {
          if (stream.state === 'failed') forget();
          else if (stream.state === 'complete') this.clock.after(RELAY_LINGER_MS, forget);
          else return;
          stop();
        };
        stop = stream.subscribe(ended);
        ended();
        return stream;
      });
    this.copies.set(arriving.relay, copy);
    return copy;
  }

  async close(): Promise<void> {
    await this.relay?.close();
  }
}

import type { ServerResponse } from 'node:http';
import type { Clock } from '../ports/clock.js';
import type { IngestStream } from '../service/ingest-stream.js';

/**
 * A reader that takes no bytes for this long while the origin has bytes for it (its socket
 * buffer stays full) is dropped: one viewer that stops reading must not keep a stream's memory
 * or a socket forever. Other readers of the same stream are not affected.
 */
export const READER_STALL_MS = 10_000;

/** How a streamed answer ended. */
export type StreamedOutcome = 'complete' | 'cut' | 'stalled' | 'left';

export interface StreamAnswerOptions {
  /** HEAD: the headers only. */
  readonly headOnly: boolean;
  readonly clock: Clock;
  /** @default READER_STALL_MS */
  readonly stallMs?: number;
  readonly onEnd: (outcome: StreamedOutcome) => void;
}

/**
 * Writes a 200 that streams an object still being ingested: the bytes received so far at once,
 * then each chunk as it arrives, from the stream's one buffer (views, never copies). With the
 * PUT's declared length the answer has that Content-Length, else it is chunked. The answer's end
 * (the last byte of a declared length, the last chunk of a chunked one) is written only once the
 * PUT is acknowledged; if the PUT fails first, the connection is reset, so a cache in front sees
 * an incomplete answer and keeps nothing.
 *
 * Memory per reader is bounded: a chunk is written only while the socket takes it (Node's
 * `write` returns false once its buffer is full, and the reader waits for 'drain'), so a slow
 * reader costs at most its socket buffer and one chunk; one that takes nothing for `stallMs` is
 * dropped.
 */
export function streamAnswer(res: ServerResponse, stream: IngestStream, head: string[], options: StreamAnswerOptions): void {
  const declared = stream.candidate.declaredSize;
  if (declared !== undefined) head.push('Content-Length', String(declared));
  res.writeHead(200, head);
  if (options.headOnly) {
    res.end();
    options.onEnd('complete');
    return;
  }
  // The headers go out on their own, before any body byte. A cache in front then knows at once
  // that the answer started, and its first read holds only them: Varnish 7.1, on a body with
  // Content-Length, keeps the body bytes it read along with the headers until more arrive, so a
  // first chunk sent with the headers would wait there for the second (docs/cdn/varnish.md).
  res.flushHeaders();
  const stallMs = options.stallMs ?? READER_STALL_MS;
  let sent = 0;
  let draining = false;
  let finished = false;
  let cancelStall: (() => void) | undefined;

  const finish = (outcome: StreamedOutcome): void => {
    if (finished) return;
    finished = true;
    unsubscribe();
    cancelStall?.();
    res.off('drain', onDrain);
    res.off('close', onClose);
    options.onEnd(outcome);
  };
  const pump = (): void => {
    if (finished) return;
    if (stream.state === 'failed') {
      res.destroy();
      finish('cut');
      return;
    }
    if (draining) return;
    const limit = stream.sendable;
    while (sent < limit) {
      const piece = stream.read(sent, limit);
      sent += piece.length;
      if (!res.write(piece)) {
        draining = true;
        cancelStall = options.clock.after(stallMs, () => {
          res.destroy();
          finish('stalled');
        });
        res.once('drain', onDrain);
        return;
      }
    }
    if (stream.state === 'complete' && sent === stream.size) {
      res.end();
      finish('complete');
    }
  };
  const onDrain = (): void => {
    draining = false;
    cancelStall?.();
    cancelStall = undefined;
    pump();
  };
  const onClose = (): void => {
    if (!res.writableFinished) finish('left');
  };
  res.on('close', onClose);
  const unsubscribe = stream.subscribe(pump);
  pump();
}

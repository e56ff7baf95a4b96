import { randomUUID } from 'node:crypto';
import type { Candidate, InProgressCandidate } from '../domain/model.js';
import type { Clock } from '../ports/clock.js';
import { BodyBuffer } from './body-buffer.js';

/**
 * Serving while ingesting (contract v3): the bytes of one PUT as they arrive, shared by every
 * answer that streams them. One buffer feeds every reader (each keeps only its position), a
 * reader that joins late starts at byte 0, and the object's end is given to readers only once
 * the PUT is acknowledged (durable), so a PUT that fails before its ack can still be taken back
 * from every reader: their answers are cut, never completed, and no cache keeps a truncated or
 * unacknowledged object.
 */

/**
 * - receiving: bytes are still arriving;
 * - received: the last byte arrived, the durable write is under way;
 * - complete: acknowledged, `candidate` is its record;
 * - failed: the PUT failed (connection lost, short body, size limit, store): never visible.
 */
export type StreamState = 'receiving' | 'received' | 'complete' | 'failed';

export class IngestStream {
  private readonly bytes: BodyBuffer;
  private state_: StreamState = 'receiving';
  private completed?: Candidate;
  private readonly listeners = new Set<() => void>();
  /** Set when an answer first streamed it (the path's pin was taken for its pipeline). */
  served = false;
  /** Names it on this instance's relay (unguessable: the relay URL is the only credential). */
  readonly id = randomUUID();

  constructor(readonly candidate: InProgressCandidate) {
    this.bytes = new BodyBuffer(candidate.declaredSize);
  }

  get state(): StreamState {
    return this.state_;
  }

  /** Bytes received so far. */
  get size(): number {
    return this.bytes.size;
  }

  /** The acknowledged candidate, once complete. */
  get complete(): Candidate | undefined {
    return this.completed;
  }

  /**
   * How many bytes readers may send now: all once acknowledged; before that, all but the
   * object's end (the last byte of a declared length; an undeclared length's end is the answer's
   * last chunk, which readers send only when complete).
   */
  get sendable(): number {
    const size = this.bytes.size;
    if (this.state_ === 'complete') return size;
    const declared = this.candidate.declaredSize;
    return declared !== undefined && size >= declared ? declared - 1 : size;
  }

  /** A view of received bytes from `from`, ending at `to` or sooner (see BodyBuffer.read). */
  read(from: number, to: number): Buffer {
    return this.bytes.read(from, to);
  }

  /** Keeps a chunk of the body (the PUT's reader has checked it against the limits) and tells the readers. */
  append(chunk: Buffer): void {
    if (this.state_ !== 'receiving' || chunk.length === 0) return;
    this.bytes.append(chunk);
    this.notify();
  }

  /** The whole body, once its last byte arrived: what the durable write stores. */
  body(): Buffer {
    return this.bytes.body();
  }

  /** The body ended whole; the durable write follows. */
  markReceived(): void {
    if (this.state_ !== 'receiving') return;
    this.state_ = 'received';
    this.notify();
  }

  /**
   * The PUT was acknowledged (with this record, on the instance that received it; a relayed copy
   * learns only that it ended): readers may finish.
   */
  markComplete(candidate?: Candidate): void {
    if (this.state_ === 'complete' || this.state_ === 'failed') return;
    this.completed = candidate;
    this.state_ = 'complete';
    this.notify();
    this.listeners.clear();
  }

  /** The PUT failed: every reader's answer is cut. */
  markFailed(): void {
    if (this.state_ === 'complete' || this.state_ === 'failed') return;
    this.state_ = 'failed';
    this.notify();
    this.listeners.clear();
  }

  /** Calls `listener` after every change (bytes, state) until the stream ends or it is removed. */
  subscribe(listener: () => void): () => void {
    if (this.state_ === 'complete' || this.state_ === 'failed') return noop;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const noop = (): void => undefined;

/**
 * The PUTs of this instance whose bytes are arriving, by object: what delivery may serve before
 * their ack. A stream leaves when it completes (its candidate is in the store then) or fails;
 * readers that hold it keep reading it. With a relay (other instances), each stream is also
 * found by its id a few seconds past its end, so an instance that learned of it late still gets
 * its whole bytes.
 */
export class StreamRegistry {
  private readonly byObject = new Map<string, IngestStream[]>();
  private readonly byId = new Map<string, IngestStream>();
  private relayBase?: string;

  /** `onStart`: told of each new stream, to wake the requests held for its object. */
  constructor(
    private readonly onStart: (event: string, path: string) => void,
    private readonly clock: Clock,
  ) {}

  /** Other instances reach this one's streams under `base` (`http://host:port`). */
  enableRelay(base: string): void {
    this.relayBase = base;
  }

  /** Where another instance reads the stream from, when a relay is enabled. */
  relayUrl(stream: IngestStream): string | undefined {
    return this.relayBase === undefined ? undefined : `${this.relayBase}${RELAY_PATH}${stream.id}`;
  }

  /** Whether a relay URL is this instance's own (its streams are in the registry already). */
  isOwn(relay: string): boolean {
    return this.relayBase !== undefined && relay.startsWith(`${this.relayBase}${RELAY_PATH}`);
  }

  /** The stream a relay request names, while it arrives and RELAY_LINGER_MS after. */
  relayed(id: string): IngestStream | undefined {
    return this.byId.get(id);
  }

  start(candidate: InProgressCandidate): IngestStream {
    const stream = new IngestStream(candidate);
    const key = keyOf(candidate.event, candidate.path);
    const streams = this.byObject.get(key);
    // A second PUT of the same pipeline's object replaces the first for new readers; the
    // first's readers keep the one they started.
    if (streams) {
      const others = streams.filter((s) => s.candidate.pipeline !== candidate.pipeline);
      others.push(stream);
      this.byObject.set(key, others);
    } else {
      this.byObject.set(key, [stream]);
    }
    if (this.relayBase !== undefined) this.byId.set(stream.id, stream);
    const leave = (): void => {
      if (stream.state === 'complete' || stream.state === 'failed') {
        stop();
        this.remove(stream);
        if (this.byId.has(stream.id)) this.clock.after(RELAY_LINGER_MS, () => this.byId.delete(stream.id));
      }
    };
    const stop = stream.subscribe(leave);
    this.onStart(candidate.event, candidate.path);
    return stream;
  }

  /** Streams of the object still arriving (one per pipeline, the newest). */
  of(event: string, path: string): readonly IngestStream[] {
    return this.byObject.get(keyOf(event, path)) ?? NONE;
  }

  /** Streams still arriving, over all objects (status, tests). */
  get size(): number {
    let count = 0;
    for (const streams of this.byObject.values()) count += streams.length;
    return count;
  }

  private remove(stream: IngestStream): void {
    const key = keyOf(stream.candidate.event, stream.candidate.path);
    const streams = this.byObject.get(key);
    if (!streams) return;
    const kept = streams.filter((s) => s !== stream);
    if (kept.length === 0) this.byObject.delete(key);
    else if (kept.length !== streams.length) this.byObject.set(key, kept);
  }
}

/** The relay's path prefix: `GET /relay/{stream id}`. */
export const RELAY_PATH = '/relay/';
/**
 * How long an ended stream stays reachable by its id: longer than the feed's poll and an
 * instance's read of the record, so a relay opened just after the end still gets the bytes.
 */
export const RELAY_LINGER_MS = 5_000;

const NONE: readonly IngestStream[] = [];

function keyOf(event: string, path: string): string {
  return `${event}\n${path}`;
}

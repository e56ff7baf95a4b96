/**
 * The bytes of one object as they arrive, kept once. With a declared length the object's buffer
 * is allocated once and each chunk is copied in while the next is on the wire (a body that
 * arrives as one whole chunk is kept as it is), so the ack never waits for a copy of the whole
 * object; without one, the chunks are kept as they came and joined once at the end. Readers of an
 * object still arriving take views of the same bytes, never copies.
 */
export class BodyBuffer {
  private into?: Buffer;
  private whole?: Buffer;
  private chunks: Buffer[] = [];
  /** Byte offset of each kept chunk (undeclared length). */
  private starts: number[] = [];
  private received = 0;
  private joined?: Buffer;

  /** `declared`: the Content-Length; the caller never appends past it. */
  constructor(private readonly declared?: number) {}

  get size(): number {
    return this.received;
  }

  append(chunk: Buffer): void {
    const offset = this.received;
    this.received += chunk.length;
    if (this.declared !== undefined && this.declared > 0) {
      if (offset === 0 && chunk.length === this.declared) {
        this.whole = chunk;
        return;
      }
      this.into ??= Buffer.allocUnsafe(this.declared);
      chunk.copy(this.into, offset);
      return;
    }
    this.starts.push(offset);
    this.chunks.push(chunk);
  }

  /** The whole body, once its last byte arrived (the chunks, if kept, are joined and let go). */
  body(): Buffer {
    if (!this.joined) {
      this.joined =
        this.whole ?? this.into?.subarray(0, this.received) ?? (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received));
      this.chunks = [];
      this.starts = [];
    }
    return this.joined;
  }

  /** A view of bytes from `from`, ending at `to` or sooner (at the end of one kept chunk). */
  read(from: number, to: number): Buffer {
    const source = this.joined ?? this.whole ?? this.into;
    if (source) return source.subarray(from, to);
    // The chunk holding `from`: the last whose start is at or before it.
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= from) low = mid;
      else high = mid - 1;
    }
    const start = this.starts[low]!;
    const chunk = this.chunks[low]!;
    return chunk.subarray(from - start, Math.min(chunk.length, to - start));
  }
}

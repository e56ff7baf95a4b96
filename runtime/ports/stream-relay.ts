/**
 * Reads a PUT that another instance is receiving, from that instance's relay: the bytes so far,
 * then each chunk as it arrives. The answer ends only once the PUT is acknowledged there, and is
 * cut if it fails, exactly as a delivery answer streaming it would be.
 */
export interface RelaySink {
  append(chunk: Buffer): void;
  /** The PUT was acknowledged on its instance: every byte has arrived. */
  end(): void;
  /** The PUT failed there, or the relay broke: the copy must not be used. */
  fail(): void;
}

export interface StreamRelay {
  /**
   * Opens the relay at `url`; resolves true once it answered 200 (bytes then go to `sink`),
   * false if it did not (the stream is unknown there, or the instance is unreachable).
   */
  open(url: string, sink: RelaySink): Promise<boolean>;
  close(): Promise<void>;
}

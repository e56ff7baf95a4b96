/**
 * Epoch-locks DASH packagers, as redundant encoders are (both pipelines publish the same
 * timeline): ffmpeg's dash muxer takes its MPD's availabilityStartTime from its own start, so two
 * packagers started a moment apart publish manifests that place the same segment that moment
 * apart, and a player whose manifest moves from one pipeline to the other sees its live timeline
 * jump. The first availabilityStartTime seen for an event is written into every later manifest of
 * that event (the media timestamps already agree: both packagers encode the same test pattern
 * from frame 0). Used by the demo's ingest proxy and the tests'.
 */

const AVAILABILITY_START = /availabilityStartTime="[^"]*"/;

export class DashEpochLock {
  /** The first MPD availabilityStartTime attribute seen per event. */
  private readonly epochs = new Map<string, string>();

  /** The manifest with the event's first availabilityStartTime (unchanged when it has none). */
  lock(event: string, manifest: Buffer): Buffer {
    const text = manifest.toString('utf8');
    const found = AVAILABILITY_START.exec(text)?.[0];
    if (found === undefined) return manifest;
    const epoch = this.epochs.get(event) ?? found;
    this.epochs.set(event, epoch);
    return found === epoch ? manifest : Buffer.from(text.replace(AVAILABILITY_START, epoch));
  }
}

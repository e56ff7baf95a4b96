/**
 * Tells a cache whether a key was written locally after a read of it started, so a slow read
 * never puts older data back over a newer local write. Memory stays bounded: keys pruned from
 * the map fall back to a floor, which errs towards "written" (the read is served, not cached).
 */
export class WriteSequence {
  private readonly writes = new Map<string, number>();
  private sequence = 0;
  private floor = 0;

  constructor(private readonly maxKeys: number) {}

  /** A mark to take when a read starts. */
  mark(): number {
    return this.sequence;
  }

  written(key: string): void {
    this.writes.delete(key);
    this.writes.set(key, ++this.sequence);
    if (this.writes.size <= this.maxKeys) return;
    let drop = this.writes.size >> 1;
    for (const [old, sequence] of this.writes) {
      if (drop-- <= 0) break;
      this.writes.delete(old);
      this.floor = Math.max(this.floor, sequence);
    }
  }

  writtenSince(key: string, mark: number): boolean {
    return (this.writes.get(key) ?? this.floor) > mark;
  }

  clear(): void {
    this.writes.clear();
  }
}

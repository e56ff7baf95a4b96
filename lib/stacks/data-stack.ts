import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { MetadataTables } from '../constructs/metadata-tables.js';
import { SegmentBucket } from '../constructs/segment-bucket.js';

/** The global tables, held by the primary region's data stack. */
export interface DataStackTables {
  /** Prefix of the table names. */
  readonly tablePrefix: string;
  /** Every other origin region: each gets a replica. */
  readonly replicaRegions: readonly string[];
}

export interface DataStackProps extends StackProps {
  /** Physical name of this region's segment bucket (peers write to it by name). */
  readonly segmentBucketName: string;
  /** Segments an event keeps; sizes the bucket's expiry. */
  readonly windowSegments: number;
  /** Longest segment duration in use, in milliseconds. */
  readonly segmentDurationMs: number;
  /**
   * Only in the primary region: the global tables and their replicas.
   * @default - no tables in this stack
   */
  readonly tables?: DataStackTables;
}

/**
 * A region's state: its segment bucket (each region reads and serves its own copy) and, in the
 * primary region, the global tables. Termination protection is on, and everything is retained:
 * redeploying or deleting an origin stack never touches data.
 */
export class DataStack extends Stack {
  public readonly segments: SegmentBucket;
  public readonly tables?: MetadataTables;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? true });
    this.segments = new SegmentBucket(this, 'Segments', {
      bucketName: props.segmentBucketName,
      windowSegments: props.windowSegments,
      segmentDuration: Duration.millis(props.segmentDurationMs),
    });
    if (props.tables) {
      this.tables = new MetadataTables(this, 'Metadata', {
        tablePrefix: props.tables.tablePrefix,
        replicaRegions: props.tables.replicaRegions,
      });
    }
  }
}

import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY, TABLE_SUFFIXES, TABLE_TTL_ATTRIBUTE } from '../../runtime/aws-contract.js';
import { withDefaults } from '../defaults.js';
import { DEFAULT_TABLE_PREFIX, tableNames } from '../naming.js';

export type MetadataTableKey = keyof typeof TABLE_SUFFIXES;

export interface MetadataTablesProps {
  /**
   * Prefix of the physical table names; the runtime reads it as `LIVE_ORIGIN_TABLE_PREFIX`.
   * @default DEFAULT_TABLE_PREFIX ('live-origin-')
   */
  readonly tablePrefix?: string;
  /**
   * Regions, other than this stack's, that get a replica of every table.
   * @default [] (a single-region table)
   */
  readonly replicaRegions?: readonly string[];
  /**
   * Refuse DeleteTable on every replica.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the tables when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Defaults merged under the caller's props. */
export function metadataTablesDefaults(props: MetadataTablesProps): Required<MetadataTablesProps> {
  return withDefaults(
    {
      tablePrefix: DEFAULT_TABLE_PREFIX,
      replicaRegions: [],
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    },
    props,
  );
}

/**
 * The runtime's DynamoDB tables (those listed in aws-contract.ts) as global tables: on-demand,
 * point-in-time recovery, TTL, and a replica in every other origin region so that a failover
 * finds the live edge's metadata already there.
 */
export class MetadataTables extends Construct {
  /** Every table, keyed like `TABLE_SUFFIXES`. */
  public readonly tables: Readonly<Record<MetadataTableKey, dynamodb.TableV2>>;
  /** The prefix the runtime must be given. */
  public readonly tablePrefix: string;
  /** Regions holding a replica, besides this stack's region. */
  public readonly replicaRegions: readonly string[];

  constructor(scope: Construct, id: string, props: MetadataTablesProps = {}) {
    super(scope, id);
    const resolved = metadataTablesDefaults(props);
    validate(resolved, Stack.of(this).region);
    this.tablePrefix = resolved.tablePrefix;
    this.replicaRegions = [...resolved.replicaRegions];

    const names = tableNames(resolved.tablePrefix);
    const tables = {} as Record<MetadataTableKey, dynamodb.TableV2>;
    for (const key of Object.keys(TABLE_SUFFIXES) as MetadataTableKey[]) {
      tables[key] = new dynamodb.TableV2(this, pascalCase(key), {
        tableName: names[key],
        partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
        sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: TABLE_TTL_ATTRIBUTE,
        deletionProtection: resolved.deletionProtection,
        replicas: this.replicaRegions.map((region) => ({ region })),
        removalPolicy: resolved.removalPolicy,
      });
    }
    this.tables = tables;
  }
}

function pascalCase(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

function validate(props: Required<MetadataTablesProps>, stackRegion: string): void {
  if (!/^[A-Za-z0-9_.-]*$/.test(props.tablePrefix)) {
    throw new Error(`MetadataTables: tablePrefix "${props.tablePrefix}" may only use A-Z a-z 0-9 _ . -`);
  }
  const longest = Math.max(...Object.values(TABLE_SUFFIXES).map((suffix) => suffix.length));
  if (props.tablePrefix.length + longest > 255) {
    throw new Error('MetadataTables: tablePrefix makes table names longer than 255 characters');
  }
  if (props.replicaRegions.length === 0) return;
  if (Token.isUnresolved(stackRegion)) {
    throw new Error('MetadataTables: replicas need a stack with a concrete region (set env.region)');
  }
  if (props.replicaRegions.includes(stackRegion)) {
    throw new Error(`MetadataTables: replicaRegions must not include the stack's own region (${stackRegion}); it holds the source table`);
  }
  const duplicates = props.replicaRegions.filter((region, index) => props.replicaRegions.indexOf(region) !== index);
  if (duplicates.length > 0) {
    throw new Error(`MetadataTables: replicaRegions lists ${duplicates.join(', ')} more than once`);
  }
}

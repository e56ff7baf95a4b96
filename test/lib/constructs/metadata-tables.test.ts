import { describe, expect, it } from 'vitest';
import { MetadataTables } from '../../../lib/constructs/metadata-tables.js';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY, TABLE_SUFFIXES, TABLE_TTL_ATTRIBUTE } from '../../../runtime/aws-contract.js';
import { regionalStack, resourcesOf, template } from '../helpers.js';

function build(props: ConstructorParameters<typeof MetadataTables>[2] = {}) {
  const stack = regionalStack();
  const tables = new MetadataTables(stack, 'Metadata', { replicaRegions: ['eu-west-1'], ...props });
  return { stack, tables, tpl: template(stack) };
}

describe('MetadataTables', () => {
  const { tables, tpl } = build();

  it('creates one global table per suffix of the runtime contract', () => {
    const names = resourcesOf(tpl, 'AWS::DynamoDB::GlobalTable').map(([, props]) => props.TableName);
    expect(names.sort()).toEqual(
      Object.values(TABLE_SUFFIXES)
        .map((suffix) => `live-origin-${suffix}`)
        .sort(),
    );
    expect(Object.keys(tables.tables).sort()).toEqual(Object.keys(TABLE_SUFFIXES).sort());
  });

  it('keys every table by string pk and sk', () => {
    for (const [, props] of resourcesOf(tpl, 'AWS::DynamoDB::GlobalTable')) {
      expect(props.KeySchema).toEqual([
        { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
      ]);
      expect(props.AttributeDefinitions).toEqual(
        expect.arrayContaining([
          { AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: TABLE_SORT_KEY, AttributeType: 'S' },
        ]),
      );
    }
  });

  it('bills on demand', () => {
    tpl.allResourcesProperties('AWS::DynamoDB::GlobalTable', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('expires items on the contract TTL attribute', () => {
    tpl.allResourcesProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: TABLE_TTL_ATTRIBUTE, Enabled: true } });
  });

  it('puts a replica in this region and every replica region, each with PITR and deletion protection', () => {
    for (const [, props] of resourcesOf(tpl, 'AWS::DynamoDB::GlobalTable')) {
      const replicas = props.Replicas as Record<string, unknown>[];
      expect(replicas.map((replica) => replica.Region).sort()).toEqual(['eu-west-1', 'us-east-1']);
      for (const replica of replicas) {
        expect(replica).toMatchObject({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true });
      }
    }
  });

  it('retains the tables when the stack deletes them', () => {
    for (const resource of Object.values(tpl.findResources('AWS::DynamoDB::GlobalTable'))) {
      expect(resource.DeletionPolicy).toBe('Retain');
    }
  });

  it('uses the given table prefix', () => {
    build({ tablePrefix: 'lo-prod-' }).tpl.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TableName: 'lo-prod-candidates' });
  });

  it("refuses a replica in the stack's own region", () => {
    expect(() => build({ replicaRegions: ['us-east-1'] })).toThrow(/must not include the stack's own region/);
  });
});

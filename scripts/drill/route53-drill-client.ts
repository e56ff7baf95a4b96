/**
 * `DrillRoute53` on the AWS SDK's Route 53 client: the only part of the drill that talks to
 * AWS. Its requests are checked on the wire against a loopback stand-in for the Route 53
 * endpoint (test/scripts/drill/route53-drill-client.test.ts); no Route 53 emulator exists.
 */
import {
  GetHealthCheckStatusCommand,
  ListHealthChecksCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourcesCommand,
  Route53Client,
  TestDNSAnswerCommand,
  UpdateHealthCheckCommand,
} from '@aws-sdk/client-route-53';
import { regionOfSetIdentifier } from '../../lib/naming.js';
import type { DrillRoute53, FailoverRecord } from './failover-drill.js';

/** ListTagsForResources takes at most ten ids per call. */
const TAG_BATCH = 10;

const withoutDot = (name: string): string => name.replace(/\.$/, '');

export class Route53DrillClient implements DrillRoute53 {
  constructor(private readonly client: Route53Client) {}

  async findHealthCheckId(name: string): Promise<string | undefined> {
    const ids: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.client.send(new ListHealthChecksCommand({ Marker: marker }));
      ids.push(...(page.HealthChecks ?? []).map((check) => check.Id!).filter(Boolean));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
    for (let at = 0; at < ids.length; at += TAG_BATCH) {
      const tags = await this.client.send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: ids.slice(at, at + TAG_BATCH) }));
      const match = (tags.ResourceTagSets ?? []).find((set) => (set.Tags ?? []).some((tag) => tag.Key === 'Name' && tag.Value === name));
      if (match?.ResourceId) return match.ResourceId;
    }
    return undefined;
  }

  async setInverted(healthCheckId: string, inverted: boolean): Promise<void> {
    await this.client.send(new UpdateHealthCheckCommand({ HealthCheckId: healthCheckId, Inverted: inverted }));
  }

  async checkerStatuses(healthCheckId: string): Promise<readonly string[]> {
    const status = await this.client.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId }));
    return (status.HealthCheckObservations ?? []).map((observation) => observation.StatusReport?.Status ?? '');
  }

  async failoverRecords(hostedZoneId: string, recordName: string): Promise<readonly FailoverRecord[]> {
    const page = await this.client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: recordName, StartRecordType: 'A', MaxItems: 10 }),
    );
    const records: FailoverRecord[] = [];
    for (const set of page.ResourceRecordSets ?? []) {
      const region = set.SetIdentifier ? regionOfSetIdentifier(set.SetIdentifier) : undefined;
      if (withoutDot(set.Name ?? '') !== recordName || set.Type !== 'A' || !set.Failover || !region || !set.AliasTarget?.DNSName) continue;
      records.push({ region, role: set.Failover, aliasDnsName: withoutDot(set.AliasTarget.DNSName) });
    }
    return records;
  }

  async answer(hostedZoneId: string, recordName: string): Promise<readonly string[]> {
    const answer = await this.client.send(new TestDNSAnswerCommand({ HostedZoneId: hostedZoneId, RecordName: recordName, RecordType: 'A' }));
    return answer.RecordData ?? [];
  }
}

/** Route 53 is a global service with its API in us-east-1. */
export function createRoute53DrillClient(options: { readonly endpoint?: string } = {}): Route53DrillClient {
  return new Route53DrillClient(new Route53Client({ region: 'us-east-1', ...(options.endpoint ? { endpoint: options.endpoint } : {}) }));
}

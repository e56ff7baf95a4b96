/**
 * The drill's Route 53 adapter on the wire: the real SDK client sends to a loopback HTTP server
 * standing in for the Route 53 endpoint (no Route 53 emulator exists), which checks each
 * request's method, path and XML body and answers in Route 53's response shapes. The last test
 * runs a whole drill through it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runDrill } from '../../../scripts/drill/failover-drill.js';
import { Route53DrillClient } from '../../../scripts/drill/route53-drill-client.js';

const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** Route 53 as far as the drill uses it: two endpoint checks, two failover records. */
class FakeRoute53Endpoint {
  readonly seen: Seen[] = [];
  inverted: Record<string, boolean> = { 'hc-east': false, 'hc-west': false };
  healthCheckIds = Array.from({ length: 12 }, (_, i) => `hc-other-${i}`).concat(['hc-east', 'hc-west']);

  handle(method: string, url: URL, body: string): { status: number; xml: string } {
    const path = url.pathname;
    if (method === 'GET' && path === '/2013-04-01/healthcheck') {
      // Two pages, so the client has to follow NextMarker.
      const first = !url.searchParams.get('marker');
      const ids = first ? this.healthCheckIds.slice(0, 8) : this.healthCheckIds.slice(8);
      const checks = ids.map(
        (id) =>
          `<HealthCheck><Id>${id}</Id><CallerReference>${id}</CallerReference><HealthCheckConfig><Type>HTTPS</Type></HealthCheckConfig><HealthCheckVersion>1</HealthCheckVersion></HealthCheck>`,
      );
      return ok(
        'ListHealthChecksResponse',
        `<HealthChecks>${checks.join('')}</HealthChecks><Marker>${url.searchParams.get('marker') ?? ''}</Marker><IsTruncated>${first}</IsTruncated>${first ? '<NextMarker>page-2</NextMarker>' : ''}<MaxItems>8</MaxItems>`,
      );
    }
    if (method === 'POST' && path === '/2013-04-01/tags/healthcheck') {
      const ids = [...body.matchAll(/<ResourceId>([^<]+)<\/ResourceId>/g)].map((m) => m[1]!);
      if (ids.length > 10) return { status: 400, xml: errorXml('InvalidInput', 'at most 10 resource ids') };
      const names: Record<string, string> = { 'hc-east': 'live-origin-us-east-1-endpoint', 'hc-west': 'live-origin-eu-west-1-endpoint' };
      const sets = ids.map(
        (id) =>
          `<ResourceTagSet><ResourceType>healthcheck</ResourceType><ResourceId>${id}</ResourceId><Tags><Tag><Key>Name</Key><Value>${names[id] ?? `other-${id}`}</Value></Tag></Tags></ResourceTagSet>`,
      );
      return ok('ListTagsForResourcesResponse', `<ResourceTagSets>${sets.join('')}</ResourceTagSets>`);
    }
    const update = method === 'POST' ? /^\/2013-04-01\/healthcheck\/([^/]+)$/.exec(path) : null;
    if (update) {
      const match = update;
      const value = /<Inverted>(true|false)<\/Inverted>/.exec(body)?.[1];
      if (value === undefined || !(match[1]! in this.inverted)) return { status: 400, xml: errorXml('InvalidInput', 'bad update') };
      this.inverted[match[1]!] = value === 'true';
      return ok(
        'UpdateHealthCheckResponse',
        `<HealthCheck><Id>${match[1]}</Id><CallerReference>x</CallerReference><HealthCheckConfig><Type>HTTPS</Type><Inverted>${value}</Inverted></HealthCheckConfig><HealthCheckVersion>2</HealthCheckVersion></HealthCheck>`,
      );
    }
    const statusPath = method === 'GET' ? /^\/2013-04-01\/healthcheck\/([^/]+)\/status$/.exec(path) : null;
    if (statusPath) {
      const match = statusPath;
      const status = this.inverted[match[1]!] ? 'Failure: Inverted' : 'Success: HTTP Status Code 200, OK';
      const observations = ['us-east-1', 'eu-west-1', 'ap-southeast-1'].map(
        (region, i) =>
          `<HealthCheckObservation><Region>${region}</Region><IPAddress>192.0.2.${i + 1}</IPAddress><StatusReport><Status>${status}</Status><CheckedTime>2026-12-02T00:00:00Z</CheckedTime></StatusReport></HealthCheckObservation>`,
      );
      return ok('GetHealthCheckStatusResponse', `<HealthCheckObservations>${observations.join('')}</HealthCheckObservations>`);
    }
    if (method === 'GET' && path === '/2013-04-01/hostedzone/Z0123456789EXAMPLE/rrset') {
      const record = (region: string, role: string, lb: string) =>
        `<ResourceRecordSet><Name>origin.example.com.</Name><Type>A</Type><SetIdentifier>${region}-${role.toLowerCase()}</SetIdentifier><Failover>${role}</Failover><AliasTarget><HostedZoneId>Z35SXDOTRQ7X7K</HostedZoneId><DNSName>${lb}.</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget><HealthCheckId>calc-${region}</HealthCheckId></ResourceRecordSet>`;
      const other =
        '<ResourceRecordSet><Name>other.example.com.</Name><Type>A</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.9</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>';
      return ok(
        'ListResourceRecordSetsResponse',
        `<ResourceRecordSets>${record('us-east-1', 'PRIMARY', 'dualstack.east.elb.amazonaws.com')}${record('eu-west-1', 'SECONDARY', 'dualstack.west.elb.amazonaws.com')}${other}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>10</MaxItems>`,
      );
    }
    if (method === 'GET' && path === '/2013-04-01/testdnsanswer') {
      const data = this.inverted['hc-east'] ? ['203.0.113.7'] : ['198.51.100.1'];
      return ok(
        'TestDNSAnswerResponse',
        `<Nameserver>ns-1.awsdns-01.org</Nameserver><RecordName>${url.searchParams.get('recordname')}</RecordName><RecordType>A</RecordType><RecordData>${data.map((d) => `<RecordDataEntry>${d}</RecordDataEntry>`).join('')}</RecordData><ResponseCode>NOERROR</ResponseCode><Protocol>UDP</Protocol>`,
      );
    }
    return { status: 404, xml: errorXml('NotFound', `${method} ${path}`) };
  }
}

function ok(root: string, inner: string): { status: number; xml: string } {
  return { status: 200, xml: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>` };
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

let fake: FakeRoute53Endpoint;
let server: Server;
let client: Route53DrillClient;
let sdk: Route53Client;

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const url = new URL(request.url!, 'http://127.0.0.1');
      fake.seen.push({ method: request.method!, path: `${url.pathname}${url.search}`, body });
      const answer = fake.handle(request.method!, url, body);
      response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  sdk = new Route53Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-only' },
    maxAttempts: 1,
  });
  client = new Route53DrillClient(sdk);
});

afterAll(async () => {
  sdk.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  fake = new FakeRoute53Endpoint();
});

describe('Route53DrillClient on the wire', () => {
  it('sends UpdateHealthCheck as POST /2013-04-01/healthcheck/{id} with an Inverted element in the Route 53 namespace', async () => {
    await client.setInverted('hc-east', true);
    const [request] = fake.seen;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/2013-04-01/healthcheck/hc-east');
    expect(request!.body).toMatch(
      new RegExp(
        `^(<\\?xml[^>]*\\?>)?<UpdateHealthCheckRequest xmlns="${XMLNS.replace(/[./]/g, '\\$&')}"><Inverted>true</Inverted></UpdateHealthCheckRequest>$`,
      ),
    );
    expect(fake.inverted['hc-east']).toBe(true);
    await client.setInverted('hc-east', false);
    expect(fake.seen[1]!.body).toContain('<Inverted>false</Inverted>');
    expect(fake.inverted['hc-east']).toBe(false);
  });

  it('finds a health check by its Name tag across pages, asking for tags ten ids at a time', async () => {
    expect(await client.findHealthCheckId('live-origin-eu-west-1-endpoint')).toBe('hc-west');
    const listCalls = fake.seen.filter((seen) => seen.path.startsWith('/2013-04-01/healthcheck'));
    expect(listCalls.map((seen) => seen.path)).toEqual(['/2013-04-01/healthcheck', '/2013-04-01/healthcheck?marker=page-2']);
    const tagCalls = fake.seen.filter((seen) => seen.path === '/2013-04-01/tags/healthcheck');
    expect(tagCalls.map((seen) => seen.body.match(/<ResourceId>/g)!.length)).toEqual([10, 4]);
    expect(await client.findHealthCheckId('live-origin-ap-south-1-endpoint')).toBeUndefined();
  });

  it("reads each checker's status line", async () => {
    fake.inverted['hc-east'] = true;
    expect(await client.checkerStatuses('hc-east')).toEqual(['Failure: Inverted', 'Failure: Inverted', 'Failure: Inverted']);
    expect(fake.seen[0]!.path).toBe('/2013-04-01/healthcheck/hc-east/status');
  });

  it("lists the name's failover records with their regions and alias targets, skipping other records", async () => {
    expect(await client.failoverRecords('Z0123456789EXAMPLE', 'origin.example.com')).toEqual([
      { region: 'us-east-1', role: 'PRIMARY', aliasDnsName: 'dualstack.east.elb.amazonaws.com' },
      { region: 'eu-west-1', role: 'SECONDARY', aliasDnsName: 'dualstack.west.elb.amazonaws.com' },
    ]);
    expect(fake.seen[0]!.path).toBe('/2013-04-01/hostedzone/Z0123456789EXAMPLE/rrset?maxitems=10&name=origin.example.com&type=A');
  });

  it("asks Route 53's name servers for the answer with TestDNSAnswer", async () => {
    expect(await client.answer('Z0123456789EXAMPLE', 'origin.example.com')).toEqual(['198.51.100.1']);
    expect(fake.seen[0]!.path).toBe('/2013-04-01/testdnsanswer?hostedzoneid=Z0123456789EXAMPLE&recordname=origin.example.com&recordtype=A');
  });

  it('runs a whole drill through the SDK: fail moves the answer, restore brings it back', async () => {
    const addresses: Record<string, string[]> = {
      'dualstack.east.elb.amazonaws.com': ['198.51.100.1'],
      'dualstack.west.elb.amazonaws.com': ['203.0.113.7'],
    };
    let now = 0;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const options = { region: 'us-east-1', hostedZoneId: 'Z0123456789EXAMPLE', recordName: 'origin.example.com' };
    const failed = await runDrill(client, async (host) => addresses[host] ?? [], clock, { ...options, action: 'fail' });
    expect(failed).toMatchObject({ ok: true, healthCheckId: 'hc-east', answeredBy: 'eu-west-1' });
    const restored = await runDrill(client, async (host) => addresses[host] ?? [], clock, { ...options, action: 'restore' });
    expect(restored).toMatchObject({ ok: true, answeredBy: 'us-east-1' });
    expect(fake.inverted['hc-east']).toBe(false);
  });

  it("surfaces Route 53's error as a rejection", async () => {
    await expect(client.setInverted('hc-unknown', true)).rejects.toThrow(/bad update/);
  });
});

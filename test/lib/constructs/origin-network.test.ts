import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { OriginNetwork } from '../../../lib/constructs/origin-network.js';
import { regionalStack, template } from '../helpers.js';

describe('OriginNetwork', () => {
  describe('new VPC', () => {
    const stack = regionalStack();
    new OriginNetwork(stack, 'Network');
    const tpl = template(stack);

    it('spreads over two zones with a NAT gateway in each', () => {
      tpl.resourceCountIs('AWS::EC2::NatGateway', 2);
      tpl.resourceCountIs('AWS::EC2::Subnet', 4);
    });

    it('records rejected flows', () => {
      tpl.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
    });

    it('keeps same-region S3 and DynamoDB traffic off the NAT gateways', () => {
      const services = Object.values(tpl.findResources('AWS::EC2::VPCEndpoint')).map((endpoint) => JSON.stringify(endpoint.Properties.ServiceName));
      expect(services.some((name) => name.includes('.s3'))).toBe(true);
      expect(services.some((name) => name.includes('.dynamodb'))).toBe(true);
    });

    it('never looks zones up: they resolve at deploy time', () => {
      tpl.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } });
    });
  });

  describe('existing VPC', () => {
    const stack = regionalStack();
    const network = new OriginNetwork(stack, 'Network', {
      existingVpc: {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['us-east-1a', 'us-east-1b'],
        publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
        privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
      },
    });

    // Something to deploy into it, so the template is not empty.
    new ec2.SecurityGroup(stack, 'Probe', { vpc: network.vpc, description: 'probe' });

    it('creates no network resources', () => {
      const tpl = template(stack);
      tpl.resourceCountIs('AWS::EC2::VPC', 0);
      tpl.resourceCountIs('AWS::EC2::FlowLog', 0);
    });

    it('exposes the committed subnets', () => {
      expect(network.vpc.vpcId).toBe('vpc-0123456789abcdef0');
      expect(network.vpc.privateSubnets.map((subnet) => subnet.subnetId)).toEqual(['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2']);
    });
  });

  it('refuses more NAT gateways than zones', () => {
    expect(() => new OriginNetwork(regionalStack(), 'Network', { natGateways: 3 })).toThrow(/natGateways must be between 1 and maxAzs/);
  });
});

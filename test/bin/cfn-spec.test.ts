import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../support/cfn-spec.js';
import { checkTemplate } from '../support/cfn-spec.js';
import { synthesizeTemplates } from '../support/synth.js';

/**
 * Every template the app synthesizes, checked offline against CloudFormation's resource
 * specification (test/support/cfn-spec.ts): the default context, with a domain (Route 53
 * failover records and certificates) and with CloudFront in front. Each context is synthesized
 * once for the file.
 */

const CONTEXTS: Readonly<Record<string, Record<string, unknown>>> = {
  default: {},
  domain: { domainName: 'origin.example.com', hostedZoneId: 'Z0123456789EXAMPLE' },
  cloudfront: { cdn: 'cloudfront' },
};

const synthesized = new Map<string, Map<string, Record<string, unknown>>>();
beforeAll(async () => {
  const results = await Promise.all(Object.entries(CONTEXTS).map(async ([name, context]) => [name, await synthesizeTemplates(context)] as const));
  for (const [name, templates] of results) synthesized.set(name, templates);
}, 300_000);

describe.each(Object.keys(CONTEXTS))('templates of the %s context', (name) => {
  it('are all there and each resource type, property, value and GetAtt is one CloudFormation takes', () => {
    const templates = synthesized.get(name)!;
    expect(templates.size).toBeGreaterThanOrEqual(4);
    const findings = [...templates].flatMap(([file, template]) =>
      checkTemplate(template as CfnTemplate).map((finding) => `${file} ${finding.path}: ${finding.problem}`),
    );
    expect(findings).toEqual([]);
  });

  it('are read by the checker through and through: a property misspelt in any resource is reported', () => {
    for (const [file, template] of synthesized.get(name)!) {
      const resources = template.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      // Each resource with properties gets its first one renamed; custom resources take any name.
      const mangled = structuredClone(resources);
      const expected: string[] = [];
      for (const [id, resource] of Object.entries(mangled)) {
        const first = Object.keys(resource.Properties ?? {})[0];
        if (!first || resource.Type.startsWith('Custom::')) continue;
        resource.Properties![`${first}Typo`] = resource.Properties![first];
        delete resource.Properties![first];
        expected.push(`Resources.${id}.Properties.${first}Typo`);
      }
      expect(expected.length, file).toBeGreaterThan(0);
      const reported = checkTemplate({ ...template, Resources: mangled }).map((finding) => finding.path);
      for (const path of expected) expect(reported, `${file}: ${path}`).toContain(path);
    }
  });
});

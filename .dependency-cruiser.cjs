/**
 * The layers, as import rules (`npm run lint` runs them with Biome). docs/architecture.md
 * explains each layer; a request reads in one direction: http -> service -> domain and ports,
 * and the adapters behind the ports are chosen by the composition root alone.
 *
 * Known violations carry the issue that removes them: the exception goes with the fix.
 */

/** The repository's own modules (not npm packages, not Node's core modules). */
const OWN = '^(runtime|lib|bin|scripts|test)/';
/** The composition root: the entry points and the config modules pick the adapters. */
const COMPOSITION = '^runtime/(server|cluster-primary|config)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'runtime/domain is plain functions over plain data: it imports no other layer, so it is tested without a server or a store.',
      severity: 'error',
      from: { path: '^runtime/domain/' },
      to: { path: OWN, pathNot: '^runtime/domain/' },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'runtime/ports are the interfaces the services need, over domain types only.',
      severity: 'error',
      from: { path: '^runtime/ports/' },
      to: { path: OWN, pathNot: '^runtime/(domain|ports)/' },
    },
    {
      name: 'service-uses-domain-and-ports',
      comment: 'A use case decides with the domain and reaches storage, feed and purger through ports: never HTTP, an adapter or the entry points.',
      severity: 'error',
      from: { path: '^runtime/service/' },
      to: { path: OWN, pathNot: '^runtime/(domain|ports|service)/' },
    },
    {
      name: 'adapters-implement-ports',
      comment: 'An adapter implements a port with one technology; it never reaches up into services, HTTP, metrics or the entry points.',
      severity: 'error',
      from: { path: '^runtime/adapters/' },
      to: { path: OWN, pathNot: '^runtime/(domain|ports|adapters)/|^runtime/aws-contract\\.ts$' },
    },
    {
      name: 'metrics-implement-ports',
      comment: 'runtime/metrics implements the observer ports (store faults, alarm signals) with prom-client.',
      severity: 'error',
      from: { path: '^runtime/metrics/' },
      to: { path: OWN, pathNot: '^runtime/(domain|ports|metrics)/' },
    },
    {
      name: 'only-composition-chooses-adapters',
      comment: 'Which store, purger or publisher runs is decided in one place (server.ts, cluster-primary.ts, config modules), so tests and deployments swap them there.',
      severity: 'error',
      from: { path: '^runtime/', pathNot: `^runtime/adapters/|${COMPOSITION}` },
      to: { path: '^runtime/adapters/' },
    },
    {
      name: 'runtime-stands-alone',
      comment: 'runtime/ is bundled alone onto the instances: it never imports the CDK app, the scripts or the tests.',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^(lib|bin|scripts|test)/' },
    },
    {
      name: 'cdk-app-not-scripts',
      comment: 'The CDK app (bin/, lib/) never imports scripts/, which are developer tools.',
      severity: 'error',
      from: { path: '^(lib|bin)/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'only-tests-import-tests',
      comment: 'test/ holds the suites and their support; nothing shipped or run as a tool depends on it.',
      severity: 'error',
      from: { path: '^(runtime|lib|bin|scripts)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment:
        'A cycle makes the layers meaningless and the load order fragile. One made only of type imports loads nothing at run time ' +
        '(a route naming the app\'s service types), so it is allowed.',
      severity: 'error',
      from: { path: OWN },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing fails at run time; tsc catches most, this also covers what it skips.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that names another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // ESM packages that publish only an `exports` map (as @svta/cml-cmsd does) resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['module', 'main', 'types'] },
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' },
  },
};

/**
 * The CDK app: cdk.json context (or `-c key=value`) -> validated config -> stacks, checked by
 * cdk-nag's AwsSolutions pack (an unacknowledged finding fails the synth).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, parseConfig, readContext } from '../lib/config.js';
import { addLiveOriginStacks } from '../lib/live-origin-app.js';

const app = new App();
try {
  const config = parseConfig(readContext((key) => app.node.tryGetContext(key)));
  addLiveOriginStacks(app, config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

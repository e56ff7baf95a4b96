/** The local S3/DynamoDB servers live with the scripts that run them (npm run start:aws-local, the demo). */
export * from '../../scripts/local/local-aws.js';
export { startLocalAwsInProcesses } from '../../scripts/local/store-processes.js';

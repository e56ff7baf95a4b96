/**
 * One local store server in a process of its own: `s3 <directory>` (s3rver, as startLocalS3
 * makes it) or `dynamodb <directory>` (dynalite). Prints one JSON line (`{"endpoint": ...}`) on
 * stdout, then serves until SIGTERM/SIGINT. Its data directory belongs to whoever started it.
 * Started with an IPC channel (store-processes.ts), it takes the commands `stop` and `start`
 * (an outage and the return from it) and answers each once carried out, with when it took
 * effect (Date.now()).
 */
import { startLocalDynamoDb, startLocalS3 } from './local-aws.js';

const [kind, directory] = process.argv.slice(2);
if ((kind !== 's3' && kind !== 'dynamodb') || !directory) {
  process.stderr.write('usage: run-local-server.ts s3|dynamodb <directory>\n');
  process.exit(2);
}
const server = kind === 's3' ? await startLocalS3(directory) : await startLocalDynamoDb(directory);
// The stop is in place before the endpoint line: whoever started this may stop it on reading it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void server.stop().finally(() => process.exit(0)));
}
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
// Orphaned (its starter killed without a chance to stop it): stop too.
const starter = process.ppid;
setInterval(() => {
  if (process.ppid !== starter) void server.stop().finally(() => process.exit(0));
}, 1_000).unref();
process.on('message', (message: { command: string; id: number }) => {
  const run =
    message.command === 'stop' ? server.stop() : message.command === 'start' ? server.start() : Promise.reject(new Error(`unknown command ${message.command}`));
  run.then(
    () => process.send?.({ id: message.id, at: server.changedAt }),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
  );
});

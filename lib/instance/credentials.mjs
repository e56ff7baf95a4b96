// Turns the runtime secret (Secrets Manager JSON, on stdin) into what the instance needs. Runs on
// the instance (baked into the image) at boot and on every credentials refresh; plain Node, no
// dependencies. Exits 1, writing nothing to stdout, when the secret has no tokens or a value is
// not a one-line string: boot then fails (the runtime would otherwise invent a token) and a
// refresh keeps the last good file.
//
//   node credentials.mjs env    KEY="value" lines for the environment file (settings read at start)
//   node credentials.mjs file   the credentials file's JSON (re-read by the runtime while it runs)

/** Re-read by the runtime while it runs: a rotation or a revocation needs no restart. */
const CREDENTIAL_KEYS = ['LIVE_ORIGIN_TOKENS', 'LIVE_ORIGIN_CDN_SECRET', 'LIVE_ORIGIN_CDN_SECRET_NEXT'];
/** Read once at start (a change takes an instance refresh). */
const SETTING_KEYS = ['LIVE_ORIGIN_PURGE_URLS', 'LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID'];

function fail(message) {
  process.stderr.write(`live-origin: ${message}\n`);
  process.exit(1);
}

function readStdin() {
  const chunks = [];
  return new Promise((resolve, reject) => {
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** The keys of `keys` that the secret sets, each checked to be a one-line string. */
function pick(secret, keys) {
  const picked = {};
  for (const key of keys) {
    const value = secret[key];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || /[\r\n]/.test(value)) fail(`${key} must be a one-line string`);
    picked[key] = value;
  }
  return picked;
}

const mode = process.argv[2];
if (mode !== 'env' && mode !== 'file') fail('usage: credentials.mjs env|file < secret.json');
let secret;
try {
  secret = JSON.parse((await readStdin()) || '{}');
} catch {
  fail('the secret is not JSON');
}
if (typeof secret !== 'object' || secret === null || Array.isArray(secret)) fail('the secret must be a JSON object');
if (typeof secret.LIVE_ORIGIN_TOKENS !== 'string' || secret.LIVE_ORIGIN_TOKENS.trim() === '') fail('the secret has no LIVE_ORIGIN_TOKENS');

if (mode === 'file') {
  process.stdout.write(`${JSON.stringify(pick(secret, CREDENTIAL_KEYS))}\n`);
} else {
  for (const [key, value] of Object.entries(pick(secret, SETTING_KEYS))) {
    process.stdout.write(`${key}="${value.replace(/[\\"]/g, (c) => `\\${c}`)}"\n`);
  }
}

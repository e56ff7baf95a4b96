/**
 * The floor under any Node server, for `npm run bench`: bare node:http answering Buffers from
 * a Map, with the headers a CDN needs and nothing else. Prints `listening on <url>`.
 * - `GET /live/bench/v/<bytes>.m4s` for each size in BASELINE_SIZES (comma-separated bytes);
 * - fan-out floor: a GET for any other path is held until a `PUT` of that path arrives, which
 *   stores the body and answers every held GET at once; `GET /_held` says how many are held;
 * - streaming relay floor: a `PUT` of a path under `/relay/` answers the GETs held for it at its
 *   first chunk and writes them each chunk as it arrives (chunked, or the PUT's Content-Length),
 *   ending them at the PUT's end: the least any origin that serves while ingesting can do.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const SIZES = (process.env.BASELINE_SIZES ?? String(16 * 1024)).split(',').map(Number);
const CONTENT_TYPE = 'video/iso.segment';

const objects = new Map<string, Buffer>(SIZES.map((size) => [`/live/bench/v/${size}.m4s`, randomBytes(size)]));
const held = new Map<string, http.ServerResponse[]>();
let heldCount = 0;

function answer(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': body.length });
  res.end(body);
}

/** Takes the GETs held for `url` out of the hold. */
function release(url: string): http.ServerResponse[] {
  const waiting = held.get(url) ?? [];
  held.delete(url);
  heldCount -= waiting.length;
  return waiting;
}

function relay(req: http.IncomingMessage, res: http.ServerResponse, url: string): void {
  const readers = release(url);
  const length = req.headers['content-length'];
  req.once('data', () => {
    for (const reader of readers) reader.writeHead(200, { 'Content-Type': CONTENT_TYPE, ...(length === undefined ? {} : { 'Content-Length': length }) });
  });
  req.on('data', (chunk: Buffer) => {
    for (const reader of readers) reader.write(chunk);
  });
  req.on('end', () => {
    for (const reader of readers) reader.end();
    res.writeHead(201, { 'Content-Length': 0 }).end();
  });
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'PUT' && url.startsWith('/relay/')) return relay(req, res, url);
  if (req.method === 'PUT') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      objects.set(url, body);
      res.writeHead(201, { 'Content-Length': 0 }).end();
      for (const waiter of release(url)) answer(waiter, body);
    });
    return;
  }
  if (url === '/_held') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(String(heldCount));
    return;
  }
  const body = objects.get(url);
  if (body) return answer(res, body);
  const waiting = held.get(url) ?? [];
  waiting.push(res);
  held.set(url, waiting);
  heldCount++;
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAwsResources } from '../../runtime/adapters/aws-stores.js';
import { makeS3rverBehaveAsS3 } from './s3rver-as-s3.js';

/**
 * S3 (s3rver) and DynamoDB (dynalite) on loopback, on free ports, with their data in a temp
 * directory, so either can be stopped and started again on the same port with its data intact
 * (fault injection). The SDK reaches them through its own environment variables.
 *
 * Used by `npm run start:aws-local`, the demo and the tests (test/support/local-aws.ts
 * re-exports this module); s3rver and dynalite are dev dependencies, installed by `npm ci`.
 */

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}
type S3rverClass = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets?: { name: string }[];
}) => S3rverInstance;
type Dynalite = (options: { path?: string; createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

const S3rver = require('s3rver') as S3rverClass;
const dynalite = require('dynalite') as Dynalite;

/** s3rver checks signatures against these fixed credentials; dynalite accepts any. */
export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

/** A local store server that can go away and come back on the same port with the same data. */
export interface LocalS3 {
  readonly endpoint: string;
  /** Goes away: refuses connections and cuts the open ones. */
  stop(): Promise<void>;
  /** Listens again. */
  start(): Promise<void>;
  /**
   * When it last stopped answering or listened again (Date.now(), the host's clock): exact even
   * when the server runs in another process and the command took a while to reach it.
   */
  readonly changedAt: number;
}

export type LocalDynamoDb = LocalS3;

/** A bucket URL in path style, no query: what HeadBucket (the origin's readiness ping) asks for. */
const BUCKET_ONLY = /^\/([^/?]+)\/?$/;

/**
 * s3rver answers HeadBucket by listing the bucket, so its cost grows with the objects in it
 * (S3's does not): past a few hundred segments the origin's readiness ping times out. The
 * local server answers HEAD of a bucket itself, from the bucket's directory; all else is s3rver's.
 */
function fastHeadBucket(server: S3rverInstance, directory: string): void {
  const httpServer = server.httpServer;
  if (!httpServer) return;
  const [s3rverHandler] = httpServer.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!s3rverHandler) return;
  httpServer.removeListener('request', s3rverHandler);
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const bucket = req.method === 'HEAD' ? BUCKET_ONLY.exec(req.url ?? '')?.[1] : undefined;
    if (bucket === undefined) {
      s3rverHandler(req, res);
      return;
    }
    res.writeHead(existsSync(join(directory, decodeURIComponent(bucket))) ? 200 : 404).end();
  });
}

/** Starts s3rver on a free loopback port (or the given one), its files under `directory`. */
export async function startLocalS3(directory: string, port = 0): Promise<LocalS3> {
  makeS3rverBehaveAsS3();
  let server = new S3rver({ port, address: '127.0.0.1', silent: true, directory });
  const address = await server.run();
  fastHeadBucket(server, directory);
  let running = true;
  let changedAt = Date.now();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get changedAt() {
      return changedAt;
    },
    async stop() {
      if (!running) return;
      running = false;
      changedAt = Date.now();
      server.httpServer?.closeAllConnections();
      await server.close();
    },
    async start() {
      if (running) return;
      server = new S3rver({ port: address.port, address: '127.0.0.1', silent: true, directory });
      await server.run();
      fastHeadBucket(server, directory);
      running = true;
      changedAt = Date.now();
    },
  };
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

interface DynaliteRequests {
  /**
   * Cuts every connection, turns new requests away, and resolves once dynalite has answered
   * (into the cut connections) every request it had started on.
   */
  quiesce(): Promise<void>;
  /** Takes requests again. */
  resume(): void;
}

/**
 * dynalite closes its LevelDB when its server closes, without waiting for the requests it is
 * still working on: their next read or write fails ("Database is closed", "Iterator is not
 * open"), and dynalite throws any such error out of its request handler, an uncaught exception
 * in whatever process hosts it (the test runner's, in tests). It throws the same way when a
 * client goes away in the middle of a request body. So the local server keeps track of the
 * requests dynalite is working on, and a stop lets dynalite close only once it has answered
 * them all; a request whose client went away simply ends.
 */
function trackDynaliteRequests(server: Server): DynaliteRequests {
  const [dynaliteHandler] = server.listeners('request') as RequestListener[];
  if (!dynaliteHandler) throw new Error('dynalite registered no request handler');
  server.removeListener('request', dynaliteHandler);
  const working = new Set<Promise<void>>();
  let turningAway = false;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (turningAway) {
      req.socket.destroy();
      return;
    }
    const answered = new Promise<void>((resolve) => {
      const end = res.end;
      res.end = function endAndCount(this: ServerResponse, ...args: unknown[]) {
        resolve();
        return (end as (...args: unknown[]) => ServerResponse).apply(this, args);
      } as ServerResponse['end'];
      // dynalite starts on a request when its body has been read; one closed before that is never started.
      let bodyRead = false;
      req.once('end', () => {
        bodyRead = true;
      });
      req.once('close', () => {
        if (!bodyRead) resolve();
      });
    });
    working.add(answered);
    void answered.then(() => working.delete(answered));
    dynaliteHandler(req, res);
    // In place of dynalite's listener, which rethrows: a client gone mid-request ends that request.
    req.removeAllListeners('error');
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') throw error;
    });
  });
  return {
    async quiesce() {
      turningAway = true;
      server.closeAllConnections();
      await Promise.all(working);
    },
    resume() {
      turningAway = false;
    },
  };
}

/** Starts dynalite on a free loopback port, its LevelDB under `directory`. */
export async function startLocalDynamoDb(directory: string): Promise<LocalDynamoDb> {
  const server = dynalite({ path: directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests = trackDynaliteRequests(server);
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  let running = true;
  let changedAt = Date.now();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get changedAt() {
      return changedAt;
    },
    async stop() {
      if (!running) return;
      running = false;
      changedAt = Date.now();
      // Like a crash, as clients see it: open keep-alive connections go too, and a write already
      // under way may land without its answer. Then dynalite closes its server and its LevelDB.
      await requests.quiesce();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Connections accepted while the last requests were answered (each turned away).
        server.closeAllConnections();
      });
    },
    async start() {
      if (running) return;
      requests.resume();
      // dynalite reopens its LevelDB as it listens again.
      await listen(server, port);
      running = true;
      changedAt = Date.now();
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export interface LocalAwsOptions {
  readonly bucket?: string;
  readonly tablePrefix?: string;
  readonly region?: string;
  /** Peer regions' buckets, created on the same S3 server. */
  readonly peerBuckets?: Readonly<Record<string, string>>;
}

export interface LocalAws {
  readonly s3: LocalS3;
  readonly dynamoDb: LocalDynamoDb;
  readonly bucket: string;
  readonly tablePrefix: string;
  readonly region: string;
  /** The variables that point the SDK at these servers. */
  readonly env: Readonly<Record<string, string>>;
  /** The environment of an origin process in aws mode on these stores, granting `token` every event. */
  originEnv(token: string): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts both servers, points this process's SDK at them (process.env), and creates the
 * bucket(s) and tables.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const directory = await mkdtemp(join(tmpdir(), 'live-origin-aws-'));
  const s3 = await startLocalS3(join(directory, 's3'));
  const dynamoDb = await startLocalDynamoDb(join(directory, 'dynamodb'));
  return useLocalServers(s3, dynamoDb, options, async () => {
    await Promise.allSettled([s3.stop(), dynamoDb.stop()]);
    await rm(directory, { recursive: true, force: true });
  });
}

/**
 * Points this process's SDK at two running servers (process.env) and creates the bucket(s) and
 * tables on them; `end` ends the servers and removes their data when the result is stopped
 * (and at once if the set-up fails).
 */
export async function useLocalServers(s3: LocalS3, dynamoDb: LocalDynamoDb, options: LocalAwsOptions, end: () => Promise<void>): Promise<LocalAws> {
  const region = options.region ?? LOCAL_REGION;
  const env = {
    ...LOCAL_CREDENTIALS,
    AWS_REGION: region,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.endpoint,
  };
  Object.assign(process.env, env);
  const bucket = options.bucket ?? 'live-origin-test';
  const tablePrefix = options.tablePrefix ?? 'live-origin-test-';
  try {
    await ensureAwsResources({ bucket, tablePrefix, region, peerBuckets: options.peerBuckets });
  } catch (error) {
    await end();
    throw error;
  }
  return {
    s3,
    dynamoDb,
    bucket,
    tablePrefix,
    region,
    env,
    originEnv: (token) => ({
      ...env,
      LIVE_ORIGIN_STORE: 'aws',
      LIVE_ORIGIN_BUCKET: bucket,
      LIVE_ORIGIN_TABLE_PREFIX: tablePrefix,
      LIVE_ORIGIN_TOKENS: `${token}=*`,
    }),
    stop: end,
  };
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { DynamoDbMetadataStore } from '../../runtime/adapters/dynamodb-metadata-store.js';
import type { EventPoll, ObjectPoll, WatchedObjectSource } from '../../runtime/adapters/dynamodb-publish-feed.js';
import { DynamoDbPublishFeed } from '../../runtime/adapters/dynamodb-publish-feed.js';
import type { Candidate, InProgressCandidate } from '../../runtime/domain/model.js';
import type { ArrivingElsewhere, PublishedObject } from '../../runtime/ports/publish-feed.js';
import type { Stores } from '../../runtime/ports/stores.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import { percentile, RecordingObserver } from './recording-observer.js';

function candidate(event: string, path: string, pipeline: string, publishedAt: number, etag = '"e"'): Candidate {
  return { event, pipeline, path, kind: 'segment', number: 1, rendition: '{n}', etag, size: 1, contentType: 'video/mp4', defects: [], publishedAt };
}

function arrivingCandidate(event: string, path: string, startedAt: number): InProgressCandidate {
  return {
    event,
    pipeline: 'a',
    path,
    kind: 'segment',
    number: 1,
    rendition: 'video/seg_{n}.m4s',
    contentType: 'video/mp4',
    defects: [],
    startedAt,
    inProgress: true,
  };
}

/** A source whose contents the test sets, recording what the feed asks of it. */
class FakeSource implements WatchedObjectSource {
  readonly current = new Map<string, Candidate[]>();
  readonly cached = new Map<string, Candidate[]>();
  readonly log: string[] = [];
  polls: PublishedObject[][] = [];
  eventPolls: string[] = [];
  failing = false;
  streams: ArrivingElsewhere[] = [];
  readonly streamWrites: string[] = [];
  private readonly published = new Map<string, Map<number, number>>();
  private publishes = 0;

  /** What an ingest leaves: the candidate, and its number in the event's records (template `seg_{n}.m4s`). */
  publish(path: string, candidates: Candidate[]): void {
    this.current.set(path, candidates);
    const number = Number(/(\d+)/.exec(path)![1]);
    const rendition = path.replace(/\d+/, '{n}');
    const first = candidates[0]?.publishedAt ?? Date.now();
    this.published.set(rendition, new Map([...(this.published.get(rendition) ?? []), [number, first]]));
    this.publishes++;
  }

  async pollEvent(event: string): Promise<EventPoll> {
    this.eventPolls.push(event);
    if (this.failing) throw new Error('table unreachable');
    return { published: this.published, signature: String(this.publishes), streams: this.streams };
  }

  async putStream(candidate: InProgressCandidate, relay: string): Promise<void> {
    this.streamWrites.push(`put ${candidate.path} ${relay}`);
  }

  async deleteStream(candidate: InProgressCandidate, relay: string): Promise<void> {
    this.streamWrites.push(`delete ${candidate.path} ${relay}`);
  }

  lastSeen(object: PublishedObject): readonly Candidate[] | undefined {
    return this.cached.get(object.path);
  }
  invalidateObject(object: PublishedObject): void {
    this.log.push(`invalidate ${object.path}`);
  }
  async pollObjects(objects: readonly PublishedObject[]): Promise<Map<PublishedObject, ObjectPoll>> {
    this.polls.push([...objects]);
    if (this.failing) throw new Error('table unreachable');
    return new Map(objects.map((object) => [object, { pipelines: 'all', candidates: this.current.get(object.path) ?? [] }]));
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DynamoDbPublishFeed (polling logic)', () => {
  // On fake time: each step moves the clock exactly, so how many periods passed never depends
  // on how busy the host is.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

  function setup() {
    const source = new FakeSource();
    const observer = new RecordingObserver();
    const feed = new DynamoDbPublishFeed({ source, observer, pollMs: 10 });
    feed.subscribe((object) => source.log.push(`release ${object.path}`));
    return { source, observer, feed };
  }

  it('polls each watched event once per period, however many objects wait, and releases segments from its records', async () => {
    const { source, feed } = setup();
    for (let i = 0; i < 500; i++) feed.watch({ event: 'ev', path: `seg_${i}.m4s` });
    feed.watch({ event: 'ev', path: 'seg_0.m4s' });
    feed.watch({ event: 'other', path: 'seg_0.m4s' });
    await elapse(60);
    const periods = source.eventPolls.filter((event) => event === 'ev').length;
    expect(periods).toBeGreaterThan(1);
    expect(source.eventPolls.filter((event) => event === 'other').length).toBe(periods);
    expect(source.polls).toEqual([]);
    source.publish('seg_7.m4s', [candidate('ev', 'seg_7.m4s', 'a', Date.now())]);
    await elapse(40);
    // Released from the event's record alone: no object read at all.
    expect(source.polls).toEqual([]);
    expect(source.log).toEqual(['invalidate seg_7.m4s', 'release seg_7.m4s']);
    await feed.close();
  });

  it('reads an unnumbered object (a playlist) when its event publishes anything', async () => {
    const { source, feed } = setup();
    feed.watch({ event: 'ev', path: 'v/index.m3u8' });
    await elapse(40);
    expect(source.polls.flat()).toEqual([{ event: 'ev', path: 'v/index.m3u8' }]);
    source.current.set('v/index.m3u8', [candidate('ev', 'v/index.m3u8', 'a', Date.now())]);
    source.publish('seg_1.m4s', []);
    await elapse(40);
    expect(source.polls.flat()).toEqual([
      { event: 'ev', path: 'v/index.m3u8' },
      { event: 'ev', path: 'v/index.m3u8' },
    ]);
    expect(source.log).toEqual(['invalidate v/index.m3u8', 'release v/index.m3u8']);
    await feed.close();
  });

  it('invalidates the cached object before telling listeners, and reports the release delay', async () => {
    const { source, observer, feed } = setup();
    feed.watch({ event: 'ev', path: 'seg_1.m4s' });
    await elapse(30);
    expect(source.log).toEqual([]);
    source.publish('seg_1.m4s', [candidate('ev', 'seg_1.m4s', 'a', Date.now() - 20)]);
    await elapse(40);
    expect(source.log).toEqual(['invalidate seg_1.m4s', 'release seg_1.m4s']);
    expect(observer.releases).toHaveLength(1);
    expect(observer.releases[0]).toBeGreaterThanOrEqual(20);
    await feed.close();
  });

  it('compares with what this instance last read, so a publish just before the watch still releases', async () => {
    const { source, feed } = setup();
    source.cached.set('seg_2.m4s', []);
    source.publish('seg_2.m4s', [candidate('ev', 'seg_2.m4s', 'b', Date.now())]);
    feed.watch({ event: 'ev', path: 'seg_2.m4s' });
    await elapse(40);
    expect(source.log).toEqual(['invalidate seg_2.m4s', 'release seg_2.m4s']);
    await feed.close();
  });

  it('does not release again for a publish this instance announced itself', async () => {
    const { source, observer, feed } = setup();
    feed.watch({ event: 'ev', path: 'seg_3.m4s' });
    await elapse(30);
    source.publish('seg_3.m4s', [candidate('ev', 'seg_3.m4s', 'a', Date.now())]);
    feed.announce({ event: 'ev', path: 'seg_3.m4s' });
    await elapse(50);
    expect(source.log).toEqual(['release seg_3.m4s']);
    expect(observer.releases).toEqual([]);
    await feed.close();
  });

  it('stops polling objects nobody watches', async () => {
    const { source, feed } = setup();
    feed.watch({ event: 'ev', path: 'seg_4.m4s' });
    await elapse(30);
    feed.unwatch({ event: 'ev', path: 'seg_4.m4s' });
    await elapse(20);
    const polls = source.eventPolls.length;
    await elapse(50);
    expect(source.eventPolls.length).toBe(polls);
    await feed.close();
  });

  it('wakes the listeners of a watched object once when a PUT of it starts on some instance, and offers it for relaying', async () => {
    const { source, feed } = setup();
    feed.watch({ event: 'ev', path: 'seg_3.m4s' });
    const arriving: ArrivingElsewhere = { candidate: arrivingCandidate('ev', 'seg_3.m4s', Date.now()), relay: 'http://10.0.0.7:8081/relay/x1' };
    const elsewhere: ArrivingElsewhere = { candidate: arrivingCandidate('ev', 'seg_4.m4s', Date.now()), relay: 'http://10.0.0.7:8081/relay/x2' };
    source.streams = [arriving, elsewhere];
    await elapse(10);
    await elapse(10);
    await elapse(10);
    expect(source.log.filter((line) => line.startsWith('release'))).toEqual(['release seg_3.m4s']);
    expect(feed.arriving({ event: 'ev', path: 'seg_3.m4s' })).toEqual([arriving]);
    expect(feed.arriving({ event: 'ev', path: 'seg_9.m4s' })).toEqual([]);
    // A record left by an instance that died is not offered once it is stale.
    source.streams = [{ ...arriving, candidate: { ...arriving.candidate, startedAt: Date.now() - 60_000 } }];
    await elapse(10);
    expect(feed.arriving({ event: 'ev', path: 'seg_3.m4s' })).toEqual([]);
  });

  it('writes and withdraws the stream records of its own PUTs through the source', async () => {
    const { source, feed } = setup();
    const candidate = arrivingCandidate('ev', 'seg_1.m4s', Date.now());
    feed.streamStarted(candidate, 'http://a/relay/1');
    feed.streamEnded(candidate, 'http://a/relay/1');
    await elapse(0);
    expect(source.streamWrites).toEqual(['put seg_1.m4s http://a/relay/1', 'delete seg_1.m4s http://a/relay/1']);
  });

  it('counts a failed poll as a feed fault and resumes when the store answers again', async () => {
    const { source, observer, feed } = setup();
    source.failing = true;
    feed.watch({ event: 'ev', path: 'seg_5.m4s' });
    await elapse(40);
    expect(observer.faults).toEqual([{ store: 'feed', operation: 'poll', reason: 'error' }]);
    source.failing = false;
    source.publish('seg_5.m4s', [candidate('ev', 'seg_5.m4s', 'a', Date.now())]);
    await elapse(1_100);
    expect(source.log).toEqual(['invalidate seg_5.m4s', 'release seg_5.m4s']);
    await feed.close();
  });
});

describe('DynamoDbPublishFeed across instances (dynalite)', () => {
  let local: LocalAws;
  let a: Stores;
  let b: Stores;
  const observerB = new RecordingObserver();

  beforeAll(async () => {
    local = await startLocalAws();
    const config = { bucket: local.bucket, tablePrefix: local.tablePrefix, region: local.region, peerBuckets: {}, memoryBytes: 1 << 24 };
    a = createAwsStores(config, new RecordingObserver());
    b = createAwsStores(config, observerB);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await local.stop();
  });

  it('releases held objects on another instance; delay measured from the ack', async () => {
    const event = 'ev-release';
    await a.metadata.ensureEvent(event, Date.now());
    await a.metadata.putEventConfig(event, { pipelines: ['a', 'b'] }, Date.now());
    const delays: number[] = [];
    const rounds = 40;
    const waiting = new Map<string, (releasedAt: number) => void>();
    b.feed.subscribe((object) => waiting.get(object.path)?.(Date.now()));
    for (let i = 0; i < rounds; i++) {
      const path = `video/seg_${i}.m4s`;
      await b.metadata.getObject(event, path);
      const released = new Promise<number>((resolve) => waiting.set(path, resolve));
      b.feed.watch({ event, path });
      // Publish at a random phase of the poll period, as real segments arrive.
      await tick(Math.random() * 50);
      // What an ingest writes before its ack: the candidate, then the publish record.
      const at = Date.now();
      await a.metadata.putCandidate(candidate(event, path, 'a', at));
      await a.metadata.recordPublish(event, { pipeline: 'a', at, number: i, rendition: 'video/seg_{n}.m4s', defective: false });
      const ackAt = Date.now();
      a.feed.announce({ event, path });
      delays.push((await released) - ackAt);
      b.feed.unwatch({ event, path });
      expect((await b.metadata.getObject(event, path)).candidates).toHaveLength(1);
    }
    console.log(
      `cross-instance release over ${rounds} publishes: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms`,
    );
    expect(delays).toHaveLength(rounds);
    expect(observerB.releases).toHaveLength(rounds);
  });

  it('carries stream records between instances: written by one, polled by the other, withdrawn only by the PUT that wrote them', async () => {
    const event = 'ev-streams';
    await a.metadata.ensureEvent(event, Date.now());
    const source = (b.metadata as DynamoDbMetadataStore).feedSource;
    const first = arrivingCandidate(event, 'video/seg_5.m4s', Date.now());
    await (a.metadata as DynamoDbMetadataStore).feedSource.putStream(first, 'http://a/relay/1');
    expect((await source.pollEvent(event)).streams).toEqual([{ candidate: first, relay: 'http://a/relay/1' }]);
    // A second PUT of the same path and pipeline replaces the record; the first's withdrawal leaves it.
    const second = { ...first, startedAt: first.startedAt + 5, declaredSize: 1234 };
    await (a.metadata as DynamoDbMetadataStore).feedSource.putStream(second, 'http://a/relay/2');
    await (a.metadata as DynamoDbMetadataStore).feedSource.deleteStream(first, 'http://a/relay/1');
    expect((await source.pollEvent(event)).streams).toEqual([{ candidate: second, relay: 'http://a/relay/2' }]);
    // A scored PUT's record carries its score, so selection on the other instance sees it.
    const scored = { ...second, startedAt: second.startedAt + 5, quality: 40 };
    await (a.metadata as DynamoDbMetadataStore).feedSource.putStream(scored, 'http://a/relay/3');
    expect((await source.pollEvent(event)).streams).toEqual([{ candidate: scored, relay: 'http://a/relay/3' }]);
    await (a.metadata as DynamoDbMetadataStore).feedSource.deleteStream(scored, 'http://a/relay/3');
    expect((await source.pollEvent(event)).streams).toEqual([]);
    // The event's own reads ignore the records.
    expect(Object.keys((await b.metadata.getEvent(event))!.pipelines)).toEqual([]);
  });

  it('polls hundreds of watched objects with one Query per period, and reads only the objects published', async () => {
    const event = 'ev-many';
    const client = new DynamoDBClient({ region: local.region });
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    const metadata = new DynamoDbMetadataStore({ client, tablePrefix: local.tablePrefix, observer: new RecordingObserver() });
    let pollsStarted = 0;
    let pollsDone = 0;
    const source: WatchedObjectSource = {
      lastSeen: (object) => metadata.feedSource.lastSeen(object),
      invalidateObject: (object) => metadata.feedSource.invalidateObject(object),
      pollEvent: (event) => {
        pollsStarted++;
        return metadata.feedSource.pollEvent(event).finally(() => pollsDone++);
      },
      pollObjects: (objects) => metadata.feedSource.pollObjects(objects),
      putStream: (candidate, relay) => metadata.feedSource.putStream(candidate, relay),
      deleteStream: (candidate, relay) => metadata.feedSource.deleteStream(candidate, relay),
    };
    const feed = new DynamoDbPublishFeed({ source, observer: new RecordingObserver() });
    const released = new Set<string>();
    feed.subscribe((object) => released.add(object.path));
    await a.metadata.putEventConfig(event, { pipelines: ['a'] }, Date.now());
    const paths = Array.from({ length: 250 }, (_, i) => `audio/seg_${i}.m4a`);
    for (const path of paths) feed.watch({ event, path });
    // A few periods (waited for as they happen, not for a time in which they should have).
    const polled = Date.now() + 10_000;
    while (pollsDone <= 2 && Date.now() < polled) await tick(10);
    expect(pollsDone).toBeGreaterThan(2);
    // One Query of the event's records per period (one poll may be under way); segments are never read one by one.
    const queries = commands.filter((name) => name === 'QueryCommand').length;
    expect(queries).toBeGreaterThanOrEqual(pollsDone);
    expect(queries).toBeLessThanOrEqual(pollsStarted);
    expect(commands.filter((name) => name === 'BatchGetItemCommand')).toEqual([]);
    // One after another, as one packager publishes (and so dynalite keeps within the SDK's timeout).
    for (const [i, path] of paths.slice(0, 50).entries()) {
      const at = Date.now();
      await a.metadata.putCandidate(candidate(event, path, 'a', at));
      await a.metadata.recordPublish(event, { pipeline: 'a', at, number: i, rendition: 'audio/seg_{n}.m4a', defective: false });
    }
    const deadline = Date.now() + 2_000;
    while (released.size < 50 && Date.now() < deadline) await tick(10);
    expect([...released].sort()).toEqual(paths.slice(0, 50).sort());
    await feed.close();
    client.destroy();
  });
});

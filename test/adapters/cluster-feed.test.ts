import { describe, expect, it } from 'vitest';
import type { FeedChannel, FeedMessage, WorkerCache } from '../../runtime/adapters/cluster-feed.js';
import { baselineSource, ClusterFeedHub, ClusterPublishFeed } from '../../runtime/adapters/cluster-feed.js';
import type { EventPoll, WatchedObjectSource } from '../../runtime/adapters/dynamodb-publish-feed.js';
import { DynamoDbPublishFeed } from '../../runtime/adapters/dynamodb-publish-feed.js';
import type { Candidate, InProgressCandidate } from '../../runtime/domain/model.js';
import type { ArrivingElsewhere, PublishedObject } from '../../runtime/ports/publish-feed.js';
import { ManualClock } from '../support/manual-clock.js';
import { RecordingObserver } from './recording-observer.js';

/**
 * One publish-feed poller per host: workers' feeds over an IPC channel (here in memory, as
 * JSON, as the cluster's is) to the primary's hub, which polls through the real DynamoDB feed
 * logic over a source the test controls.
 */

const SEG = { event: 'ev', path: 'v/seg_7.m4s' };

/** The DynamoDB source as the feed reads it: records the test sets, polls counted. */
class CountingSource implements WatchedObjectSource {
  eventPolls = 0;
  published = new Map<string, Map<number, number>>();
  streams: ArrivingElsewhere[] = [];
  readonly streamWrites: string[] = [];
  lastSeen(): readonly Candidate[] | undefined {
    return undefined;
  }
  invalidateObject(): void {}
  async pollEvent(): Promise<EventPoll> {
    this.eventPolls++;
    return { published: this.published, signature: '', streams: this.streams };
  }
  async pollObjects(objects: readonly PublishedObject[]) {
    return new Map(objects.map((object) => [object, { pipelines: 'all' as const, candidates: [] }]));
  }
  async putStream(candidate: InProgressCandidate, relay: string) {
    this.streamWrites.push(`put ${candidate.path} ${relay}`);
  }
  async deleteStream(candidate: InProgressCandidate, relay: string) {
    this.streamWrites.push(`delete ${candidate.path} ${relay}`);
  }
}

/** A worker: its feed, its cache's log, what its listeners heard, and the messages it sent. */
function worker(hub: ClusterFeedHub, id: number, clock: ManualClock) {
  const heard: string[] = [];
  const invalidated: string[] = [];
  let deliver: (message: FeedMessage) => void = () => undefined;
  const sent: FeedMessage[] = [];
  const member = { id, send: (message: FeedMessage) => deliver(JSON.parse(JSON.stringify(message)) as FeedMessage) };
  const toHub = hub.attach(member);
  const channel: FeedChannel = {
    send: (message) => {
      sent.push(message);
      toHub(JSON.parse(JSON.stringify(message)));
    },
    onMessage: (handler) => {
      deliver = handler;
    },
  };
  const cache: WorkerCache = {
    lastSeen: () => [],
    invalidateObject: (object) => invalidated.push(`${object.path} @${heard.length}`),
  };
  const feed = new ClusterPublishFeed(channel, cache, clock);
  feed.subscribe((object) => heard.push(object.path));
  return { feed, heard, invalidated, sent, member };
}

function setup() {
  const clock = new ManualClock();
  const source = new CountingSource();
  const baselines = new Map<string, readonly Candidate[]>();
  const feed = new DynamoDbPublishFeed({ source: baselineSource(source, baselines), observer: new RecordingObserver(), pollMs: 50, clock });
  const hub = new ClusterFeedHub(feed, baselines);
  return { clock, source, hub, baselines, a: worker(hub, 1, clock), b: worker(hub, 2, clock) };
}

describe('one publish-feed poller per host', () => {
  it('polls once per period for every worker that waits, and releases each of them, its cache dropped first', async () => {
    const { clock, source, a, b } = setup();
    a.feed.watch(SEG);
    b.feed.watch(SEG);
    b.feed.watch({ event: 'ev', path: 'v/seg_8.m4s' });
    for (let i = 0; i < 10; i++) await clock.advance(50);
    // Two workers, two objects of one event: one Query a period, as one instance alone would.
    expect(source.eventPolls).toBe(10);
    source.published.set('v/seg_{n}.m4s', new Map([[7, clock.now()]]));
    await clock.advance(50);
    expect([a.heard, b.heard]).toEqual([[SEG.path], [SEG.path]]);
    expect([a.invalidated, b.invalidated]).toEqual([[`${SEG.path} @0`], [`${SEG.path} @0`]]);
  });

  it('watches an object while any worker waits, and stops once none does (or the worker is gone)', async () => {
    const { clock, source, hub, a, b } = setup();
    a.feed.watch(SEG);
    a.feed.watch(SEG);
    b.feed.watch(SEG);
    expect(a.sent.filter((m) => m.liveOriginFeed === 'watch')).toHaveLength(1);
    a.feed.unwatch(SEG);
    a.feed.unwatch(SEG);
    await clock.advance(50);
    const polls = source.eventPolls;
    expect(polls).toBe(1);
    hub.detach(b.member);
    await clock.advance(500);
    expect(source.eventPolls).toBe(polls);
  });

  it("hands a worker's publish to the host's other workers at once, and to its own listeners without a round trip", async () => {
    const { clock, a, b } = setup();
    a.feed.watch(SEG);
    b.feed.watch(SEG);
    a.feed.announce(SEG);
    expect(a.heard).toEqual([SEG.path]);
    expect(b.heard).toEqual([SEG.path]);
    expect(b.invalidated).toEqual([`${SEG.path} @0`]);
    await clock.advance(200);
    expect([a.heard.length, b.heard.length]).toEqual([1, 1]);
  });

  it('writes stream records for the workers, and gives waiting workers the PUTs arriving elsewhere while fresh', async () => {
    const { clock, source, a, b } = setup();
    const candidate: InProgressCandidate = {
      event: 'ev',
      pipeline: 'a',
      path: SEG.path,
      kind: 'segment',
      number: 7,
      rendition: 'v/seg_{n}.m4s',
      contentType: 'video/mp4',
      defects: [],
      startedAt: clock.now(),
      inProgress: true,
    };
    b.feed.watch(SEG);
    a.feed.streamStarted(candidate, 'http://10.0.0.1:8081/relay/1');
    await clock.advance(0);
    expect(source.streamWrites).toEqual([`put ${SEG.path} http://10.0.0.1:8081/relay/1`]);
    source.streams = [{ candidate, relay: 'http://10.0.0.1:8081/relay/1' }];
    await clock.advance(50);
    expect(b.heard).toEqual([SEG.path]);
    expect(b.feed.arriving(SEG)).toEqual([{ candidate, relay: 'http://10.0.0.1:8081/relay/1' }]);
    await clock.advance(2_000);
    expect(b.feed.arriving(SEG)).toEqual([]);
    a.feed.streamEnded(candidate, 'http://10.0.0.1:8081/relay/1');
    await clock.advance(0);
    expect(source.streamWrites.at(-1)).toBe(`delete ${SEG.path} http://10.0.0.1:8081/relay/1`);
  });

  it("compares a new watch with the worker's own cache (the primary reads no objects)", () => {
    const { hub, baselines } = setup();
    const seen: Candidate = {
      event: 'ev',
      pipeline: 'a',
      path: 'v/index.m3u8',
      kind: 'mutable',
      etag: '"x"',
      size: 1,
      contentType: 'application/vnd.apple.mpegurl',
      defects: [],
      publishedAt: 1,
    };
    const toHub = hub.attach({ id: 9, send: () => undefined });
    toHub({ liveOriginFeed: 'watch', object: { event: 'ev', path: 'v/index.m3u8' }, seen: [seen] });
    expect(baselines.get('ev\nv/index.m3u8')).toEqual([seen]);
    toHub({ liveOriginFeed: 'unwatch', object: { event: 'ev', path: 'v/index.m3u8' } });
    expect(baselines.size).toBe(0);
  });
});

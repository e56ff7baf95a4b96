import { describe, expect, it } from 'vitest';
import { parseObjectPath } from '../../runtime/domain/object-path.js';
import { listsObject, MAX_LISTING_BYTES, RESOLVED_SEGMENTS, readListing, resolveListed } from '../../runtime/domain/playlist-listing.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 30);

/** An LL-HLS playlist after a catch-up burst: segments 100-102 with their parts, the hint at 103.0. */
const LL_HLS = `#EXTM3U
#EXT-X-TARGETDURATION:1
#EXT-X-PART-INF:PART-TARGET=0.25
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-MAP:URI="init.mp4"
${[100, 101, 102].map((n) => `${[0, 1, 2, 3].map((k) => `#EXT-X-PART:DURATION=0.25,URI="filePart${n}.${k}.mp4"`).join('\n')}\n#EXTINF:1.0,\nfileSequence${n}.mp4`).join('\n')}
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart103.0.mp4"
`;

const listed = (path: string, body: string, object: string) => listsObject(readListing(path, Buffer.from(body), NOW)!, parseObjectPath(object));

describe('readListing: HLS', () => {
  it('lists each rendition the playlist names, with its numbers and the declared time between them', () => {
    const listing = readListing('ev/v/index.m3u8', Buffer.from(LL_HLS), NOW)!;
    expect(listing.ended).toBe(false);
    expect(listing.renditions.get('ev/v/fileSequence{n}.mp4')).toEqual({ rendition: 'ev/v/fileSequence{n}.mp4', first: 100, last: 102, declaredMs: 1_000 });
    // Part index 0 advances once per segment: the segment's duration, not the part's.
    expect(listing.renditions.get('ev/v/filePart{n}.0.mp4')).toEqual({
      rendition: 'ev/v/filePart{n}.0.mp4',
      first: 100,
      last: 103,
      declaredMs: 1_000,
      hinted: true,
    });
    expect(listing.renditions.get('ev/v/filePart{n}.3.mp4')).toMatchObject({ first: 100, last: 102 });
  });

  it('names the preload-hinted part and the next part of every part index; not two ahead, nor before the window', () => {
    expect(listed('v/index.m3u8', LL_HLS, 'v/filePart103.0.mp4')).toBe(true);
    expect(listed('v/index.m3u8', LL_HLS, 'v/filePart103.1.mp4')).toBe(true);
    expect(listed('v/index.m3u8', LL_HLS, 'v/fileSequence103.mp4')).toBe(true);
    expect(listed('v/index.m3u8', LL_HLS, 'v/filePart104.0.mp4')).toBe(false);
    expect(listed('v/index.m3u8', LL_HLS, 'v/fileSequence99.mp4')).toBe(false);
    expect(listed('v/index.m3u8', LL_HLS, 'a/fileSequence101.mp4')).toBe(false);
  });

  it('names nothing after the last segment of an ended playlist', () => {
    const ended = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg_7.m4s\n#EXT-X-ENDLIST\n';
    expect([listed('v/index.m3u8', ended, 'v/seg_7.m4s'), listed('v/index.m3u8', ended, 'v/seg_8.m4s')]).toEqual([true, false]);
  });

  it('lists a long DVR playlist from its first to its last segment, resolving only its ends', () => {
    const count = RESOLVED_SEGMENTS * 10;
    const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:1'];
    for (let n = 1; n <= count; n++) lines.push('#EXTINF:2.0,', n === 50 ? 'ad/ad_50.ts' : `seg_${n}.m4s`);
    const listing = readListing('v/index.m3u8', Buffer.from(lines.join('\n')), NOW)!;
    expect(listing.renditions.get('v/seg_{n}.m4s')).toEqual({ rendition: 'v/seg_{n}.m4s', first: 1, last: count, declaredMs: 2_000 });
    // A rendition named only in the middle of a long playlist is not read.
    expect(listing.renditions.has('v/ad/ad_{n}.ts')).toBe(false);
  });

  it('declares the part duration for parts numbered on their own, across segments', () => {
    const parts =
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.5\n#EXT-X-PART:DURATION=0.5,URI="part_41.m4s"\n#EXT-X-PART:DURATION=0.5,URI="part_42.m4s"\n';
    expect(readListing('v/index.m3u8', Buffer.from(parts), NOW)!.renditions.get('v/part_{n}.m4s')).toMatchObject({ first: 41, last: 42, declaredMs: 500 });
  });
});

describe('readListing: DASH', () => {
  const mpd = (template: string, extra = '') =>
    `<MPD type="dynamic" availabilityStartTime="2026-12-05T12:00:00Z" maxSegmentDuration="PT3S" ${extra}><Period start="PT0S"><AdaptationSet><Representation id="0">${template}</Representation></AdaptationSet></Period></MPD>`;

  it('lists a SegmentTimeline from startNumber to its last, and names the next $Number$', () => {
    const body = mpd(
      '<SegmentTemplate timescale="1000" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="7"><SegmentTimeline><S t="0" d="2000" r="3"/></SegmentTimeline></SegmentTemplate>',
    );
    expect(readListing('d/manifest.mpd', Buffer.from(body), NOW)!.renditions.get('d/chunk-0-{n}.m4s')).toEqual({
      rendition: 'd/chunk-0-{n}.m4s',
      first: 7,
      last: 10,
      declaredMs: 2_000,
    });
    expect([6, 7, 10, 11, 12].map((n) => listed('d/manifest.mpd', body, `d/chunk-0-${String(n).padStart(5, '0')}.m4s`))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
  });

  it('lists a @duration template up to the segment available by the clock, and the one after it', () => {
    // 30 s after AST at 2 s: 15 segments ended, numbers 1-15; 16 is the next.
    const body = mpd('<SegmentTemplate timescale="1000" duration="2000" media="s_$Number$.m4s"/>');
    expect([15, 16, 17].map((n) => listed('d/manifest.mpd', body, `d/s_${n}.m4s`))).toEqual([true, true, false]);
  });

  it('declares MPD@maxSegmentDuration when the template gives no duration', () => {
    const body = mpd('<SegmentTemplate media="s_$Number$.m4s" startNumber="1"/>');
    expect(readListing('d/manifest.mpd', Buffer.from(body), NOW)!.renditions.get('d/s_{n}.m4s')?.declaredMs).toBe(3_000);
  });

  it('skips a template whose name numbers objects by other digits than $Number$', () => {
    const body = mpd('<SegmentTemplate timescale="1" duration="2" media="s_$Number$_v2.m4s"/>');
    expect(readListing('d/manifest.mpd', Buffer.from(body), NOW)!.renditions.size).toBe(0);
  });
});

describe('readListing and resolveListed: what is read at all', () => {
  it('reads only playlists and manifests, and none larger than MAX_LISTING_BYTES', () => {
    expect(readListing('v/seg_1.m4s', Buffer.from(LL_HLS), NOW)).toBeUndefined();
    expect(readListing('v/index.m3u8', Buffer.alloc(MAX_LISTING_BYTES + 1, 0x23), NOW)).toBeUndefined();
  });

  it('resolves relative URIs against the playlist, .. included, and drops a query', () => {
    expect(resolveListed('ev/v/720p/index.m3u8', '../audio/seg_4.m4s?x=1')).toMatchObject({ path: 'ev/v/audio/seg_4.m4s', number: 4 });
    expect(resolveListed('index.m3u8', 'seg_4.m4s')).toMatchObject({ path: 'seg_4.m4s', rendition: 'seg_{n}.m4s' });
  });

  it('leaves out absolute URLs and paths, URIs climbing above the event, and objects without a number', () => {
    expect(
      ['https://cdn.example/v/seg_4.m4s', '/live/ev/v/seg_4.m4s', '../../seg_4.m4s', 'init.mp4', 'bad name 4.m4s'].map((uri) =>
        resolveListed('v/index.m3u8', uri),
      ),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

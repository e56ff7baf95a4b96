import { describe, expect, it } from 'vitest';
import { lastListed, numberedMedia, parseIsoDuration, readMpd } from '../../runtime/domain/dash-manifest.js';

/** What ffmpeg 5.1's dash muxer writes with -use_timeline 1 and a window of 3 (live: type dynamic). */
const TIMELINE = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
	xmlns="urn:mpeg:dash:schema:mpd:2011"
	profiles="urn:mpeg:dash:profile:isoff-live:2011"
	type="dynamic"
	availabilityStartTime="2026-12-05T12:00:00.000Z"
	maxSegmentDuration="PT1.0S"
	minBufferTime="PT2.0S">
	<!-- <Period id="commented-out"> -->
	<Period id="0" start="PT0.0S">
		<AdaptationSet id="0" contentType="video" segmentAlignment="true">
			<Representation id="0" mimeType="video/mp4" bandwidth="304987" width="160" height="90">
				<SegmentTemplate timescale="12800" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="3">
					<SegmentTimeline>
						<S t="25600" d="12800" r="2" />
					</SegmentTimeline>
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
		<AdaptationSet id="1" contentType="audio">
			<Representation id="1" mimeType="audio/mp4" bandwidth="69000" audioSamplingRate="44100">
				<SegmentTemplate timescale="44100" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="3">
					<SegmentTimeline>
						<S t="89088" d="44032" r="1" />
						<S d="43348" />
					</SegmentTimeline>
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
	</Period>
</MPD>
`;

/** -use_timeline 0: a number template with @duration, shared by the AdaptationSet's Representations. */
const DURATION = `<MPD type="dynamic" availabilityStartTime="2026-12-05T12:00:00Z">
  <Period start="PT10S">
    <AdaptationSet>
      <SegmentTemplate timescale="1000000" duration="2000000" media="$RepresentationID$/seg_$Number$.m4s" startNumber="1"/>
      <Representation id="720p" bandwidth="3000000"/>
      <Representation id="360p" bandwidth="800000">
        <SegmentTemplate startNumber="5"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet>
      <Representation id="t">
        <SegmentTemplate media="text_$Time$.vtt" timescale="1000" duration="2000"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`;

describe('readMpd', () => {
  it("reads ffmpeg's SegmentTimeline: media templates, start numbers, listed counts and median S@d", () => {
    expect(readMpd(TIMELINE)).toEqual({
      dynamic: true,
      availabilityStartTime: Date.UTC(2026, 11, 5, 12),
      presentationMs: undefined,
      maxSegmentMs: 1_000,
      periodStartMs: 0,
      representations: [
        { media: 'chunk-stream0-$Number%05d$.m4s', startNumber: 3, listedCount: 3, durationMs: 1_000 },
        { media: 'chunk-stream1-$Number%05d$.m4s', startNumber: 3, listedCount: 3, durationMs: 998 },
      ],
    });
  });

  it('inherits a SegmentTemplate from the AdaptationSet, a Representation overriding single attributes, and skips $Time$ templates', () => {
    expect(readMpd(DURATION)).toMatchObject({
      periodStartMs: 10_000,
      representations: [
        { media: '720p/seg_$Number$.m4s', startNumber: 1, durationMs: 2_000 },
        { media: '360p/seg_$Number$.m4s', startNumber: 5, durationMs: 2_000 },
      ],
    });
  });

  it('answers undefined for text that holds no MPD', () => {
    expect(readMpd('#EXTM3U\n')).toBeUndefined();
  });
});

describe('lastListed', () => {
  it('is the last number of a SegmentTimeline', () => {
    const mpd = readMpd(TIMELINE)!;
    expect(lastListed(mpd, mpd.representations[0]!, 0)).toBe(5);
  });

  it("is, for a @duration template, the newest segment the MPD's clock makes available (ended by now)", () => {
    const mpd = readMpd(DURATION)!;
    const start = Date.UTC(2026, 11, 5, 12) + 10_000;
    const rendition = mpd.representations[0]!;
    expect([lastListed(mpd, rendition, start + 1_999), lastListed(mpd, rendition, start + 2_000), lastListed(mpd, rendition, start + 9_000)]).toEqual([
      0, 1, 4,
    ]);
  });

  it('counts every segment of a static presentation', () => {
    const mpd = readMpd(
      '<MPD type="static" mediaPresentationDuration="PT5.0S"><Period><AdaptationSet><Representation id="0"><SegmentTemplate media="s$Number$.m4s" duration="2"/></Representation></AdaptationSet></Period></MPD>',
    )!;
    expect(lastListed(mpd, mpd.representations[0]!, 0)).toBe(3);
  });
});

describe('numberedMedia and parseIsoDuration', () => {
  it('fills $Number$ and its zero-padded form', () => {
    expect([numberedMedia('c-$Number%05d$.m4s', 42), numberedMedia('c-$Number$.m4s', 42)]).toEqual(['c-00042.m4s', 'c-42.m4s']);
  });

  it('reads the xs:duration forms MPDs use', () => {
    expect(['PT2S', 'PT0.5S', 'PT1H0M4.5S', 'P1DT1M', 'PT', 'two seconds', undefined].map(parseIsoDuration)).toEqual([
      2_000,
      500,
      3_604_500,
      86_460_000,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

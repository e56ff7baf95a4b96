import { describe, expect, it } from 'vitest';
import { DECLARED_SEGMENTS, median, readHlsListing } from '../../runtime/domain/hls-listing.js';

/** Apple's LL-HLS example shape: whole segments with their parts, then a segment in progress. */
const LIVE = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MEDIA-SEQUENCE:271
#EXT-X-MAP:URI="init.mp4"
#EXTINF:1.960,
fileSequence271.mp4
#EXT-X-PART:DURATION=0.5,URI="filePart272.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.48,URI="filePart272.1.mp4"
#EXTINF:2.002,
fileSequence272.mp4
#EXT-X-PART:DURATION=0.5,URI="filePart273.0.mp4",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart273.1.mp4"
#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="init2.mp4"
`;

describe('readHlsListing', () => {
  it('names every media URI with its role: segments, parts and the part preload hint (not the map)', () => {
    expect(readHlsListing(LIVE).uris).toEqual([
      { uri: 'fileSequence271.mp4', role: 'segment' },
      { uri: 'filePart272.0.mp4', role: 'part' },
      { uri: 'filePart272.1.mp4', role: 'part' },
      { uri: 'fileSequence272.mp4', role: 'segment' },
      { uri: 'filePart273.0.mp4', role: 'part' },
      { uri: 'filePart273.1.mp4', role: 'hint' },
    ]);
  });

  it('declares the median EXTINF and the median part duration, in ms', () => {
    expect(readHlsListing(LIVE)).toMatchObject({ segmentMs: 1_960, partMs: 500, ended: false });
  });

  it('declares from the newest DECLARED_SEGMENTS EXTINFs: the packager’s present cadence', () => {
    const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:6'];
    for (let n = 1; n <= 3 * DECLARED_SEGMENTS; n++) lines.push(`#EXTINF:${n <= 2 * DECLARED_SEGMENTS ? '6.0' : '2.0'},`, `seg_${n}.ts`);
    expect(readHlsListing(lines.join('\n')).segmentMs).toBe(2_000);
  });

  it('falls back to EXT-X-TARGETDURATION and PART-TARGET while no segment or part is listed', () => {
    const first = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=1.002\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p0.0.m4s"\n';
    expect(readHlsListing(first)).toEqual({ uris: [{ uri: 'p0.0.m4s', role: 'hint' }], segmentMs: 4_000, partMs: 1_002, ended: false });
  });

  it('reads what ffmpeg writes, with EXT-X-ENDLIST', () => {
    const ffmpeg = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-MEDIA-SEQUENCE:3',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXTINF:1.000000,',
      'seg_3.m4s',
      '#EXTINF:1.000000,',
      'seg_4.m4s',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n');
    expect(readHlsListing(ffmpeg)).toEqual({
      uris: [
        { uri: 'seg_3.m4s', role: 'segment' },
        { uri: 'seg_4.m4s', role: 'segment' },
      ],
      segmentMs: 1_000,
      partMs: undefined,
      ended: true,
    });
  });

  it('declares nothing it cannot read (a malformed EXTINF, no target duration)', () => {
    expect(readHlsListing('#EXTM3U\n#EXTINF:soon,\nseg_1.ts\n')).toMatchObject({ segmentMs: undefined, uris: [{ uri: 'seg_1.ts', role: 'segment' }] });
  });

  it('takes no URI line as a segment unless an EXTINF opened it (a multivariant playlist names playlists)', () => {
    expect(readHlsListing('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nv/index.m3u8\n').uris).toEqual([]);
  });
});

describe('median', () => {
  it('takes the lower middle of an even count, so one long segment does not raise the declaration', () => {
    expect([median([2_000, 2_000, 6_000, 1_000]), median([3]), median([])]).toEqual([2_000, 3, undefined]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseAttributes, readMediaPlaylist } from '../../runtime/domain/ll-hls-playlist.js';

/** Apple's LL-HLS example shape: whole segments with their parts, then a segment in progress. */
const LIVE = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MEDIA-SEQUENCE:270
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000,
fileSequence270.mp4
#EXTINF:2.000,
fileSequence271.mp4
#EXT-X-PART:DURATION=0.5,URI="filePart272.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.5,URI="filePart272.1.mp4"
#EXT-X-PART:DURATION=0.5,URI="filePart272.2.mp4"
#EXT-X-PART:DURATION=0.5,URI="filePart272.3.mp4"
#EXTINF:2.000,
fileSequence272.mp4
#EXT-X-PART:DURATION=0.5,URI="filePart273.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.5,URI="filePart273.1.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart273.2.mp4"
`;

describe('readMediaPlaylist', () => {
  it('finds the last whole segment, the parts after it and the preload hint', () => {
    expect(readMediaPlaylist(LIVE)).toEqual({
      targetDurationMs: 2000,
      partTargetMs: 500,
      mediaSequence: 270,
      lastMsn: 272,
      trailingParts: 2,
      lastSegmentParts: 4,
      preloadHintUri: 'filePart273.2.mp4',
      canBlockReload: true,
      ended: false,
    });
  });

  it('reads a playlist right after a segment closed: no trailing parts', () => {
    const closed = LIVE.split('#EXT-X-PART:DURATION=0.5,URI="filePart273.0.mp4"')[0]!;
    const edge = readMediaPlaylist(closed);
    expect(edge.lastMsn).toBe(272);
    expect(edge.trailingParts).toBe(0);
    expect(edge.preloadHintUri).toBeUndefined();
  });

  it('takes a missing media sequence as 0 and counts CRLF lines', () => {
    const edge = readMediaPlaylist('#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXTINF:4,\r\na.ts\r\n#EXTINF:4,\r\nb.ts\r\n#EXT-X-ENDLIST\r\n');
    expect(edge).toMatchObject({ mediaSequence: 0, lastMsn: 1, targetDurationMs: 4000, canBlockReload: false, ended: true });
    expect(edge.partTargetMs).toBeUndefined();
  });

  it('has lastMsn one below the media sequence when no segment is whole yet', () => {
    const edge = readMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-PART:DURATION=0.5,URI="p10.0.mp4"\n');
    expect(edge.lastMsn).toBe(9);
    expect(edge.trailingParts).toBe(1);
  });

  it('ignores a map hint and CAN-BLOCK-RELOAD=NO', () => {
    const edge = readMediaPlaylist('#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=NO\n#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="init2.mp4"\n');
    expect(edge.canBlockReload).toBe(false);
    expect(edge.preloadHintUri).toBeUndefined();
  });
});

describe('parseAttributes', () => {
  it('keeps commas inside quoted values', () => {
    const attributes = parseAttributes('TYPE=PART,URI="a,b.mp4",BYTERANGE-START=10');
    expect([...attributes]).toEqual([
      ['TYPE', 'PART'],
      ['URI', 'a,b.mp4'],
      ['BYTERANGE-START', '10'],
    ]);
  });
});

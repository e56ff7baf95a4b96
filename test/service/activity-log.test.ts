import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../runtime/service/activity-log.js';

describe('ActivityLog', () => {
  it('keeps the newest entries of each ring, newest first', () => {
    let now = 0;
    const log = new ActivityLog(() => ++now, 3);
    for (const n of [1, 2, 3, 4, 5]) log.selected('e', `v/seg_${n}.m4s`, 'a', 'clean');
    log.selected('e', 'v/seg_5.m4s', 'b', 'clean', 'a');
    const { selections } = log.recent(() => true);
    expect(selections.map((s) => [s.path, s.pipeline, s.previous])).toEqual([
      ['v/seg_5.m4s', 'b', 'a'],
      ['v/seg_5.m4s', 'a', undefined],
      ['v/seg_4.m4s', 'a', undefined],
    ]);
    expect(selections.map((s) => s.at)).toEqual([6, 5, 4]);
  });

  it('records every purge that passes through its purger, then hands it on', async () => {
    const sent: [string, readonly string[]][] = [];
    const log = new ActivityLog(() => 1);
    const purger = log.recording({ purge: (event, paths) => void sent.push([event, paths]), flush: async () => undefined });
    purger.purge('e', ['v/seg_1.m4s']);
    purger.purge('other', ['*']);
    expect(sent).toEqual([
      ['e', ['v/seg_1.m4s']],
      ['other', ['*']],
    ]);
    expect(log.recent((event) => event === 'e').purges).toEqual([{ at: 1, event: 'e', paths: ['v/seg_1.m4s'] }]);
  });
});

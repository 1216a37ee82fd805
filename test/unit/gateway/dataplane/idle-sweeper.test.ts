import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleSweeper } from '../../../../gateway/dataplane/idle-sweeper.js';

describe('IdleSweeper', () => {
  it('fires once for a watch that stayed quiet its whole timeout, never for one that kept moving', () => {
    let now = 0;
    const sweeper = new IdleSweeper(1000, () => now);
    try {
      const fired: string[] = [];
      const quiet = sweeper.watch(3000, () => fired.push('quiet'));
      const busy = sweeper.watch(3000, () => fired.push('busy'));
      for (let t = 1; t <= 10; t++) {
        now = t * 1000;
        busy.active = true;
        sweeper.sweep();
      }
      assert.deepEqual(fired, ['quiet']);
      quiet.stop();
      busy.stop();
      now = 60_000;
      sweeper.sweep();
      assert.deepEqual(fired, ['quiet'], 'a stopped watch never fires');
    } finally {
      sweeper.close();
    }
  });

  it('treats a timeout of 0 as never, and counts quiet time from the last activity', () => {
    let now = 0;
    const sweeper = new IdleSweeper(1000, () => now);
    try {
      let fired = 0;
      sweeper.watch(0, () => { fired += 1; });
      const watch = sweeper.watch(2000, () => { fired += 10; });
      now = 1000; watch.active = true; sweeper.sweep(); // active: quiet from 1000
      now = 2500; sweeper.sweep();
      assert.equal(fired, 0);
      now = 3000; sweeper.sweep();
      assert.equal(fired, 10);
      now = 1_000_000; sweeper.sweep();
      assert.equal(fired, 10);
    } finally {
      sweeper.close();
    }
  });
});

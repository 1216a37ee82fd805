import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedWorkQueue } from '../../../registry/sources/keyed-work-queue.js';

/** A run that finishes when the test says so. */
function gated(): { run: (key: string) => Promise<void>; started: string[]; finish(key: string, err?: Error): void } {
  const started: string[] = [];
  const gates = new Map<string, Array<(err?: Error) => void>>();
  return {
    started,
    run: (key) => new Promise<void>((resolve, reject) => {
      started.push(key);
      const list = gates.get(key) ?? [];
      list.push((err) => (err === undefined ? resolve() : reject(err)));
      gates.set(key, list);
    }),
    finish: (key, err) => {
      const next = gates.get(key)?.shift();
      assert.ok(next, `${key} is not running`);
      next(err);
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedWorkQueue', () => {
  it('runs at most `concurrency` keys at once, urgent ones first', async () => {
    const g = gated();
    const queue = new KeyedWorkQueue<string>({ concurrency: 2, run: g.run });
    for (const k of ['a', 'b', 'c', 'd']) queue.request(k, false);
    queue.request('z', true);
    assert.deepEqual(g.started, ['a', 'b']);
    g.finish('a');
    await tick();
    assert.deepEqual(g.started, ['a', 'b', 'z'], 'the urgent key goes before the waiting ordinary ones');
    g.finish('b');
    g.finish('z');
    await tick();
    assert.deepEqual(g.started, ['a', 'b', 'z', 'c', 'd']);
    assert.equal(queue.size, 2);
    queue.close();
  });

  it('collapses requests: a waiting key is not queued twice, a running one runs once more after', async () => {
    const g = gated();
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, run: g.run });
    queue.request('a', false);
    for (let i = 0; i < 5; i += 1) {
      queue.request('a', false);
      queue.request('b', false);
    }
    assert.equal(queue.size, 2, 'a running, b waiting once');
    g.finish('a');
    await tick();
    assert.deepEqual(g.started, ['a', 'b'], 'b waited; a, asked again while running, queues behind it');
    g.finish('b');
    await tick();
    g.finish('a');
    await tick();
    assert.deepEqual(g.started, ['a', 'b', 'a'], 'five asks while running cost one more run');
    assert.equal(queue.size, 0);
  });

  it('a cancelled key does not run; close drops what waits and starts nothing more', async () => {
    const g = gated();
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, run: g.run });
    queue.request('a', false);
    queue.request('b', false);
    queue.request('c', false);
    queue.cancel('b');
    g.finish('a');
    await tick();
    assert.deepEqual(g.started, ['a', 'c']);
    queue.close();
    queue.request('d', true);
    g.finish('c');
    await tick();
    assert.deepEqual(g.started, ['a', 'c']);
  });

  it('a failure pauses the whole queue with a doubling backoff, retries the key first, and a success resets it', async () => {
    const g = gated();
    const failures: Array<[string, number]> = [];
    const queue = new KeyedWorkQueue<string>({
      concurrency: 2, run: g.run, baseBackoffMs: 20, maxBackoffMs: 50, onFailure: (key, _err, ms) => failures.push([key, ms]),
    });
    queue.request('a', false);
    queue.request('b', false);
    queue.request('c', false);
    g.finish('a', new Error('429'));
    g.finish('b', new Error('429'));
    await tick();
    assert.deepEqual(failures, [['a', 20], ['b', 20]], 'runs that fail together share one pause');
    assert.deepEqual(g.started, ['a', 'b'], 'paused: nothing starts');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(g.started.slice(2).sort(), ['a', 'b'], 'the failed keys go first after the pause');
    g.finish('a', new Error('429'));
    await tick();
    assert.deepEqual(failures.at(-1), ['a', 40], 'a second failure in a row doubles the pause');
    g.finish('b');
    await new Promise((resolve) => setTimeout(resolve, 60));
    g.finish('a');
    await tick();
    g.finish('c', new Error('down'));
    await tick();
    assert.deepEqual(failures.at(-1), ['c', 20], 'a success in between reset the backoff');
    queue.close();
    assert.throws(() => new KeyedWorkQueue<string>({ concurrency: 0, run: g.run }), /concurrency must be a whole number >= 1/);
  });
});

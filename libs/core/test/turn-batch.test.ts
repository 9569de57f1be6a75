import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../src/turn-batch.ts';

describe('TurnBatch', () => {
  it('hands the items of one turn to one send, in order, and the next turn to the next', async () => {
    const sent: number[][] = [];
    const batch = new TurnBatch<number, string>((items) => {
      sent.push([...items]);
      return Promise.resolve(items.map((item) => ({ status: 'fulfilled', value: `#${item}` })));
    });
    const first = [batch.add(1), batch.add(2), batch.add(3)];
    expect(sent).toEqual([]); // nothing is sent before the turn's calls are all in
    expect(await Promise.all(first)).toEqual(['#1', '#2', '#3']);
    expect(await batch.add(4)).toBe('#4');
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it('gives each call its own answer: one failing item fails only its own call', async () => {
    const batch = new TurnBatch<number, number>((items) =>
      Promise.resolve(
        items.map((item) =>
          item < 0 ? { status: 'rejected', reason: new Error(`bad ${item}`) } : { status: 'fulfilled', value: item * 2 },
        ),
      ),
    );
    const results = await Promise.allSettled([batch.add(1), batch.add(-1), batch.add(2)]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('bad -1') },
      { status: 'fulfilled', value: 4 },
    ]);
  });

  it('fails every call of the batch when the send fails or answers the wrong number, and sends afresh after', async () => {
    let calls = 0;
    const batch = new TurnBatch<number, number>((items) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error('store away'));
      if (calls === 2) return Promise.resolve([{ status: 'fulfilled', value: 0 }]);
      return Promise.resolve(items.map((item) => ({ status: 'fulfilled', value: item })));
    });
    const down = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(down.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const short = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(short.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((short[0] as PromiseRejectedResult).reason)).toMatch(/1 answers to 2 calls/);
    await nextTurn();
    expect(await batch.add(5)).toBe(5);
  });
});

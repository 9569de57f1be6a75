import { describe, expect, it } from 'vitest';
import { CoalescedRun } from '../src/coalesced-run.ts';

/** A work whose runs are started by the test and finished by it, one by one. */
function controlled() {
  const runs: Array<{ resolve: (value: number) => void; reject: (error: Error) => void }> = [];
  const work = () =>
    new Promise<number>((resolve, reject) => {
      runs.push({ resolve, reject });
    });
  return { runs, run: new CoalescedRun(work) };
}

describe('CoalescedRun', () => {
  it('runs at once when idle, and callers during a run share the one run queued after it', async () => {
    const { runs, run } = controlled();
    const first = run.run();
    expect(runs).toHaveLength(1);
    const [second, third, fourth] = [run.run(), run.run(), run.run()];
    expect(second).toBe(third);
    expect(third).toBe(fourth);
    expect(runs).toHaveLength(1); // the queued run waits for the first to end
    runs[0]!.resolve(1);
    expect(await first).toBe(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(2);
    expect(await Promise.all([second, third, fourth])).toEqual([2, 2, 2]);
    const fifth = run.run(); // idle again: a run of its own
    expect(runs).toHaveLength(3);
    runs[2]!.resolve(3);
    expect(await fifth).toBe(3);
  });

  it('rejects every caller of a failed run, and starts the queued run anyway', async () => {
    const { runs, run } = controlled();
    const first = run.run();
    const second = run.run();
    runs[0]!.reject(new Error('disk gone'));
    await expect(first).rejects.toThrow('disk gone');
    await expect.poll(() => runs.length).toBe(2);
    runs[1]!.resolve(7);
    expect(await second).toBe(7);
  });

  it('turns a work that throws at once into a rejection', async () => {
    const run = new CoalescedRun<number>(() => {
      throw new Error('at once');
    });
    await expect(run.run()).rejects.toThrow('at once');
    await expect(run.run()).rejects.toThrow('at once');
  });
});

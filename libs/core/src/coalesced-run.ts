/**
 * Runs `work` for many callers at once: while one run is under way, every caller that arrives shares the ONE
 * run queued after it. A caller's run always starts after it called, so whatever the caller did before (say, a
 * rename it wants synced) is covered, yet a burst of N callers costs two runs, not N.
 * A failed run rejects every caller that shares it; the next call starts afresh.
 */
export class CoalescedRun<T> {
  readonly #work: () => Promise<T>;
  #running: Promise<T> | undefined;
  #queued: Promise<T> | undefined;

  constructor(work: () => Promise<T>) {
    this.#work = work;
  }

  run(): Promise<T> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const queued = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<T> {
    this.#queued = undefined;
    // An async wrapper, so that a work that throws at once rejects like one that fails later.
    const running = (async () => this.#work())().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the calls made during one turn of the event loop and hands their items to `send` together, once,
 * after the poll phase (`setImmediate`): by then every request whose bytes arrived in this turn has made its
 * call. One round trip to a store instead of one per call. `send` answers every item, in order, each with its
 * value or its error; if `send` itself fails, every call of the batch fails with that error. `flush()` sends
 * what is waiting at once; `send` is called synchronously from it, so work `send` does before its first await is
 * done when `flush()` returns.
 */
export class TurnBatch<I, O> {
  readonly #send: (items: readonly I[]) => Promise<ReadonlyArray<PromiseSettledResult<O>>>;
  #waiting: Array<Waiting<I, O>> = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(send: (items: readonly I[]) => Promise<ReadonlyArray<PromiseSettledResult<O>>>) {
    this.#send = send;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is waiting now, rather than at the end of the turn. */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length > 0) void this.#deliver(batch);
  }

  async #deliver(batch: ReadonlyArray<Waiting<I, O>>): Promise<void> {
    let answers: ReadonlyArray<PromiseSettledResult<O>>;
    try {
      answers = await this.#send(batch.map((waiting) => waiting.item));
      if (answers.length !== batch.length) throw new Error(`${answers.length} answers to ${batch.length} calls`);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => {
      const answer = answers[i]!;
      if (answer.status === 'fulfilled') waiting.resolve(answer.value);
      else waiting.reject(answer.reason);
    });
  }
}

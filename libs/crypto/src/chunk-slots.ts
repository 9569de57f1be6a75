/**
 * The buffers a decrypting stream puts its full plaintext chunks in, reused once whoever sent a chunk on says
 * nothing holds it any more (`recycleChunk`).
 *
 * Why: a chunk waits in the response's and the socket's queues long enough to outlive a young-generation
 * collection, so a fresh 64 KiB buffer per chunk gets promoted and is freed only by a full mark-compact. At
 * 300+ MiB/s that is one full collection every ~45 ms (traced with --trace-gc on 1 GiB downloads) and half of
 * the downloads ran at half speed. Reused buffers allocate nothing per chunk.
 *
 * A consumer that never recycles only loses the reuse: when no slot is free a fresh buffer is made (pooled up
 * to `max`, plain after that), so nothing ever waits for a slot.
 */
const owners = new WeakMap<ArrayBufferLike, ChunkSlots>();

export class ChunkSlots {
  readonly #size: number;
  readonly #max: number;
  readonly #free: Buffer[] = [];
  /** Pooled buffers out with a consumer, by their memory (a view of a chunk shares it). */
  readonly #lent = new Map<ArrayBufferLike, Buffer>();
  #made = 0;

  constructor(size: number, max: number) {
    this.#size = size;
    this.#max = max;
  }

  /** A buffer of `size` bytes whose content is garbage, to be overwritten whole. */
  take(): Buffer {
    const slot = this.#free.pop() ?? this.#make();
    if (slot) this.#lent.set(slot.buffer, slot);
    return slot ?? Buffer.allocUnsafeSlow(this.#size);
  }

  /** Back to the free list if it is one of ours and out; a second hand-back of the same chunk does nothing. */
  giveBack(memory: ArrayBufferLike): void {
    const slot = this.#lent.get(memory);
    if (!slot) return;
    this.#lent.delete(memory);
    this.#free.push(slot);
  }

  /** A new pooled buffer, or none once `max` are made (the caller then makes a plain one). */
  #make(): Buffer | undefined {
    if (this.#made === this.#max) return undefined;
    this.#made++;
    // allocUnsafeSlow: memory of its own, never a share of Node's pool that another buffer also uses.
    const fresh = Buffer.allocUnsafeSlow(this.#size);
    owners.set(fresh.buffer, this);
    return fresh;
  }
}

/**
 * Says that `chunk` (or the view of a chunk) from a decrypting stream is no longer held by anyone: its bytes
 * may be overwritten. Call it only when that is certain, e.g. from the callback of the socket write that
 * sent it. Any other chunk is ignored.
 */
export function recycleChunk(chunk: Uint8Array): void {
  owners.get(chunk.buffer)?.giveBack(chunk.buffer);
}

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, ChunkSlots, decryptStream, encryptStream, recycleChunk } from '../src/index.ts';

const key = randomBytes(32);
/** The filesystem store's reads: a transform call opens at most two chunks. */
const READ = 128 * 1024;

/** Decrypts `cipher`, handing every chunk to `each` as it comes; the plaintext, as copies of the chunks. */
async function decryptEach(cipher: Buffer, each: (chunk: Buffer) => void): Promise<Buffer> {
  const copies: Buffer[] = [];
  const stream = Readable.from([cipher]).pipe(decryptStream(key));
  stream.on('data', (chunk: Buffer) => {
    copies.push(Buffer.from(chunk));
    each(chunk);
  });
  await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
  return Buffer.concat(copies);
}

describe('chunk slots', () => {
  it('hands a buffer back once, to the set that lent it; views count as the buffer; strangers are ignored', () => {
    const slots = new ChunkSlots(16, 2);
    const a = slots.take();
    const b = slots.take();
    recycleChunk(a.subarray(3, 9));
    recycleChunk(a); // a second hand-back of the same buffer: nothing
    recycleChunk(Buffer.alloc(16)); // not lent by anyone: nothing
    expect(slots.take()).toBe(a);
    const next = slots.take(); // a was handed back once, b never: a fresh one
    expect(next).not.toBe(a);
    expect(next).not.toBe(b);
  });

  it('makes plain buffers past its maximum, which never come back', () => {
    const slots = new ChunkSlots(16, 1);
    const pooled = slots.take();
    const plain = slots.take();
    recycleChunk(plain);
    recycleChunk(pooled);
    expect(slots.take()).toBe(pooled);
    expect(slots.take()).not.toBe(plain);
  });
});

describe('decrypting into reused buffers', () => {
  const plain = randomBytes(20 * CHUNK_BYTES + 123);

  it('reuses the buffers of chunks handed back, and the plaintext stays whole', async () => {
    const cipher = await buffer(Readable.from([plain]).pipe(encryptStream(key)));
    const memories = new Set<ArrayBufferLike>();
    const received = await decryptEach(cipher, (chunk) => {
      memories.add(chunk.buffer);
      recycleChunk(chunk);
    });
    expect(received.equals(plain)).toBe(true);
    expect(memories.size).toBeLessThanOrEqual(3); // 20 full chunks through one or two buffers, and the last
  });

  it('gives an async iterator one chunk per read, in its reused buffer (not a concatenated copy)', async () => {
    const cipher = await buffer(Readable.from([plain]).pipe(encryptStream(key)));
    const lengths: number[] = [];
    const memories = new Set<ArrayBufferLike>();
    const reads = Array.from({ length: Math.ceil(cipher.length / READ) }, (_, i) => cipher.subarray(i * READ, (i + 1) * READ));
    for await (const chunk of Readable.from(reads).pipe(decryptStream(key)) as AsyncIterable<Buffer>) {
      lengths.push(chunk.length);
      memories.add(chunk.buffer);
      recycleChunk(chunk);
    }
    expect(lengths).toEqual([...Array<number>(20).fill(CHUNK_BYTES), 123]);
    expect(memories.size).toBeLessThanOrEqual(3);
  });

  it('gives every chunk its own buffer to a consumer that hands none back', async () => {
    const cipher = await buffer(Readable.from([plain]).pipe(encryptStream(key)));
    const held: Buffer[] = [];
    const received = await decryptEach(cipher, (chunk) => held.push(chunk));
    expect(received.equals(plain)).toBe(true);
    expect(Buffer.concat(held).equals(plain)).toBe(true); // nothing overwrote a chunk still held
    expect(new Set(held.map((chunk) => chunk.buffer)).size).toBe(held.length);
  });
});

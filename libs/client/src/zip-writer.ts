/**
 * A zip written while its files stream through, for uploads the server cannot zip (end-to-end encrypted
 * ones: the server never sees the files). Browser-safe (no Node built-ins) and dependency-free.
 *
 * Entries are stored (shared files are usually compressed already, and a stored entry keeps the archive's
 * length known before a byte is read: the encrypted upload announces its size up front). The CRC is only
 * known once an entry has streamed, so it follows the data in a data descriptor (general purpose bit 3) and
 * is repeated in the central directory, which is what unzip tools read. ZIP64 records are used when the
 * archive needs them (over 4 GiB). Duplicate names get a ` (2)`, as in the server's zips.
 */

export interface ZipSource {
  readonly name: string;
  /** Exact byte count: the archive's layout depends on it, and an entry of another length fails the zip. */
  readonly size: number;
  /** Opened when the archive reaches this entry: one open source at a time. */
  readonly open: () => AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
}

export interface ZipWriter {
  /** The archive's exact length. */
  readonly size: number;
  readonly stream: ReadableStream<Uint8Array>;
}

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** Bit 3: CRC and sizes follow the data. Bit 11: names are UTF-8. */
const FLAGS = 0x0808;
const STORED = 0;
const MADE_BY_UNIX = 3 << 8;
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;
const ZIP64_END_RECORD = 56;
const ZIP64_LOCATOR = 20;

const encoder = new TextEncoder();

/** The archive `zipWriter` makes of files of these names and sizes: its length depends on nothing else. */
export function zipLength(
  files: ReadonlyArray<{ readonly name: string; readonly size: number }>,
  options: ZipOptions = {},
): number {
  const names = uniqueNames(files.map((file) => file.name)).map((name) => encoder.encode(name).length);
  const zip64 = options.forceZip64 === true || needsZip64(files);
  const data = files.reduce((sum, file) => sum + file.size, 0);
  const perEntry = names.reduce(
    (sum, name) => sum + LOCAL_HEADER + CENTRAL_HEADER + 2 * name + localExtraLength(zip64) + centralExtraLength(zip64),
    0,
  );
  const descriptors = files.length * descriptorLength(zip64);
  return data + perEntry + descriptors + END_RECORD + (zip64 ? ZIP64_END_RECORD + ZIP64_LOCATOR : 0);
}

export interface ZipOptions {
  /** The entries' time stamp (default: now). */
  readonly now?: Date;
  /** ZIP64 records even for a small archive (tests). */
  readonly forceZip64?: boolean;
}

export function zipWriter(files: readonly ZipSource[], options: ZipOptions = {}): ZipWriter {
  const names = uniqueNames(files.map((file) => file.name)).map((name) => encoder.encode(name));
  const zip64 = options.forceZip64 === true || needsZip64(files);
  const [time, date] = dosDateTime(options.now ?? new Date());
  const size = zipLength(files, options);

  async function* bytes(): AsyncGenerator<Uint8Array> {
    const central: Uint8Array[] = [];
    let offset = 0;
    for (const [index, file] of files.entries()) {
      const name = names[index] ?? encoder.encode(file.name);
      const local = localHeader(name, zip64, time, date);
      yield local;
      let crc = CRC_INIT;
      let read = 0;
      const source = file.open();
      for await (const chunk of source instanceof ReadableStream ? iterate(source) : source) {
        read += chunk.length;
        if (read > file.size) throw new Error(`${file.name} changed while it was being sent (more than ${file.size} bytes)`);
        crc = crc32Update(crc, chunk);
        yield chunk;
      }
      if (read !== file.size) {
        throw new Error(`${file.name} changed while it was being sent (${read} bytes instead of ${file.size})`);
      }
      const checksum = crc32Final(crc);
      yield descriptor(checksum, file.size, zip64);
      central.push(centralHeader(name, checksum, file.size, offset, zip64, time, date));
      offset += local.length + file.size + descriptorLength(zip64);
    }
    const directory = concat(central);
    yield directory;
    yield endRecords(files.length, directory.length, offset, zip64);
  }

  const iterator = bytes();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel(reason) {
        await iterator.return(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { size, stream };
}

async function* iterate(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** A generous bound on the headers decides: ZIP64 for every entry, or for none. */
function needsZip64(files: ReadonlyArray<{ readonly size: number }>): boolean {
  const data = files.reduce((sum, file) => sum + file.size, 0);
  return data + files.length * 1_024 + 1_024 >= U32_MAX || files.length >= U16_MAX;
}

function localExtraLength(zip64: boolean): number {
  return zip64 ? 4 + 16 : 0;
}
function centralExtraLength(zip64: boolean): number {
  return zip64 ? 4 + 24 : 0;
}
function descriptorLength(zip64: boolean): number {
  return zip64 ? 24 : 16;
}
function versionNeeded(zip64: boolean): number {
  return zip64 ? 45 : 20;
}

function localHeader(name: Uint8Array, zip64: boolean, time: number, date: number): Uint8Array {
  const header = new Uint8Array(LOCAL_HEADER + name.length + localExtraLength(zip64));
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x04034b50, true);
  view.setUint16(4, versionNeeded(zip64), true);
  view.setUint16(6, FLAGS, true);
  view.setUint16(8, STORED, true);
  view.setUint16(10, time, true);
  view.setUint16(12, date, true);
  // CRC and sizes: 0 here (bit 3), in the descriptor and the central directory. ZIP64: the extra field says so.
  if (zip64) {
    view.setUint32(18, U32_MAX, true);
    view.setUint32(22, U32_MAX, true);
  }
  view.setUint16(26, name.length, true);
  view.setUint16(28, localExtraLength(zip64), true);
  header.set(name, LOCAL_HEADER);
  if (zip64) {
    view.setUint16(LOCAL_HEADER + name.length, 0x0001, true);
    view.setUint16(LOCAL_HEADER + name.length + 2, 16, true); // two zero sizes: they follow in the descriptor
  }
  return header;
}

function descriptor(crc: number, size: number, zip64: boolean): Uint8Array {
  const bytes = new Uint8Array(descriptorLength(zip64));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x08074b50, true);
  view.setUint32(4, crc, true);
  if (zip64) {
    view.setBigUint64(8, BigInt(size), true);
    view.setBigUint64(16, BigInt(size), true);
  } else {
    view.setUint32(8, size, true);
    view.setUint32(12, size, true);
  }
  return bytes;
}

function centralHeader(
  name: Uint8Array,
  crc: number,
  size: number,
  offset: number,
  zip64: boolean,
  time: number,
  date: number,
): Uint8Array {
  const header = new Uint8Array(CENTRAL_HEADER + name.length + centralExtraLength(zip64));
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, MADE_BY_UNIX | versionNeeded(zip64), true);
  view.setUint16(6, versionNeeded(zip64), true);
  view.setUint16(8, FLAGS, true);
  view.setUint16(10, STORED, true);
  view.setUint16(12, time, true);
  view.setUint16(14, date, true);
  view.setUint32(16, crc, true);
  view.setUint32(20, zip64 ? U32_MAX : size, true);
  view.setUint32(24, zip64 ? U32_MAX : size, true);
  view.setUint16(28, name.length, true);
  view.setUint16(30, centralExtraLength(zip64), true);
  view.setUint32(38, FILE_ATTRIBUTES, true);
  view.setUint32(42, zip64 ? U32_MAX : offset, true);
  header.set(name, CENTRAL_HEADER);
  if (zip64) {
    const at = CENTRAL_HEADER + name.length;
    view.setUint16(at, 0x0001, true);
    view.setUint16(at + 2, 24, true);
    view.setBigUint64(at + 4, BigInt(size), true);
    view.setBigUint64(at + 12, BigInt(size), true);
    view.setBigUint64(at + 20, BigInt(offset), true);
  }
  return header;
}

function endRecords(count: number, directorySize: number, directoryOffset: number, zip64: boolean): Uint8Array {
  const bytes = new Uint8Array(END_RECORD + (zip64 ? ZIP64_END_RECORD + ZIP64_LOCATOR : 0));
  const view = new DataView(bytes.buffer);
  let at = 0;
  if (zip64) {
    view.setUint32(0, 0x06064b50, true);
    view.setBigUint64(4, 44n, true); // the size of the rest of this record
    view.setUint16(12, MADE_BY_UNIX | versionNeeded(true), true);
    view.setUint16(14, versionNeeded(true), true);
    view.setBigUint64(24, BigInt(count), true);
    view.setBigUint64(32, BigInt(count), true);
    view.setBigUint64(40, BigInt(directorySize), true);
    view.setBigUint64(48, BigInt(directoryOffset), true);
    view.setUint32(56, 0x07064b50, true);
    view.setBigUint64(64, BigInt(directoryOffset + directorySize), true);
    view.setUint32(72, 1, true);
    at = ZIP64_END_RECORD + ZIP64_LOCATOR;
  }
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 8, zip64 ? U16_MAX : count, true);
  view.setUint16(at + 10, zip64 ? U16_MAX : count, true);
  view.setUint32(at + 12, zip64 ? U32_MAX : directorySize, true);
  view.setUint32(at + 16, zip64 ? U32_MAX : directoryOffset, true);
  return bytes;
}

/** MS-DOS time and date of a moment, in local time, as zip tools show them (from 1980 on). */
function dosDateTime(moment: Date): [number, number] {
  const year = Math.max(moment.getFullYear(), 1980);
  const time = (moment.getHours() << 11) | (moment.getMinutes() << 5) | Math.floor(moment.getSeconds() / 2);
  const date = ((year - 1980) << 9) | ((moment.getMonth() + 1) << 5) | moment.getDate();
  return [time, date];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name.toLowerCase()) ?? 0) + 1;
    seen.set(name.toLowerCase(), count);
    if (count === 1) return name;
    const dot = name.lastIndexOf('.');
    return dot > 0 ? `${name.slice(0, dot)} (${count})${name.slice(dot)}` : `${name} (${count})`;
  });
}

// CRC-32 (IEEE), slicing by 8: eight tables, eight bytes a step.
const CRC_INIT = 0xffffffff;
const TABLES = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n] as number;
    for (let t = 1; t < 8; t++) {
      c = (first[c & 0xff] as number) ^ (c >>> 8);
      (tables[t] as Uint32Array)[n] = c >>> 0;
    }
  }
  return tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
})();

export function crc32Update(crc: number, bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  // Indices are bytes: always inside the tables.
  for (; i < end8; i += 8) {
    const a = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export function crc32Final(crc: number): number {
  return (crc ^ CRC_INIT) >>> 0;
}

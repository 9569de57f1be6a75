import { Readable } from 'node:stream';

export interface ZipEntry {
  readonly name: string;
  readonly size: number;
  /** CRC-32 of the entry's bytes, known before they are read, so every header can be written up front. */
  readonly crc32: number;
  /** Opened only when the archive reaches this entry, from `skip` bytes in: one open stream at a time. */
  readonly open: (skip: number) => Promise<Readable>;
}

export interface Zip {
  /** The archive's exact length, known before a byte is read. */
  readonly size: number;
  /** The archive from byte `from` on; byte N is the same byte on every call (a resumed download relies on it). */
  stream(from: number): Readable;
}

type Segment = { readonly bytes: Buffer } | { readonly entry: ZipEntry };

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** 1980-01-01 00:00:00, the earliest DOS time: a fixed stamp, so the archive is the same on every download. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Bit 11: names are UTF-8. No bit 3: sizes and CRC are in the local headers, there are no data descriptors. */
const FLAGS = 0x0800;
const STORED = 0;
const MADE_BY_UNIX = 3 << 8;
/** A regular file, rw-r--r--, in the high half of the external attributes (as Info-ZIP writes them). */
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;

/**
 * A zip of the entries without compression (shared files are usually compressed already, and storing keeps
 * the download as fast as the storage), laid out deterministically: fixed order, fixed timestamps, sizes and
 * CRCs in the local headers. So its length is known up front (a `Content-Length`) and any byte range can be
 * served again. ZIP64 records are used when the archive needs them (over 4 GiB). Duplicate names get a ` (2)`.
 */
export function zipOf(entries: readonly ZipEntry[], options: { forceZip64?: boolean } = {}): Zip {
  const names = uniqueNames(entries.map((entry) => entry.name));
  const totalData = entries.reduce((sum, entry) => sum + entry.size, 0);
  // A generous bound on the headers decides: ZIP64 for every entry, or for none (one layout per upload).
  const zip64 = options.forceZip64 === true || totalData + entries.length * 1_024 + 1_024 >= U32_MAX;
  const segments: Segment[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  entries.forEach((entry, index) => {
    const name = Buffer.from(names[index] ?? entry.name, 'utf8');
    const local = localHeader(entry, name, zip64);
    central.push(centralHeader(entry, name, offset, zip64));
    segments.push({ bytes: local }, { entry });
    offset += local.length + entry.size;
  });
  const directory = Buffer.concat(central);
  segments.push({ bytes: Buffer.concat([directory, endRecords(entries.length, directory.length, offset, zip64)]) });
  const size = segments.reduce((sum, segment) => sum + lengthOf(segment), 0);
  return { size, stream: (from) => Readable.from(bytesFrom(segments, from), { objectMode: false }) };
}

/** The length `zipOf` gives these files: CRCs and contents change bytes of the layout, never its length. */
export function zipSize(files: ReadonlyArray<{ readonly name: string; readonly size: number }>): number {
  const measuredOnly = () => Promise.reject(new Error('a zip measured for its size is never read'));
  return zipOf(files.map((file) => ({ name: file.name, size: file.size, crc32: 0, open: measuredOnly }))).size;
}

async function* bytesFrom(segments: readonly Segment[], from: number): AsyncGenerator<Buffer> {
  let start = 0;
  for (const segment of segments) {
    const length = lengthOf(segment);
    const skip = Math.max(0, from - start);
    start += length;
    if (skip > 0 && skip >= length) continue;
    if ('bytes' in segment) {
      if (skip < segment.bytes.length) yield segment.bytes.subarray(skip);
      continue;
    }
    const stream = await segment.entry.open(skip);
    let read = skip;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      yield chunk;
    }
    // A stored entry shorter or longer than its header says would shift every later byte: never send that.
    if (read !== segment.entry.size) throw new Error(`a zip entry had ${read} bytes instead of ${segment.entry.size}`);
  }
}

function lengthOf(segment: Segment): number {
  return 'bytes' in segment ? segment.bytes.length : segment.entry.size;
}

function localHeader(entry: ZipEntry, name: Buffer, zip64: boolean): Buffer {
  const extra = zip64 ? zip64Extra([entry.size, entry.size]) : Buffer.alloc(0);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  writeEntryFields(header, 4, entry, zip64);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, name, extra]);
}

function centralHeader(entry: ZipEntry, name: Buffer, offset: number, zip64: boolean): Buffer {
  const extra = zip64 ? zip64Extra([entry.size, entry.size, offset]) : Buffer.alloc(0);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(MADE_BY_UNIX | versionNeeded(zip64), 4);
  writeEntryFields(header, 6, entry, zip64);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  // comment length, disk number, internal attributes: 0
  header.writeUInt32LE(FILE_ATTRIBUTES, 38);
  header.writeUInt32LE(zip64 ? U32_MAX : offset, 42);
  return Buffer.concat([header, name, extra]);
}

/** The fields both headers share, in the same order: version needed … uncompressed size (22 bytes). */
function writeEntryFields(header: Buffer, at: number, entry: ZipEntry, zip64: boolean): void {
  header.writeUInt16LE(versionNeeded(zip64), at);
  header.writeUInt16LE(FLAGS, at + 2);
  header.writeUInt16LE(STORED, at + 4);
  header.writeUInt16LE(DOS_TIME, at + 6);
  header.writeUInt16LE(DOS_DATE, at + 8);
  header.writeUInt32LE(entry.crc32 >>> 0, at + 10);
  header.writeUInt32LE(zip64 ? U32_MAX : entry.size, at + 14);
  header.writeUInt32LE(zip64 ? U32_MAX : entry.size, at + 18);
}

/** 4.5 for ZIP64, else 2.0. */
function versionNeeded(zip64: boolean): number {
  return zip64 ? 45 : 20;
}

/** The ZIP64 extended information field: the 64-bit values whose 32-bit fields say 0xFFFFFFFF, in order. */
function zip64Extra(values: readonly number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return extra;
}

function endRecords(count: number, directorySize: number, directoryOffset: number, zip64: boolean): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? U16_MAX : count, 8);
  end.writeUInt16LE(zip64 ? U16_MAX : count, 10);
  end.writeUInt32LE(zip64 ? U32_MAX : directorySize, 12);
  end.writeUInt32LE(zip64 ? U32_MAX : directoryOffset, 16);
  if (!zip64) return end;

  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4); // the size of the rest of this record
  record.writeUInt16LE(MADE_BY_UNIX | versionNeeded(true), 12);
  record.writeUInt16LE(versionNeeded(true), 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(directorySize), 40);
  record.writeBigUInt64LE(BigInt(directoryOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, locator, end]);
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

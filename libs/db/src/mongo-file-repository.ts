import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { AppError, type FilePart, type FileRecord } from '@one-time/core';
import type { FileRepository, NewUpload, ReadyFile } from './file-repository.ts';

export const FILES_COLLECTION = 'files';
export const TICKETS_COLLECTION = 'download_tickets';

/** One per download taken: `_id` is `<fileId>#<downloads left after it>`, so each download can be taken once. */
interface TicketDocument {
  _id: string;
  fileId: string;
  createdAt: Date;
}

const CLAIM_ATTEMPTS = 5;

/** Every query the sweeper and the purge make is served by one of these. */
const INDEXES = [
  ['expiresAt', 'expiresAt'],
  ['downloadsLeft', 'downloadsLeft'],
  ['state', 'state'],
] as const;

type FileDocument = { -readonly [K in keyof FileRecord]: FileRecord[K] } & { parts: FilePart[] };

/** The MongoDB implementation. Uses only operators real MongoDB 7/8 and FerretDB both support. */
export class MongoFileRepository implements FileRepository {
  readonly #files: Collection<FileDocument>;
  readonly #tickets: Collection<TicketDocument>;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#files = db.collection<FileDocument>(FILES_COLLECTION);
    this.#tickets = db.collection<TicketDocument>(TICKETS_COLLECTION);
  }

  async init(): Promise<void> {
    // One index per call: FerretDB 1.24 fails a repeated multi-index createIndexes; one at a time works on both.
    for (const [field, name] of INDEXES) {
      await guard(() => this.#files.createIndex({ [field]: 1 }, { name }));
    }
    await guard(() => this.#tickets.createIndex({ fileId: 1 }, { name: 'fileId' }));
  }

  async createUpload(upload: NewUpload): Promise<void> {
    await guard(() =>
      this.#files.insertOne({
        _id: upload.id,
        state: 'uploading',
        parts: [],
        size: 0,
        createdAt: upload.createdAt,
        expiresAt: upload.deadline,
        downloadsLeft: 0,
        activeStreams: 0,
        leaseUntil: null,
        deleteTokenHash: upload.deleteTokenHash,
      }),
    );
  }

  async addPart(id: string, part: FilePart): Promise<boolean> {
    const result = await guard(() => this.#files.updateOne({ _id: id, state: 'uploading' }, { $push: { parts: part } }));
    return result.matchedCount === 1;
  }

  async markReady(id: string, file: ReadyFile): Promise<boolean> {
    const result = await guard(() =>
      this.#files.updateOne(
        { _id: id, state: 'uploading' },
        {
          $set: {
            state: 'ready',
            size: file.size,
            parts: [...file.parts],
            expiresAt: file.expiresAt,
            downloadsLeft: file.downloadsLeft,
          },
        },
      ),
    );
    return result.matchedCount === 1;
  }

  async deleteUpload(id: string): Promise<void> {
    await guard(() => this.#files.deleteOne({ _id: id, state: 'uploading' }));
  }

  async findById(id: string): Promise<FileRecord | null> {
    return guard(() => this.#files.findOne({ _id: id }));
  }

  /**
   * On MongoDB the conditional `findOneAndUpdate` alone is atomic. The ticket insert (unique `_id`, atomic on
   * every server) makes "at most N downloads" hold even where findAndModify is read-then-write, as in
   * FerretDB 1.x (its issue 2168): two claims that read the same state compute the same ticket, and only one
   * insert wins. The loser's update was lost in that race, so there is nothing to undo; it tries again.
   */
  async claim(id: string, now: Date, leaseUntil: Date): Promise<FileRecord | null> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
      const record = await guard(() =>
        this.#files.findOneAndUpdate(
          { _id: id, state: 'ready', downloadsLeft: { $gt: 0 }, expiresAt: { $gt: now } },
          { $inc: { downloadsLeft: -1, activeStreams: 1 }, $max: { leaseUntil } },
          { returnDocument: 'after' },
        ),
      );
      if (!record) return null;
      if (await this.#takeTicket(id, record.downloadsLeft, now)) return record;
    }
    return null;
  }

  async #takeTicket(fileId: string, downloadsLeft: number, now: Date): Promise<boolean> {
    try {
      await this.#tickets.insertOne({ _id: ticketId(fileId, downloadsLeft), fileId, createdAt: now });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
    }
  }

  async releaseClaim(claimed: FileRecord): Promise<void> {
    await guard(() => this.#tickets.deleteOne({ _id: ticketId(claimed._id, claimed.downloadsLeft) }));
    await guard(() =>
      this.#files.updateOne(
        { _id: claimed._id, state: 'ready', activeStreams: { $gt: 0 } },
        { $inc: { downloadsLeft: 1, activeStreams: -1 } },
      ),
    );
  }

  async renewLease(id: string, leaseUntil: Date): Promise<void> {
    await guard(() => this.#files.updateOne({ _id: id }, { $max: { leaseUntil } }));
  }

  async endStream(id: string): Promise<FileRecord | null> {
    return guard(() =>
      this.#files.findOneAndUpdate(
        { _id: id, activeStreams: { $gt: 0 } },
        { $inc: { activeStreams: -1 } },
        { returnDocument: 'after' },
      ),
    );
  }

  async expireNow(id: string, now: Date): Promise<boolean> {
    const result = await guard(() => this.#files.updateOne({ _id: id, state: 'ready' }, { $set: { expiresAt: now } }));
    return result.matchedCount === 1;
  }

  async beginPurge(id: string, now: Date): Promise<FileRecord | null> {
    const filter: Filter<FileDocument> = {
      _id: id,
      $and: [
        { $or: [{ expiresAt: { $lte: now } }, { state: 'ready', downloadsLeft: { $lte: 0 } }, { state: 'purging' }] },
        // A stream in flight keeps its blob, unless its lease ran out (the process serving it died).
        { $or: [{ activeStreams: { $lte: 0 } }, { leaseUntil: { $lt: now } }, { state: 'purging' }] },
      ],
    };
    return guard(() => this.#files.findOneAndUpdate(filter, { $set: { state: 'purging' } }, { returnDocument: 'after' }));
  }

  async deletePurged(id: string): Promise<void> {
    // Tickets first: while any remain, the record (in state `purging`) still leads the sweeper to them.
    await guard(() => this.#tickets.deleteMany({ fileId: id }));
    await guard(() => this.#files.deleteOne({ _id: id, state: 'purging' }));
  }

  async findDue(now: Date, limit: number): Promise<string[]> {
    // Two indexed queries rather than one $or, so each is a plain index range scan on any server.
    const [expired, usedUp] = await Promise.all([
      guard(() =>
        this.#files
          .find({ expiresAt: { $lte: now } }, { projection: { _id: 1 } })
          .sort({ expiresAt: 1 })
          .limit(limit)
          .toArray(),
      ),
      guard(() =>
        this.#files
          .find({ downloadsLeft: { $lte: 0 }, state: { $ne: 'uploading' } }, { projection: { _id: 1 } })
          .limit(limit)
          .toArray(),
      ),
    ]);
    return [...new Set([...expired, ...usedUp].map((doc) => doc._id))];
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await guard(() => this.#files.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray());
    return new Set(docs.map((doc) => doc._id));
  }

  async ping(): Promise<void> {
    await guard(() => this.#db.command({ ping: 1 }));
  }
}

async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) throw error;
    throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
  }
}

const DUPLICATE_KEY = 11000;

function ticketId(fileId: string, downloadsLeft: number): string {
  return `${fileId}#${downloadsLeft}`;
}

import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { AppError, type FilePart, type FileRecord } from '@one-time/core';
import type { Claim, FileRepository, NewUpload, ReadyFile } from '../file-repository.ts';
import { DocumentWriteLocks, WRITE_LOCKS_COLLECTION } from './document-write-locks.ts';

export const FILES_COLLECTION = 'files';
export const TICKETS_COLLECTION = 'download_tickets';
export const PURGES_COLLECTION = 'purges';

/**
 * One per download held: `_id` is `<fileId>#<slot>` with a slot below the file's download count, so no more
 * downloads than that can be held at once, and one that was given back frees its slot.
 * It also carries the stream's own lease (null once the stream ended): only its claimant ever writes it, so
 * unlike the counters in the file document it cannot lose an update on a server whose writes are
 * read-then-write (FerretDB 1.x).
 */
interface TicketDocument {
  _id: string;
  fileId: string;
  leaseUntil: Date | null;
  /** The download's resume session (a hash of its secret) and its end; null once it delivered the last byte. */
  sessionId?: string;
  sessionUntil?: Date | null;
}

/**
 * A purge that began: inserted once (a unique `_id`, atomic on every server) and never updated, so unlike
 * the record's `state` no lost update can undo it. It makes the record read as `purging` from then on.
 */
interface PurgeDocument {
  _id: string;
}

type FileDocument = Omit<FileRecord, 'id' | 'parts'> & { _id: string; parts: FilePart[]; downloads?: number };

const CLAIM_ATTEMPTS = 8;

/** Every query the sweeper and the purge make is served by one of these. */
const INDEXES = [
  ['expiresAt', 'expiresAt'],
  ['downloadsLeft', 'downloadsLeft'],
  ['state', 'state'],
] as const;

/**
 * The MongoDB adapter (the scale-out configuration). Correct on real MongoDB 7/8, where every conditional
 * update is atomic; and it keeps its invariants on FerretDB 1.x, the local stand-in, whose `findAndModify`
 * and `update` are read-then-write, so two concurrent writes to one document can lose one of them:
 * - the unique ticket insert (atomic on every server) decides who gets download k;
 * - a purge begins with an insert-only marker that no later write can undo; a claim reads the marker after
 *   its decrement, so a claim that raced a purge gives nothing out;
 * - a purge deletes the record by id, whatever a lost update wrote into it, and tickets before and after;
 * - a lost stream-counter decrement is repaired from the tickets' own leases;
 * - and there, every update of a file document holds a per-document write lock (see `DocumentWriteLocks`), so
 *   the counters stay exact: without it, two claims that read the same count both write count − 1.
 */
export class MongoFileRepository implements FileRepository {
  readonly #files: Collection<FileDocument>;
  readonly #tickets: Collection<TicketDocument>;
  readonly #purges: Collection<PurgeDocument>;
  readonly #writeLocks: DocumentWriteLocks;
  readonly #db: Db;
  readonly #onClose: () => Promise<void>;

  constructor(db: Db, onClose: () => Promise<void> = () => Promise.resolve()) {
    this.#db = db;
    this.#files = db.collection<FileDocument>(FILES_COLLECTION);
    this.#tickets = db.collection<TicketDocument>(TICKETS_COLLECTION);
    this.#purges = db.collection<PurgeDocument>(PURGES_COLLECTION);
    this.#writeLocks = new DocumentWriteLocks(db.collection(WRITE_LOCKS_COLLECTION));
    this.#onClose = onClose;
  }

  async init(): Promise<void> {
    // One index per call: FerretDB 1.24 fails a repeated multi-index createIndexes; one at a time works on both.
    for (const [field, name] of INDEXES) {
      await guard(() => this.#files.createIndex({ [field]: 1 }, { name }));
    }
    await guard(() => this.#tickets.createIndex({ fileId: 1 }, { name: 'fileId' }));
    await guard(() => this.#tickets.createIndex({ sessionId: 1 }, { name: 'sessionId' }));
    if (await this.#updatesAreReadThenWrite()) this.#writeLocks.enable();
  }

  /** FerretDB 1.x says who it is in `buildInfo`; MongoDB does not carry that field. */
  async #updatesAreReadThenWrite(): Promise<boolean> {
    const info = await guard(() => this.#db.command({ buildInfo: 1 }));
    return typeof info['ferretdbVersion'] === 'string' && info['ferretdbVersion'].startsWith('v1.');
  }

  /** Every update of a file document goes through here: one writer at a time where the server needs it. */
  #write<T>(id: string, update: () => Promise<T>): Promise<T> {
    return guard(() => this.#writeLocks.hold(id, update));
  }

  async createUpload(upload: NewUpload): Promise<void> {
    await guard(() =>
      this.#files.insertOne({
        _id: upload.id,
        state: 'uploading',
        parts: [...(upload.parts ?? [])],
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
    const result = await this.#write(id, () =>
      this.#files.updateOne({ _id: id, state: 'uploading' }, { $push: { parts: part } }),
    );
    return result.matchedCount === 1;
  }

  async markReady(id: string, file: ReadyFile): Promise<boolean> {
    const result = await this.#write(id, () =>
      this.#files.updateOne(
        { _id: id, state: 'uploading' },
        {
          $set: {
            state: 'ready',
            size: file.size,
            parts: [...file.parts],
            expiresAt: file.expiresAt,
            downloadsLeft: file.downloadsLeft,
            downloads: file.downloadsLeft,
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
    const [doc, purging] = await Promise.all([guard(() => this.#files.findOne({ _id: id })), this.#purgeBegan(id)]);
    return recordOf(doc, purging);
  }

  async #purgeBegan(id: string): Promise<boolean> {
    return (await guard(() => this.#purges.findOne({ _id: id }))) !== null;
  }

  /**
   * Ticket first: its unique insert decides who gets a download, so no more than the count can be held at
   * once. Then one conditional decrement, which cannot go below zero: there are never more ticket holders
   * than downloads left. (A compare-and-set on the count read would starve: of n concurrent holders only one
   * matches per round.)
   */
  async claim(id: string, now: Date, leaseUntil: Date): Promise<Claim | null> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
      const seen = await guard(() => this.#files.findOne({ _id: id }));
      if (!seen || !isClaimable(seen, now)) return null;
      const ticket = await this.#takeFreeSlot(seen, leaseUntil);
      if (!ticket) {
        await pause(attempt); // every slot is held meanwhile; read the new count
        continue;
      }
      const claimed = await this.#write(id, () =>
        this.#files.findOneAndUpdate(
          { _id: id, state: 'ready', downloadsLeft: { $gt: 0 }, expiresAt: { $gt: now } },
          { $inc: { downloadsLeft: -1, activeStreams: 1 }, $max: { leaseUntil } },
          { returnDocument: 'after' },
        ),
      );
      // A purge that began meanwhile wins: its marker is insert-only, so this read cannot miss it.
      if (claimed && !(await this.#purgeBegan(id))) return { file: recordOf(claimed, false)!, handle: ticket };
      await guard(() => this.#tickets.deleteOne({ _id: ticket }));
      return null; // purged, expired or revoked under us: nothing to give out
    }
    return null;
  }

  /**
   * Slots are `0 … downloads-1`; with k downloads left at least k are free. Slot k-1 first (free unless a
   * download was given back out of order), then the others.
   */
  async #takeFreeSlot(seen: FileDocument, leaseUntil: Date): Promise<string | null> {
    const slots = seen.downloads ?? seen.downloadsLeft;
    const first = seen.downloadsLeft - 1;
    for (const slot of [first, ...Array.from({ length: slots }, (_, i) => i).filter((i) => i !== first)]) {
      const ticket = ticketId(seen._id, slot);
      if (await this.#insertTicket(ticket, seen._id, leaseUntil)) return ticket;
    }
    return null;
  }

  async #insertTicket(ticket: string, fileId: string, leaseUntil: Date): Promise<boolean> {
    try {
      await this.#tickets.insertOne({ _id: ticket, fileId, leaseUntil });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
    }
  }

  /** The session lives on the claim's ticket, which only its claimant writes. */
  async openSession(claim: Claim, sessionId: string, until: Date): Promise<Claim> {
    await guard(() => this.#tickets.updateOne({ _id: claim.handle }, { $set: { sessionId, sessionUntil: until } }));
    return { ...claim, session: sessionId };
  }

  async resume(id: string, sessionId: string, now: Date, leaseUntil: Date): Promise<Claim | null> {
    const ticket = await guard(() => this.#tickets.findOne({ sessionId, fileId: id, sessionUntil: { $gt: now } }));
    if (!ticket) return null;
    const resumed = await this.#write(id, () =>
      this.#files.findOneAndUpdate(
        { _id: id, state: 'ready', expiresAt: { $gt: now } },
        { $inc: { activeStreams: 1 }, $max: { leaseUntil } },
        { returnDocument: 'after' },
      ),
    );
    // As for a claim: a purge that began meanwhile wins, and its record is on its way out.
    if (!resumed || (await this.#purgeBegan(id))) return null;
    await guard(() => this.#tickets.updateOne({ _id: ticket._id }, { $set: { leaseUntil } }));
    return { file: recordOf(resumed, false)!, handle: ticket._id, session: sessionId };
  }

  async closeSession(claim: Claim): Promise<void> {
    await guard(() => this.#tickets.updateOne({ _id: claim.handle }, { $set: { sessionUntil: null } }));
  }

  async #hasOpenSession(fileId: string, now: Date): Promise<boolean> {
    const open = await guard(() => this.#tickets.findOne({ fileId, sessionUntil: { $gt: now } }, { projection: { _id: 1 } }));
    return open !== null;
  }

  async releaseClaim(claim: Claim): Promise<void> {
    await this.#write(claim.file.id, () =>
      this.#files.updateOne(
        { _id: claim.file.id, state: 'ready', activeStreams: { $gt: 0 } },
        { $inc: { downloadsLeft: 1, activeStreams: -1 } },
      ),
    );
    await guard(() => this.#tickets.deleteOne({ _id: claim.handle }));
  }

  async renewLease(claim: Claim, leaseUntil: Date): Promise<void> {
    await guard(() => this.#tickets.updateOne({ _id: claim.handle, leaseUntil: { $ne: null } }, { $set: { leaseUntil } }));
    await this.#write(claim.file.id, () => this.#files.updateOne({ _id: claim.file.id }, { $max: { leaseUntil } }));
  }

  async endStream(claim: Claim, now: Date): Promise<boolean> {
    // The ticket first: from then on no purge waits for this stream, whatever happens to the counter.
    await guard(() => this.#tickets.updateOne({ _id: claim.handle }, { $set: { leaseUntil: null } }));
    const after = await this.#write(claim.file.id, () =>
      this.#files.findOneAndUpdate(
        { _id: claim.file.id, activeStreams: { $gt: 0 } },
        { $inc: { activeStreams: -1 } },
        { returnDocument: 'after' },
      ),
    );
    const record = after ?? (await guard(() => this.#files.findOne({ _id: claim.file.id })));
    if (!record || record.state !== 'ready' || (await this.#purgeBegan(claim.file.id))) return false;
    const expired = record.expiresAt <= now;
    if (!expired && (record.downloadsLeft > 0 || (await this.#hasOpenSession(claim.file.id, now)))) return false;
    return !(await this.#hasLiveStream(claim.file.id, now));
  }

  async expireNow(id: string, now: Date): Promise<boolean> {
    const result = await this.#write(id, () => this.#files.updateOne({ _id: id, state: 'ready' }, { $set: { expiresAt: now } }));
    return result.matchedCount === 1;
  }

  async beginPurge(id: string, now: Date): Promise<FileRecord | null> {
    if (await this.#purgeBegan(id)) return this.#resumePurge(id);
    // Read first: a session is only ever opened while its claim's stream holds the record (fresh lease, counted
    // stream), which the update below refuses anyway; so one seen closed here cannot open before it.
    const usedUpCounts = !(await this.#hasOpenSession(id, now));
    const purging =
      (await this.#write(id, () =>
        this.#files.findOneAndUpdate(
          {
            _id: id,
            $and: [
              due(now, usedUpCounts),
              { $or: [{ activeStreams: { $lte: 0 } }, { leaseUntil: { $lt: now } }, { state: 'purging' }] },
            ],
          },
          { $set: { state: 'purging' } },
          { returnDocument: 'after' },
        ),
      )) ?? (await this.#purgeDespiteStaleCounter(id, now, usedUpCounts));
    if (!purging) return null;
    await this.#markPurging(id);
    return recordOf(purging, true);
  }

  async #markPurging(id: string): Promise<void> {
    try {
      await this.#purges.insertOne({ _id: id });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return; // another purger was first
      throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
    }
  }

  /** A purge cut short: its record again, or, when only the marker is left, the marker's clean-up. */
  async #resumePurge(id: string): Promise<FileRecord | null> {
    const doc = await guard(() => this.#files.findOne({ _id: id }));
    if (doc) return recordOf(doc, true);
    await this.deletePurged(id);
    return null;
  }

  /**
   * The counter says a stream is in flight, but no ticket holds a fresh lease: a decrement was lost (FerretDB)
   * or a stream's process died after ending its ticket. Compare-and-set on the counter value seen, so a claim
   * that arrives meanwhile (it would change the counter) wins instead.
   */
  async #purgeDespiteStaleCounter(id: string, now: Date, usedUpCounts: boolean): Promise<FileDocument | null> {
    const seen = await guard(() => this.#files.findOne({ _id: id }));
    if (!seen || seen.activeStreams <= 0 || (await this.#hasLiveStream(id, now))) return null;
    return this.#write(id, () =>
      this.#files.findOneAndUpdate(
        { _id: id, activeStreams: seen.activeStreams, $and: [due(now, usedUpCounts)] },
        { $set: { state: 'purging' } },
        { returnDocument: 'after' },
      ),
    );
  }

  async #hasLiveStream(fileId: string, now: Date): Promise<boolean> {
    const live = await guard(() => this.#tickets.findOne({ fileId, leaseUntil: { $gte: now } }, { projection: { _id: 1 } }));
    return live !== null;
  }

  async deletePurged(id: string): Promise<void> {
    // By id alone: on a server that can lose updates, a racing write may have rewritten the state. Tickets
    // before (the record still leads the sweeper to them) and after (one inserted by a claim racing the delete).
    await guard(() => this.#tickets.deleteMany({ fileId: id }));
    await guard(() => this.#files.deleteOne({ _id: id }));
    await guard(() => this.#tickets.deleteMany({ fileId: id }));
    await guard(() => this.#writeLocks.forget(id)); // one a process died holding would keep the id
    await guard(() => this.#purges.deleteOne({ _id: id })); // last: until then, findDue leads back here
  }

  async findDue(now: Date, limit: number): Promise<string[]> {
    // Separate indexed queries rather than one $or, so each is a plain index range scan on MongoDB.
    const [expired, usedUp, purging] = await Promise.all([
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
      guard(() => this.#purges.find({}).limit(limit).toArray()),
    ]);
    const held = await this.#withOpenSession(
      usedUp.map((doc) => doc._id),
      now,
    );
    const free = usedUp.filter((doc) => !held.has(doc._id));
    return [...new Set([...expired, ...free, ...purging].map((doc) => doc._id))].slice(0, limit);
  }

  async findExpiring(after: Date, until: Date, limit: number): Promise<string[]> {
    // The expiresAt index: a range scan over the window (the _id tie-break sorts within it).
    const docs = await guard(() =>
      this.#files
        .find({ expiresAt: { $gt: after, $lte: until } }, { projection: { _id: 1 } })
        .sort({ expiresAt: 1, _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map((doc) => doc._id);
  }

  /** Which of these (used-up) files a resume session still holds. */
  async #withOpenSession(fileIds: readonly string[], now: Date): Promise<Set<string>> {
    if (fileIds.length === 0) return new Set();
    const open = await guard(() =>
      this.#tickets.find({ fileId: { $in: [...fileIds] }, sessionUntil: { $gt: now } }, { projection: { fileId: 1 } }).toArray(),
    );
    return new Set(open.map((ticket) => ticket.fileId));
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await guard(() => this.#files.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray());
    return new Set(docs.map((doc) => doc._id));
  }

  async ping(): Promise<void> {
    await guard(() => this.#db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.#onClose();
  }
}

/** Expired (or revoked), used up (unless a resume session holds it), or a purge already began. */
function due(now: Date, usedUpCounts: boolean): Filter<FileDocument> {
  const usedUp: Filter<FileDocument>[] = usedUpCounts ? [{ state: 'ready', downloadsLeft: { $lte: 0 } }] : [];
  return { $or: [{ expiresAt: { $lte: now } }, ...usedUp, { state: 'purging' }] };
}

function isClaimable(doc: FileDocument, now: Date): boolean {
  return doc.state === 'ready' && doc.downloadsLeft > 0 && doc.expiresAt > now;
}

/** The domain's view of a document: a purge marker makes it `purging`, whatever a lost update left in `state`. */
function recordOf(doc: FileDocument | null, purging: boolean): FileRecord | null {
  if (!doc) return null;
  const { _id, downloads: _downloads, ...rest } = doc;
  return { id: _id, ...rest, ...(purging ? { state: 'purging' as const } : {}) };
}

async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
  }
}

/** Back off a little between claim attempts, so many claimants of one file do not all retry in lockstep. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
}

const DUPLICATE_KEY = 11000;

function ticketId(fileId: string, downloadsLeft: number): string {
  return `${fileId}#${downloadsLeft}`;
}

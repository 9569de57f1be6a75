import { DatabaseSync } from 'node:sqlite';
import { rm } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { FILES_COLLECTION, PURGES_COLLECTION, TICKETS_COLLECTION, WRITE_LOCKS_COLLECTION } from '@one-time/db/mongo';
import type { Config, FileRecord } from '@one-time/core';
import { openBlobStore, openFileRepository } from '@one-time/infra';

/**
 * A test's direct look at what a stack's stores hold, whichever adapters it runs on: the same questions,
 * answered from the SQLite file and the data folder, or from MongoDB and Azure.
 */
export interface StoreView {
  record(id: string): Promise<FileRecord | null>;
  /** Ids of every file record. */
  recordIds(): Promise<string[]>;
  /** Rows or documents in every table or collection: records and anything kept beside them (tickets). */
  recordCount(): Promise<number>;
  /** Rows or documents of one file: its record and anything kept beside it. */
  tracesOf(id: string): Promise<number>;
  /** Every blob, including what a cut-off write left behind. */
  blobNames(): Promise<string[]>;
  /** Removes everything this stack stored (its database, container or data folder). */
  remove(): Promise<void>;
}

export async function openStoreView(config: Config): Promise<StoreView> {
  const files = await openFileRepository(config.metadata);
  const blobs = await openBlobStore(config.blobs);
  const rows = await openRowCounter(config.metadata);
  return {
    record: (id) => files.findById(id),
    recordIds: () => rows.ids(),
    recordCount: () => rows.count(),
    tracesOf: (id) => rows.tracesOf(id),
    async blobNames() {
      const names: string[] = [];
      for await (const blob of blobs.list()) names.push(blob.name);
      return names;
    },
    async remove() {
      await files.close();
      await rows.remove();
      if (config.blobs.kind === 'azure') {
        const { BlobServiceClient } = await import('@azure/storage-blob');
        await BlobServiceClient.fromConnectionString(config.blobs.connectionString)
          .getContainerClient(config.blobs.container)
          .deleteIfExists();
      }
      if (config.dataDir) await rm(config.dataDir.path, { recursive: true, force: true });
    },
  };
}

interface RowCounter {
  ids(): Promise<string[]>;
  tracesOf(id: string): Promise<number>;
  count(): Promise<number>;
  remove(): Promise<void>;
}

async function openRowCounter(metadata: Config['metadata']): Promise<RowCounter> {
  if (metadata.kind === 'sqlite') {
    const db = new DatabaseSync(metadata.path, { readOnly: true });
    const tables = () =>
      (
        db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{
          name: string;
        }>
      ).map((row) => row.name);
    return {
      ids: () => Promise.resolve((db.prepare('SELECT id FROM files').all() as Array<{ id: string }>).map((row) => row.id)),
      tracesOf: (id) => Promise.resolve((db.prepare('SELECT count(*) AS n FROM files WHERE id = ?').get(id) as { n: number }).n),
      count: () =>
        Promise.resolve(
          tables().reduce((sum, name) => sum + (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n, 0),
        ),
      remove: () => Promise.resolve(db.close()),
    };
  }
  const client = await MongoClient.connect(metadata.url);
  const db = client.db(metadata.database);
  return {
    ids: async () =>
      (
        await db
          .collection<{ _id: string }>(FILES_COLLECTION)
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((d) => d._id),
    async tracesOf(id) {
      const [records, tickets, purges, locks] = await Promise.all([
        db.collection<{ _id: string }>(FILES_COLLECTION).countDocuments({ _id: id }),
        db.collection(TICKETS_COLLECTION).countDocuments({ fileId: id }),
        db.collection<{ _id: string }>(PURGES_COLLECTION).countDocuments({ _id: id }),
        db.collection<{ _id: string }>(WRITE_LOCKS_COLLECTION).countDocuments({ _id: id }),
      ]);
      return records + tickets + purges + locks;
    },
    async count() {
      const collections = await db.listCollections().toArray();
      const counts = await Promise.all(collections.map((c) => db.collection(c.name).countDocuments({})));
      return counts.reduce((sum, n) => sum + n, 0);
    },
    async remove() {
      await db.dropDatabase();
      await client.close();
    },
  };
}

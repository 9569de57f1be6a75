import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MongoFileRepository, FILES_COLLECTION, TICKETS_COLLECTION, WRITE_LOCKS_COLLECTION } from '@one-time/db/mongo';
import { describeFileRepositoryContract, givenReady, mustClaim, purge } from '@one-time/db/testing';

/** The FerretDB (or MongoDB) server of the development services. */
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
let client: MongoClient;

/** A database name of its own for every test, dropped afterwards. */
const freshDatabaseName = () => `repo${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  client = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 5_000 });
});
afterAll(async () => {
  await client?.close();
});

describeFileRepositoryContract('MongoFileRepository', () => {
  const name = freshDatabaseName();
  const repo = new MongoFileRepository(client.db(name));
  return Promise.resolve({
    repo,
    cleanup: async () => {
      await repo.close();
      await client.db(name).dropDatabase();
    },
  });
});

describe('MongoFileRepository (MongoDB only)', () => {
  let name: string;
  let repo: MongoFileRepository;

  beforeEach(async () => {
    name = freshDatabaseName();
    repo = new MongoFileRepository(client.db(name));
    await repo.init();
  });
  afterEach(async () => {
    await repo.close();
    await client.db(name).dropDatabase();
  });

  it('creates the indexes the sweeper and the purge query by', async () => {
    const keys = async (collection: string) =>
      (await client.db(name).collection(collection).listIndexes().toArray()).map((index: { key: object }) =>
        Object.keys(index.key).join(','),
      );
    expect(await keys(FILES_COLLECTION)).toEqual(expect.arrayContaining(['expiresAt', 'downloadsLeft', 'state']));
    expect(await keys(TICKETS_COLLECTION)).toEqual(expect.arrayContaining(['fileId']));
  });

  it('keeps a ticket per download taken, and the purge removes them', async () => {
    const id = await givenReady(repo, { downloads: 2 });
    const tickets = client.db(name).collection(TICKETS_COLLECTION);
    const first = await mustClaim(repo, id);
    const second = await mustClaim(repo, id);
    expect(await tickets.countDocuments({ fileId: id })).toBe(2);
    await repo.releaseClaim(second);
    expect(await tickets.countDocuments({ fileId: id })).toBe(1);
    expect(await repo.endStream(first, new Date())).toBe(false);
    expect(await repo.expireNow(id, new Date())).toBe(true);
    expect(await purge(repo, id)).toBe(true);
    expect(await tickets.countDocuments({ fileId: id })).toBe(0);
  });

  it('leaves no document in any collection once a purge is done', async () => {
    const id = await givenReady(repo);
    await repo.endStream(await mustClaim(repo, id), new Date());
    expect(await purge(repo, id)).toBe(true);
    for (const { name: collection } of await client.db(name).listCollections().toArray()) {
      expect(await client.db(name).collection(collection).countDocuments({}), collection).toBe(0);
    }
  });

  it('gets past a write lock that a dead process left, once it is stale', async () => {
    const id = await givenReady(repo);
    const locks = client.db(name).collection<{ _id: string; owner: string; until: Date }>(WRITE_LOCKS_COLLECTION);
    await locks.insertOne({ _id: id, owner: 'dead', until: new Date(Date.now() - 1_000) });
    const claim = await mustClaim(repo, id);
    expect(claim.file.downloadsLeft).toBe(0);
    expect(await locks.countDocuments({ _id: id })).toBe(0);
  });
});

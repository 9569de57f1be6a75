import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@one-time/core';
import { MongoFileRepository } from '../src/index.ts';

const config = loadConfig({});
const database = `repo${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let client: MongoClient;
let repo: MongoFileRepository;

const minutes = (n: number) => new Date(Date.now() + n * 60_000);
const newId = () => randomBytes(32).toString('base64url').slice(0, 43);

async function readyFile(overrides: { downloads?: number; expiresAt?: Date } = {}): Promise<string> {
  const id = newId();
  await repo.createUpload({ id, deleteTokenHash: 'h', createdAt: new Date(), deadline: minutes(60) });
  await repo.addPart(id, { blob: `${id}/0` });
  await repo.markReady(id, {
    size: 1,
    parts: [{ blob: `${id}/0`, size: 1, meta: 'sealed' }],
    expiresAt: overrides.expiresAt ?? minutes(60),
    downloadsLeft: overrides.downloads ?? 1,
  });
  return id;
}

beforeAll(async () => {
  client = await MongoClient.connect(config.mongo.url);
  repo = new MongoFileRepository(client.db(database));
  await repo.init();
  await repo.init(); // idempotent
});
afterAll(async () => {
  await client?.db(database).dropDatabase();
  await client?.close();
});
beforeEach(async () => {
  await client.db(database).collection('files').deleteMany({});
  await client.db(database).collection('download_tickets').deleteMany({});
});

describe('MongoFileRepository', () => {
  it('claims only ready, unexpired files with downloads left', async () => {
    const id = await readyFile({ downloads: 2 });
    expect((await repo.claim(id, new Date(), minutes(2)))?.downloadsLeft).toBe(1);
    expect((await repo.claim(id, new Date(), minutes(2)))?.downloadsLeft).toBe(0);
    expect(await repo.claim(id, new Date(), minutes(2))).toBeNull();

    const expired = await readyFile({ expiresAt: new Date(Date.now() - 1) });
    expect(await repo.claim(expired, new Date(), minutes(2))).toBeNull();

    const uploading = newId();
    await repo.createUpload({ id: uploading, deleteTokenHash: 'h', createdAt: new Date(), deadline: minutes(60) });
    expect(await repo.claim(uploading, new Date(), minutes(2))).toBeNull();
  });

  it('is atomic under concurrency: 3 downloads, 40 claims, 3 winners', async () => {
    const id = await readyFile({ downloads: 3 });
    const results = await Promise.all(Array.from({ length: 40 }, () => repo.claim(id, new Date(), minutes(2))));
    expect(results.filter((r) => r !== null)).toHaveLength(3);
    expect((await repo.findById(id))?.downloadsLeft).toBe(0);
  });

  it('gives a claim back', async () => {
    const id = await readyFile();
    const claimed = await repo.claim(id, new Date(), minutes(2));
    await repo.releaseClaim(claimed!);
    expect(await repo.findById(id)).toMatchObject({ downloadsLeft: 1, activeStreams: 0 });
    expect((await repo.claim(id, new Date(), minutes(2)))?.downloadsLeft).toBe(0); // the same download, taken again
  });

  it('begins a purge only when due and no live stream holds the file', async () => {
    const live = await readyFile({ downloads: 2 });
    expect(await repo.beginPurge(live, new Date())).toBeNull(); // downloads left, not expired

    const streaming = await readyFile();
    await repo.claim(streaming, new Date(), minutes(2));
    expect(await repo.beginPurge(streaming, new Date())).toBeNull(); // used up, but a stream is live
    expect((await repo.endStream(streaming))?.activeStreams).toBe(0);
    expect((await repo.beginPurge(streaming, new Date()))?.state).toBe('purging');
    expect(await repo.claim(streaming, new Date(), minutes(2))).toBeNull();

    const crashed = await readyFile();
    await repo.claim(crashed, new Date(), new Date(Date.now() - 1_000)); // lease already run out
    expect((await repo.beginPurge(crashed, new Date()))?.state).toBe('purging');
  });

  it('finds due records: expired, used up, stalled uploads and unfinished purges', async () => {
    const live = await readyFile();
    const expired = await readyFile({ expiresAt: new Date(Date.now() - 1) });
    const usedUp = await readyFile();
    await repo.claim(usedUp, new Date(), minutes(2));
    const stalled = newId();
    await repo.createUpload({ id: stalled, deleteTokenHash: 'h', createdAt: new Date(), deadline: new Date(Date.now() - 1) });
    const uploading = newId();
    await repo.createUpload({ id: uploading, deleteTokenHash: 'h', createdAt: new Date(), deadline: minutes(60) });

    const due = await repo.findDue(new Date(), 100);
    expect(due.sort()).toEqual([expired, usedUp, stalled].sort());
    expect(due).not.toContain(live);
    expect(due).not.toContain(uploading);
  });

  it('deletes records only through their purge', async () => {
    const id = await readyFile();
    expect(await repo.claim(id, new Date(), minutes(2))).not.toBeNull();
    expect(await client.db(database).collection('download_tickets').countDocuments({})).toBe(1);
    await repo.endStream(id);
    await repo.deletePurged(id);
    expect(await repo.findById(id)).not.toBeNull();
    await repo.beginPurge(id, new Date());
    await repo.deletePurged(id);
    expect(await repo.findById(id)).toBeNull();
    expect(await client.db(database).collection('download_tickets').countDocuments({})).toBe(0);
    expect(await repo.existingIds([id])).toEqual(new Set());
  });

  it('refuses to finish an upload that was swept meanwhile', async () => {
    const id = newId();
    await repo.createUpload({ id, deleteTokenHash: 'h', createdAt: new Date(), deadline: new Date(Date.now() - 1) });
    expect((await repo.beginPurge(id, new Date()))?.state).toBe('purging');
    expect(await repo.markReady(id, { size: 0, parts: [], expiresAt: minutes(5), downloadsLeft: 1 })).toBe(false);
    expect(await repo.addPart(id, { blob: `${id}/0` })).toBe(false);
  });
});

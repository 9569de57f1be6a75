import { MongoClient } from 'mongodb';

export interface MongoConnection {
  readonly client: MongoClient;
  close(): Promise<void>;
}

export async function connectMongo(url: string): Promise<MongoConnection> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000, maxPoolSize: 50 });
  await client.connect();
  return { client, close: () => client.close() };
}

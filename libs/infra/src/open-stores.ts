import type { Config } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';

/**
 * The only place that names vendors: picks each store's adapter from the configuration. Adapters are loaded
 * on demand, so a process loads only the drivers it uses (the embedded default never loads MongoDB's or
 * Azure's SDK).
 */
export async function openFileRepository(config: Config['metadata']): Promise<FileRepository> {
  switch (config.kind) {
    case 'sqlite': {
      const { SqliteFileRepository } = await import('@one-time/db/sqlite');
      return new SqliteFileRepository({ path: config.path });
    }
    case 'mongodb': {
      const { MongoFileRepository, connectMongo } = await import('@one-time/db/mongo');
      const mongo = await connectMongo(config.url);
      return new MongoFileRepository(mongo.client.db(config.database), () => mongo.close());
    }
  }
}

export async function openBlobStore(config: Config['blobs']): Promise<BlobStore> {
  switch (config.kind) {
    case 'filesystem': {
      const { FilesystemBlobStore } = await import('@one-time/storage/filesystem');
      return new FilesystemBlobStore({ root: config.root });
    }
    case 'azure': {
      const { AzureBlobStore } = await import('@one-time/storage/azure');
      return new AzureBlobStore({ connectionString: config.connectionString, container: config.container });
    }
  }
}

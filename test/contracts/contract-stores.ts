import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import type { Storage } from '../../src/storage.port.ts';
import { requireEnv, uniqueId } from '../helpers.ts';

/**
 * Both stores for one contract test file: the embedded store in a temporary folder and a MongoDB
 * database of its own (never skipped: without a server the suite fails, naming what to start).
 * Both are removed once the file's tests are done.
 */
export async function contractStores(name: string): Promise<{
  openEmbedded: () => Promise<Storage>;
  openMongo: () => Promise<Storage>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), `fido-${name}-`));
  const database = uniqueId(`fido_${name}`).replaceAll('-', '_');
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    const client = new MongoClient(requireEnv('MONGODB_URL'), { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });
  return {
    openEmbedded: () => openEmbeddedStorage(dataDir),
    openMongo: () => openMongoStorage({ url: requireEnv('MONGODB_URL'), database }),
  };
}

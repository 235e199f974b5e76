import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/embedded-storage.ts';
import { openMongoStorage } from '../../src/adapters/mongo-storage.ts';
import type { Storage } from '../../src/ports.ts';
import { requireEnv, uniqueId } from '../helpers.ts';
import { webhookStoreContract } from './webhook-store.contract.ts';

/** The WebhookStore contract on every adapter, each on a store of its own. */

const dataDir = await mkdtemp(join(tmpdir(), 'fido-webhooks-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

webhookStoreContract('embedded', () => openEmbeddedStorage(dataDir));

const database = uniqueId('fido_webhooks').replaceAll('-', '_');
// Never skipped: without a server the suite fails, naming what to start.
const openMongo = (): Promise<Storage> => openMongoStorage({ url: requireEnv('MONGODB_URL'), database });

void describe('MongoDB webhooks', () => {
  after(async () => {
    const client = new MongoClient(requireEnv('MONGODB_URL'), { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  webhookStoreContract('mongodb', openMongo);
});

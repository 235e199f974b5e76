import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import { toVersionDoc, type VersionDoc } from '../../src/adapters/mongo/mongo-schema.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import type { Storage } from '../../src/storage.port.ts';
import { reencryptionContract, scanAll } from './reencrypt.contract.ts';
import { aRecord, change, creation, useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The ReencryptionStore contract on every adapter, each on a store of its own, then Mongo's repair. */

const dataDir = await mkdtemp(join(tmpdir(), 'fido-reencrypt-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

reencryptionContract('embedded', () => openEmbeddedStorage(dataDir));

const database = `fido_reenc_${uniqueId('run')
  .replace(/[^A-Za-z0-9]/g, '')
  .slice(0, 24)}`;
/** Never skipped: without a server the suite fails, naming what to start. */
function requireEnv(name: 'MONGODB_URL'): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`${name} is not set: start the test bed (npm run services:up)`);
  return value;
}

const openMongo = (): Promise<Storage> => openMongoStorage({ url: requireEnv('MONGODB_URL'), database });

void describe('MongoDB re-encryption', () => {
  after(async () => {
    const client = new MongoClient(requireEnv('MONGODB_URL'), { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  reencryptionContract('mongodb', openMongo);

  void describe('heads', () => {
    const store = useStorage(openMongo);
    let client: MongoClient | undefined;
    before(() => {
      client = new MongoClient(requireEnv('MONGODB_URL'), { useBigInt64: true });
    });
    after(async () => {
      await client?.close();
    });

    void it('rolls a head that lags behind the commit log forward after re-sealing it', async () => {
      const versions = (client ?? assert.fail('no client'))
        .db(database)
        .collection<VersionDoc>('transaction_versions');
      const record = aRecord({ fullNameSealed: `v1.old.${uniqueId('a')}` });
      await store().transactions.insert(creation(record));
      // Committed, but the head never moved: a writer that died, or whose head update a
      // whole-document rewrite undid.
      const committed = change(record, { fullNameSealed: `v1.new.${uniqueId('b')}`, amountMinor: 9n });
      await versions.insertOne(toVersionDoc(committed));
      const head = (await scanAll(store(), 'v1.new.')).find(
        (i) => i.place.collection === 'transactions' && i.place.id === record.id,
      );
      assert.ok(head);
      assert.equal(await store().reencryption.replace(head, `v1.new.${uniqueId('c')}`), true);
      assert.deepEqual(await store().transactions.get(record.id), committed.record);
    });
  });
});

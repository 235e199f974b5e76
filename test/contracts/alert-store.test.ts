import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/embedded-storage.ts';
import { openMongoStorage } from '../../src/adapters/mongo-storage.ts';
import type { Storage } from '../../src/ports.ts';
import { requireEnv, uniqueId } from '../helpers.ts';
import { alertStoreContract } from './alert-store.contract.ts';
import { unique, useStorage } from './storage.contract.ts';

/** The AlertStore and CreditScoreStore contracts on every adapter, each on a store of its own. */

const dataDir = await mkdtemp(join(tmpdir(), 'fido-alerts-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

alertStoreContract('embedded', () => openEmbeddedStorage(dataDir));

const database = uniqueId('fido_alerts').replaceAll('-', '_');
// Never skipped: without a server the suite fails, naming what to start.
const openMongo = (): Promise<Storage> => openMongoStorage({ url: requireEnv('MONGODB_URL'), database });

void describe('MongoDB alerts', () => {
  after(async () => {
    const client = new MongoClient(requireEnv('MONGODB_URL'), { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  alertStoreContract('mongodb', openMongo);

  void describe('rule keys', () => {
    const store = useStorage(openMongo);

    void it('refuses a rule key that would become a nested or operator field, saving none of the batch', async () => {
      const userId = unique('u');
      const state = { active: true, crossings: 1, since: '2024-10-05T09:30:15.678Z' };
      for (const key of ['velocity:debit:G.HS', '$velocity', '']) {
        await assert.rejects(
          store().alerts.saveRuleStates(
            userId,
            new Map([
              ['velocity:count', state],
              [key, state],
            ]),
          ),
          RangeError,
        );
      }
      assert.deepEqual(await store().alerts.ruleStates(userId), new Map());
    });
  });
});

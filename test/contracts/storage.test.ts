import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import { toVersionDoc, type VersionDoc } from '../../src/adapters/mongo/mongo-schema.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { DependencyUnavailableError } from '../../src/errors.ts';
import type { Storage } from '../../src/storage.port.ts';
import { aClaim, aRecord, change, creation, storageContract, useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** Runs the Storage contract against every adapter, then what only one adapter can show. */

const dataDir = await mkdtemp(join(tmpdir(), 'fido-storage-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

storageContract('embedded', () => openEmbeddedStorage(dataDir));

void describe('embedded storage on disk', () => {
  void it('rolls back the record and its audit line when its event cannot be recorded', async () => {
    const storage = await openEmbeddedStorage(dataDir);
    try {
      const record = aRecord();
      const insert = creation(record);
      await storage.transactions.insert(insert);
      const clash = change(record, { amountMinor: 2n });
      const sameEvent = { ...clash, event: { ...clash.event, eventId: insert.event.eventId } };
      await assert.rejects(storage.transactions.replace(1, sameEvent), /UNIQUE constraint failed: outbox/);
      assert.deepEqual(await storage.transactions.get(record.id), record);
      assert.deepEqual(await storage.transactions.auditTrail(record.id), [insert.audit]);
    } finally {
      await storage.close();
    }
  });

  void it('commits the writes of one event-loop turn together, each failing alone, all durable when acknowledged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fido-group-'));
    try {
      const storage = await openEmbeddedStorage(dir);
      const records = Array.from({ length: 20 }, () => aRecord());
      const [first] = records;
      assert.ok(first);
      await storage.transactions.insert(creation(first));
      // submitted in one turn: a duplicate of `first`, 19 new records, two racing updates of `first`
      const [duplicate, updates, ...inserts] = await Promise.allSettled([
        storage.transactions.insert(creation(first)),
        Promise.all([
          storage.transactions.replace(1, change(first, { amountMinor: 7n })),
          storage.transactions.replace(1, change(first, { amountMinor: 8n })),
        ]),
        ...records.slice(1).map((r) => storage.transactions.insert(creation(r))),
      ]);
      assert.equal(duplicate.status, 'rejected');
      assert.deepEqual(updates.status === 'fulfilled' && updates.value, [true, false]);
      assert.ok(inserts.every((i) => i.status === 'fulfilled'));
      // what was acknowledged is on disk: another connection to the file sees it
      const other = await openEmbeddedStorage(dir);
      try {
        for (const r of records.slice(1)) assert.deepEqual(await other.transactions.get(r.id), r);
        assert.equal((await other.transactions.get(first.id))?.amountMinor, 7n);
        assert.equal((await other.outbox.pending(100)).length, 21);
      } finally {
        await other.close();
        await storage.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('keeps records, audit, outbox and idempotency keys across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fido-reopen-'));
    try {
      const record = aRecord({ amountMinor: 100_000_000_000_000n });
      const update = change(record, { amountMinor: 1n });
      const claim = aClaim(new Date());
      const first = await openEmbeddedStorage(dir);
      await first.transactions.insert(creation(record));
      await first.transactions.replace(1, update);
      await first.idempotency.claim(claim, new Date());
      await first.close();

      const second = await openEmbeddedStorage(dir);
      try {
        assert.deepEqual(await second.transactions.get(record.id), update.record);
        assert.equal((await second.transactions.auditTrail(record.id)).length, 2);
        const replay = await second.idempotency.claim(
          { ...claim, transactionId: uniqueId('tx') },
          new Date(),
        );
        assert.deepEqual(replay, { kind: 'existing', record: claim });
        // one event per write survives too, amounts exact
        const events = (await second.outbox.pending(100))
          .flatMap((e) => ('event' in e ? [e.event] : []))
          .filter((e) => e.userId === record.userId);
        assert.deepEqual(
          events.map((e) => [e.type, e.version, e.after?.amountMinor]),
          [
            ['transaction.created', 1, 100_000_000_000_000n],
            ['transaction.updated', 2, 1n],
          ],
        );
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The stored shape, read with the raw driver to check what the port cannot show. */
interface RawVersion {
  _id: string;
  version: number;
  audit: { action: string };
  event: { event_id: string; after: { amount_minor: unknown } | null };
}

const mongoUrl = process.env.MONGODB_URL;
const database = `fido_contract_${uniqueId('run')
  .replace(/[^A-Za-z0-9]/g, '')
  .slice(0, 24)}`;

function openMongo(): Promise<Storage> {
  if (mongoUrl === undefined || mongoUrl === '') {
    throw new Error(
      'MONGODB_URL is not set: start the test bed (npm run services:up) and run with ' +
        'MONGODB_URL=mongodb://127.0.0.1:37017; the MongoDB adapter is never skipped',
    );
  }
  return openMongoStorage({ url: mongoUrl, database });
}

void describe('MongoDB storage', () => {
  after(async () => {
    if (mongoUrl === undefined || mongoUrl === '') return;
    const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  storageContract('mongodb', openMongo);

  void it('answers DependencyUnavailableError within seconds when the server is unreachable', async () => {
    await assert.rejects(
      openMongoStorage({ url: 'mongodb://127.0.0.1:9', database }),
      DependencyUnavailableError,
    );
  });

  // what an operation meets while the monitor watchdog reconnects the client (closed, then
  // connecting again; src/adapters/mongo/mongo-monitor-watchdog.ts): the store unavailable, never a 500
  void it('answers DependencyUnavailableError while its client is closed', async () => {
    const storage = await openMongo();
    await storage.close();
    await assert.rejects(storage.transactions.get('t-closed'), DependencyUnavailableError);
    await assert.rejects(storage.ping(), DependencyUnavailableError);
  });

  void describe('documents', () => {
    const store = useStorage(openMongo);
    let client: MongoClient | undefined;
    before(() => {
      if (mongoUrl !== undefined && mongoUrl !== '')
        client = new MongoClient(mongoUrl, { useBigInt64: true });
    });
    after(async () => {
      await client?.close();
    });

    void it('commits each write as one version document with its audit line and event, amounts as Int64', async () => {
      const storage = store();
      const db = (client ?? assert.fail('no client')).db(database);
      const record = aRecord({ amountMinor: 100_000_000_000_000n });
      const insert = creation(record);
      await storage.transactions.insert(insert);
      const update = change(record, { amountMinor: 1n });
      await storage.transactions.replace(1, update);

      const versions = await db
        .collection<RawVersion>('transaction_versions')
        .find({ transaction_id: record.id })
        .sort({ version: 1 })
        .toArray();
      assert.deepEqual(
        versions.map((v) => [v.version, v.audit.action, v.event.event_id, v.event.after?.amount_minor]),
        [
          [1, 'created', insert.event.eventId, 100_000_000_000_000n],
          [2, 'updated', update.event.eventId, 1n],
        ],
      );
      const int64 = { amount_minor: { $type: 'long' } } as const;
      assert.equal(
        await db.collection('transaction_versions').countDocuments({ transaction_id: record.id, ...int64 }),
        2,
      );
      const head = await db
        .collection<{ _id: string; version: number }>('transactions')
        .findOne({ _id: record.id, ...int64 });
      assert.equal(head?.version, 2);
    });

    void it('brings a head left behind by a crashed writer up to date on the next conflicting write', async () => {
      const storage = store();
      const versions = (client ?? assert.fail('no client'))
        .db(database)
        .collection<VersionDoc>('transaction_versions');
      const record = aRecord();
      await storage.transactions.insert(creation(record));
      const committed = change(record, { amountMinor: 777n }); // committed, but its writer died before the head
      await versions.insertOne(toVersionDoc(committed));
      assert.equal(await storage.transactions.replace(1, change(record, { amountMinor: 5n })), false);
      assert.deepEqual(await storage.transactions.get(record.id), committed.record);
      assert.deepEqual(await storage.transactions.auditTrail(record.id), [
        creation(record).audit,
        committed.audit,
      ]);
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { toVersionDoc, type HeadDoc, type VersionDoc } from '../../src/adapters/mongo/mongo-schema.ts';
import { pendingDoc, type PendingDoc } from '../../src/adapters/mongo/mongo-stats.ts';
import { partitionOf } from '../../src/events/partitioning.ts';
import { requireEnv } from '../helpers.ts';
import { outboxContract } from './outbox.contract.ts';
import { outboxSubjects } from './outbox-subjects.ts';
import { aRecord, change, creation, useStorage } from './storage.contract.ts';

/** Runs the Outbox contract against both stores, then what only the MongoDB adapter can show. */

const { subjects, mongoDatabase } = await outboxSubjects();
for (const subject of subjects) outboxContract(subject);

void describe('MongoDB outbox: a writer that died after its commit', () => {
  const mongo = subjects.find((s) => s.name === 'mongodb');
  assert.ok(mongo);
  const store = useStorage(() => mongo.open(4));

  void it('publishes the committed version its unflagged marker names, moving the lagging head forward first', async () => {
    const client = new MongoClient(requireEnv('MONGODB_URL'), { useBigInt64: true });
    try {
      const db = client.db(mongoDatabase);
      const record = aRecord();
      const insert = creation(record);
      await store().transactions.insert(insert);
      // version 2 committed, then its writer died: no head update, no flag on its marker
      const committed = change(record, { amountMinor: 777n });
      const { updatedAt } = committed.record;
      await db
        .collection<PendingDoc>('stats_pending')
        .insertOne(pendingDoc(record.userId, record.id, 2, updatedAt, partitionOf(record.userId, 4)));
      await db.collection<VersionDoc>('transaction_versions').insertOne(toVersionDoc(committed));

      const entries = (await store().outbox.pending(10_000, { partitions: [0, 1, 2, 3], count: 4 })).filter(
        (e) => 'event' in e && e.event.transactionId === record.id,
      );
      assert.deepEqual(
        entries.map((e) => 'event' in e && e.event.eventId),
        [insert.event.eventId, committed.event.eventId],
      );
      const head = await db.collection<HeadDoc>('transactions').findOne({ _id: record.id });
      assert.ok(head !== null);
      assert.equal(head.version, 2, 'the head shows the event before it is handed out');
      assert.equal(head.amount_minor, 777n);
    } finally {
      await client.close();
    }
  });
});

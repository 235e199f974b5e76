import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { openEmbeddedStorage } from '../../src/adapters/sqlite/embedded-storage.ts';
import { versionId } from '../../src/adapters/mongo/mongo-schema.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { partitionOf } from '../../src/events/partitioning.ts';
import type { Storage } from '../../src/storage.port.ts';
import type { TransactionRecord } from '../../src/transactions/transaction.ts';
import { requireEnv, uniqueId } from '../helpers.ts';

/**
 * A store under the Outbox contract, and what only raw access can do: leave a stored event that
 * no consumer could read (as a bug or an older version of the service could have), and fix it as
 * an operator would before requeueing it.
 */
export interface OutboxSubject {
  readonly name: string;
  /** Storage whose writes record partitions over `count` (null: the writer does not know it yet). */
  open(count: number | null): Promise<Storage>;
  /** Turns the stored event of `record`'s first version into one of an unknown type. */
  spoil(record: TransactionRecord): Promise<void>;
  /** Puts the type back, as the operator does after reading the reason. */
  repair(record: TransactionRecord): Promise<void>;
}

const partitioner = (count: number | null) => (key: string) =>
  count === null ? null : partitionOf(key, count);

const BAD_TYPE = 'transaction.archived';

/** Both stores, each removed after the file's tests; `mongoDatabase` for raw looks at the documents. */
export async function outboxSubjects(): Promise<{ subjects: OutboxSubject[]; mongoDatabase: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fido-outbox-'));
  const database = uniqueId('fido_outbox').replaceAll('-', '_');
  const mongoUrl = requireEnv('MONGODB_URL');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3000 });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });
  const sqlite = (work: (db: DatabaseSync) => void) => {
    const db = new DatabaseSync(join(dataDir, 'fido.sqlite'), { timeout: 5000 });
    try {
      work(db);
    } finally {
      db.close();
    }
  };
  const setType = (record: TransactionRecord, from: string, to: string) => {
    sqlite((db) => {
      db.prepare(
        'UPDATE outbox SET payload = replace(payload, ?, ?) WHERE user_id = ? AND instr(payload, ?) > 0',
      ).run(`"type":"${from}"`, `"type":"${to}"`, record.userId, `"transaction_id":"${record.id}"`);
    });
  };
  const mongoSetType = async (record: TransactionRecord, type: string, markerToo: boolean) => {
    const db = client.db(database);
    const _id = versionId(record.id, 1);
    await db
      .collection<{ _id: string }>('transaction_versions')
      .updateOne({ _id }, { $set: { 'event.type': type } });
    if (markerToo)
      await db
        .collection<{ _id: string }>('stats_pending')
        .updateOne({ _id }, { $set: { 'event.type': type } });
  };
  const subjects: OutboxSubject[] = [
    {
      name: 'embedded',
      open: (count) => openEmbeddedStorage(dataDir, { outboxPartition: partitioner(count) }),
      spoil: (record) => {
        setType(record, 'transaction.created', BAD_TYPE);
        return Promise.resolve();
      },
      repair: (record) => {
        setType(record, BAD_TYPE, 'transaction.created');
        return Promise.resolve();
      },
    },
    {
      name: 'mongodb',
      open: (count) => openMongoStorage({ url: mongoUrl, database, outboxPartition: partitioner(count) }),
      // the commit log and the marker's copy, as a bug in the writer would leave both
      spoil: (record) => mongoSetType(record, BAD_TYPE, true),
      // the commit log is the record; a requeue reads the event from it again
      repair: (record) => mongoSetType(record, 'transaction.created', false),
    },
  ];
  return { subjects, mongoDatabase: database };
}

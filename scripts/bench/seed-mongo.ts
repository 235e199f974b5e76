import { MongoClient } from 'mongodb';
import {
  toHeadDoc,
  toVersionDoc,
  type HeadDoc,
  type VersionDoc,
} from '../../src/adapters/mongo/mongo-schema.ts';
import { pendingDoc, type PendingDoc } from '../../src/adapters/mongo/mongo-stats.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import type { SeedSink } from './seed.ts';

/**
 * Seeds a MongoDB database with the adapter's own document mapping (`toHeadDoc`, `toVersionDoc`:
 * the newest version of each record and its immutable version document with audit line and
 * event), in `insertMany` batches: the adapter's one-write-at-a-time path costs three round
 * trips per transaction, and on FerretDB its conditional head update scans the collection.
 * A `backlog` seed also leaves each write's pending marker, flagged published as the relay
 * leaves it once the event is on the bus.
 */
export async function seedMongo<T>(
  url: string,
  database: string,
  mode: 'steady' | 'backlog',
  work: (sink: SeedSink) => Promise<T>,
): Promise<T> {
  // creates the collections' indexes as a starting service would, and serves the statistics
  const storage = await openMongoStorage({ url, database });
  const client = new MongoClient(url, { useBigInt64: true, appName: 'fido-bench-seed' });
  try {
    await client.connect();
    const db = client.db(database);
    // the collection names of src/adapters/mongo/mongo-storage.ts
    const heads = db.collection<HeadDoc>('transactions');
    const versions = db.collection<VersionDoc>('transaction_versions');
    const markers = db.collection<PendingDoc>('stats_pending');
    const now = new Date();
    const sink: SeedSink = {
      stats: storage.stats,
      async insertBatch(writes) {
        await Promise.all([
          heads.insertMany(
            writes.map((w) => toHeadDoc(w.record)),
            { ordered: false },
          ),
          versions.insertMany(writes.map(toVersionDoc), { ordered: false }),
          mode === 'backlog'
            ? markers.insertMany(
                writes.map(({ record }) => ({
                  ...pendingDoc(record.userId, record.id, record.version, now),
                  published: true,
                  published_at: now,
                })),
                { ordered: false },
              )
            : null,
        ]);
      },
      close: () => storage.close(),
    };
    return await work(sink);
  } finally {
    await client.close();
    await storage.close();
  }
}

export async function dropMongoDatabases(url: string, databases: readonly string[]): Promise<void> {
  const client = new MongoClient(url, { appName: 'fido-bench-cleanup' });
  try {
    await client.connect();
    for (const name of databases) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

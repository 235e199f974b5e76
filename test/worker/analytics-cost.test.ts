import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient, type CommandSucceededEvent } from 'mongodb';
import { pino } from 'pino';
import { createMemoryCacheStore } from '../../src/adapters/memory/memory-cache.ts';
import { openMongoStorage } from '../../src/adapters/mongo/mongo-storage.ts';
import { createMongoStats } from '../../src/adapters/mongo/mongo-stats.ts';
import { toHeadDoc, type HeadDoc } from '../../src/adapters/mongo/mongo-schema.ts';
import { createAnalyticsService } from '../../src/analytics/analytics.service.ts';
import { createUserDays } from '../../src/analytics/user-days.ts';
import { ANONYMOUS_SERVICE } from '../../src/auth/principal.ts';
import { createReadCache } from '../../src/cache/read-cache.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { Storage } from '../../src/storage.port.ts';
import type { TransactionWrite } from '../../src/transactions/transaction.ts';
import { reconcileUser } from '../../src/analytics/stats-projection.service.ts';
import { requireEnv, uniqueId } from '../helpers.ts';

/** A committed write as the service makes it, without HTTP (seeding thousands is the point). */
function write(userId: string, n: number): TransactionWrite {
  const at = new Date();
  const date = new Date(Date.UTC(2024, 0, 1) + (n % 300) * 86_400_000 + n * 1000);
  const state = {
    amountMinor: BigInt(100 + n),
    currency: 'GHS',
    type: n % 3 === 0 ? ('debit' as const) : ('credit' as const),
    transactionDate: date,
  };
  const id = `${userId}-${n}`;
  return {
    record: {
      id,
      userId,
      fullNameSealed: 'v1.k.iv.ct.tag',
      ...state,
      version: 1,
      createdAt: at,
      updatedAt: at,
      deletedAt: null,
    },
    event: {
      eventId: uniqueId('e'),
      type: 'transaction.created',
      occurredAt: at,
      userId,
      transactionId: id,
      version: 1,
      before: null,
      after: state,
    },
    audit: { version: 1, action: 'created', at, actor: 'seed', fullNameSealed: 'v1.k.iv.ct.tag', state },
  };
}

describe('the cost of a steady-state analytics read (MongoDB command monitoring)', () => {
  const database = uniqueId('fido_cost').replaceAll('-', '_');
  let storage: Storage;
  let client: MongoClient;
  before(async () => {
    storage = await openMongoStorage({ url: requireEnv('MONGODB_URL'), database });
    client = await MongoClient.connect(requireEnv('MONGODB_URL'), {
      monitorCommands: true,
      useBigInt64: true,
    });
  });
  after(async () => {
    await client.db(database).dropDatabase();
    await client.close();
    await storage.close();
  });

  it('the same commands and documents for a user with 10 and with 5,000 transactions', async () => {
    const small = uniqueId('small');
    const large = uniqueId('large');
    // seeded as current-state documents in bulk: the read path never looks at the commit log
    const heads = client.db(database).collection<HeadDoc>('transactions');
    for (const [user, count] of [
      [small, 10],
      [large, 5000],
    ] as const) {
      for (let n = 0; n < count; n += 1000) {
        const docs = Array.from({ length: Math.min(1000, count - n) }, (_, i) =>
          toHeadDoc(write(user, n + i).record),
        );
        await heads.insertMany(docs);
      }
      await reconcileUser(storage.stats, user, new Date());
    }
    const db = client.db(database);
    const stats = await createMongoStats(db, db.collection<HeadDoc>('transactions'), (op) => op());
    const metrics = createMetrics();
    // the cache off: this measures the store's side of a read
    const cache = createReadCache({
      store: createMemoryCacheStore({ maxEntries: 1 }),
      metrics,
      logger: pino({ level: 'silent' }),
      ttlMs: 0,
      refreshAfterMs: 0,
    });
    const service = createAnalyticsService({
      userDays: createUserDays({ stats, metrics, waitMs: 0 }),
      cache,
      clock: () => new Date(),
      defaultCurrency: 'GHS',
    });

    const measure = async (user: string) => {
      const commands: string[] = [];
      let documents = 0;
      const onStart = (event: { commandName: string }) => commands.push(event.commandName);
      const onSuccess = (event: CommandSucceededEvent) => {
        const reply = event.reply as { cursor?: { firstBatch?: unknown[] } };
        documents += reply.cursor?.firstBatch?.length ?? 0;
      };
      client.on('commandStarted', onStart);
      client.on('commandSucceeded', onSuccess);
      try {
        const body = JSON.parse(String((await service.analytics(user, {}, ANONYMOUS_SERVICE)).body)) as {
          transaction_count: number;
        };
        return { commands, documents, count: body.transaction_count };
      } finally {
        client.off('commandStarted', onStart);
        client.off('commandSucceeded', onSuccess);
      }
    };
    const a = await measure(small);
    const b = await measure(large);
    assert.equal(a.count, 10);
    assert.equal(b.count, 5000);
    assert.deepEqual(b.commands, a.commands);
    assert.equal(b.documents, a.documents);
    assert.ok(a.commands.length <= 2, a.commands.join(','));
  });
});

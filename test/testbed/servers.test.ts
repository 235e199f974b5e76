import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  ProduceAcks,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { MongoClient } from 'mongodb';
import { createClient } from 'redis';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';

/**
 * One smoke test per test-bed server, with the clients the service uses: proof that the servers
 * `npm test` runs against are real and speak what the adapters need.
 */
describe('test bed servers', () => {
  it('Redis: SET with expiry, GET, TTL', async () => {
    const redis = createClient({ url: requireEnv('REDIS_URL') });
    await redis.connect();
    try {
      const key = uniqueId('smoke');
      assert.equal(await redis.set(key, 'value', { expiration: { type: 'PX', value: 60_000 } }), 'OK');
      assert.equal(await redis.get(key), 'value');
      const ttl = await redis.pTTL(key);
      assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
      await redis.set(key, 'short', { expiration: { type: 'PX', value: 50 } });
      await eventually(async () => ((await redis.get(key)) === null ? true : undefined), 5_000);
    } finally {
      redis.destroy();
    }
  });

  it('Kafka: produce, consume through a consumer group, committed offsets survive a new member', async () => {
    const brokers = requireEnv('KAFKA_BROKERS').split(',');
    const topic = uniqueId('smoke');
    const groupId = uniqueId('group');
    const admin = new Admin({ clientId: 'smoke-admin', bootstrapBrokers: brokers });
    const producer = new Producer({
      clientId: 'smoke-producer',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
    });
    const consumeAll = async (count: number): Promise<string[]> => {
      const consumer = new Consumer({
        clientId: 'smoke-consumer',
        groupId,
        bootstrapBrokers: brokers,
        deserializers: stringDeserializers,
      });
      const stream = await consumer.consume({
        topics: [topic],
        autocommit: false,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: 'earliest',
      });
      const values: string[] = [];
      try {
        for await (const message of stream) {
          values.push(message.value);
          await message.commit();
          if (values.length === count) break;
        }
      } finally {
        await stream.close();
        await consumer.close();
      }
      return values;
    };
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      await producer.send({ messages: ['a', 'b', 'c'].map((value) => ({ topic, key: 'user-1', value })) });
      assert.deepEqual(await consumeAll(3), ['a', 'b', 'c']);
      await producer.send({ messages: [{ topic, key: 'user-1', value: 'd' }] });
      assert.deepEqual(await consumeAll(1), ['d'], 'a new member resumes after the committed offset');
    } finally {
      await producer.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  });

  it('MongoDB protocol: insert, indexed sorted find, $group aggregation, findOneAndUpdate upsert', async () => {
    const client = await MongoClient.connect(requireEnv('MONGODB_URL'), { serverSelectionTimeoutMS: 5_000 });
    const db = client.db(uniqueId('smoke').replaceAll('-', '_'));
    try {
      const docs = db.collection<{ _id: string; user: string; n: number }>('docs');
      await docs.createIndex({ user: 1, n: -1 });
      await docs.insertMany(
        [1, 2, 3, 4].map((n) => ({ _id: `d${n}`, user: n % 2 === 0 ? 'even' : 'odd', n })),
      );
      const sorted = await docs.find({ user: 'even' }).sort({ n: -1 }).toArray();
      assert.deepEqual(
        sorted.map((d) => d.n),
        [4, 2],
      );
      const groups = await docs
        .aggregate<{ _id: string; total: number }>([
          { $group: { _id: '$user', total: { $sum: '$n' } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      assert.deepEqual(groups, [
        { _id: 'even', total: 6 },
        { _id: 'odd', total: 4 },
      ]);
      const counters = db.collection<{ _id: string; value: number }>('counters');
      const first = await counters.findOneAndUpdate(
        { _id: 'c' },
        { $inc: { value: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      const second = await counters.findOneAndUpdate(
        { _id: 'c' },
        { $inc: { value: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      assert.deepEqual([first?.value, second?.value], [1, 2]);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { MongoClient } from 'mongodb';
import { createClient } from 'redis';

/**
 * The ceilings: the least work that could answer each of our endpoints, straight on the drivers,
 * at the same durability as the service (same servers, same database files, same Kafka acks).
 */
export interface RawBackend {
  /** A user's newest 50 live records by the history index, as JSON (no decryption, no mapping). */
  find(userId: string): Promise<string>;
  /** One record insert plus its event, each durable before the answer. */
  insert(body: Record<string, unknown>): Promise<void>;
  /** A GET of one cached value; null where there is no cache server (embedded). */
  readonly cacheGet: (() => Promise<string | null>) | null;
  close(): Promise<void>;
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** MongoDB driver + @platformatic/kafka producer (idempotent, acks=all as the service's) + node-redis. */
export async function mongoBackend(env: NodeJS.ProcessEnv): Promise<RawBackend> {
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`${name} is required`);
    return value;
  };
  const client = new MongoClient(need('MONGODB_URL'), { useBigInt64: true, appName: 'fido-bench-raw' });
  await client.connect();
  const db = client.db(need('MONGODB_DATABASE'));
  const heads = db.collection('transactions');
  const inserts = db.collection<Record<string, unknown> & { _id: string }>('bench_raw_inserts');
  const brokers = need('KAFKA_BROKERS').split(',');
  const topic = need('BENCH_KAFKA_TOPIC');
  const admin = new Admin({ clientId: 'fido-bench-raw-admin', bootstrapBrokers: brokers });
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({ topics: [{ topic, partitions: 6, replicas: 1 }] });
  }
  await admin.close();
  const producer = new Producer<string, string, string, string>({
    clientId: 'fido-bench-raw-producer',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    retries: 3,
  });
  const redis = createClient({ url: need('REDIS_URL') });
  await redis.connect();
  const cacheKey = `fido-bench:raw:${randomUUID()}`;
  await redis.set(cacheKey, env.BENCH_CACHE_VALUE ?? '{}', { expiration: { type: 'PX', value: 3_600_000 } });
  return {
    async find(userId) {
      const docs = await heads
        .find({ user_id: userId, deleted_at: null })
        .sort({ transaction_date: -1, _id: -1 })
        .limit(50)
        .toArray();
      return json(docs);
    },
    async insert(body) {
      await inserts.insertOne({ ...body, _id: randomUUID(), created_at: new Date() });
      await producer.send({
        messages: [{ topic, key: String(body.user_id), value: JSON.stringify(body) }],
      });
    },
    cacheGet: () => redis.get(cacheKey),
    async close() {
      await redis.del(cacheKey);
      redis.destroy();
      await producer.close();
      await client.close();
    },
  };
}

/**
 * node:sqlite on the service's own file for reads; writes go to a file of their own beside it
 * with the store's settings (WAL, synchronous=FULL), record and event in one transaction as the
 * embedded store commits a write with its outbox event.
 */
export function sqliteBackend(env: NodeJS.ProcessEnv): RawBackend {
  const dataDir = env.DATA_DIR ?? '.data';
  const store = new DatabaseSync(join(dataDir, 'fido.sqlite'), { readBigInts: true, timeout: 5000 });
  const history = store.prepare(
    `SELECT id, user_id, full_name, transaction_date, amount_minor, currency, type, version,
       created_at, updated_at, deleted_at FROM transactions WHERE user_id = ? AND deleted_at IS NULL
     ORDER BY transaction_date DESC, id DESC LIMIT 50`,
  );
  const raw = new DatabaseSync(join(dataDir, 'bench-raw.sqlite'), { timeout: 5000 });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  raw.exec(`CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
              body TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT;
            CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
              user_id TEXT NOT NULL, payload TEXT NOT NULL) STRICT;`);
  const insertRecord = raw.prepare('INSERT INTO records (id, user_id, body, created_at) VALUES (?, ?, ?, ?)');
  const insertEvent = raw.prepare('INSERT INTO events (user_id, payload) VALUES (?, ?)');
  return {
    find: (userId) => Promise.resolve(json(history.all(userId))),
    insert(body) {
      const text = JSON.stringify(body);
      const userId = String(body.user_id);
      raw.exec('BEGIN IMMEDIATE');
      try {
        insertRecord.run(randomUUID(), userId, text, Date.now());
        insertEvent.run(userId, text);
        raw.exec('COMMIT');
      } catch (error) {
        if (raw.isTransaction) raw.exec('ROLLBACK');
        throw error;
      }
      return Promise.resolve();
    },
    cacheGet: null,
    close() {
      store.close();
      raw.close();
      return Promise.resolve();
    },
  };
}

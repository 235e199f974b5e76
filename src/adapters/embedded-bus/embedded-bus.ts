import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DependencyUnavailableError } from '../../errors.ts';
import { partitionOf } from '../../events/partitioning.ts';
import type { BusMessage, EventBus } from '../../events/event-bus.port.ts';
import { startEmbeddedSubscription, type EmbeddedLog } from './embedded-bus-subscription.ts';
import { inWriteTransaction, readInt, readNumber } from '../sqlite/embedded-sqlite.ts';
import { openSubscriptions } from '../open-subscriptions.ts';

/**
 * The event bus for runs without Kafka: a durable log in `<dataDir>/bus.sqlite` with Kafka's
 * semantics. A key picks its partition with Kafka's own hash (murmur2), each partition numbers
 * its messages from 0, and a group's committed offset is the next offset it will read. Messages
 * older than the retention are pruned, as Kafka does by time; offsets are never reused.
 */

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS partitions (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    key TEXT NOT NULL, value TEXT NOT NULL, headers TEXT NOT NULL, appended_at INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS messages_age ON messages (appended_at);
  CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, committed INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS group_leases (
    group_id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL
  ) STRICT;`;

export interface EmbeddedBusOptions {
  /** How long a message is kept, consumed or not (Kafka's retention.ms; 7 days by default). */
  readonly retentionMs?: number;
  /** Failures a subscription recovers from by itself (it retries), for logging. */
  readonly onError?: (error: unknown) => void;
}

const PRUNE_EVERY_MS = 3_600_000;

export function openEmbeddedBus(dataDir: string, options: EmbeddedBusOptions = {}): Promise<EventBus> {
  return unavailableOnLock(() => {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(join(dataDir, 'bus.sqlite'), { timeout: 5000, readBigInts: true });
    try {
      db.exec('PRAGMA journal_mode = WAL');
      // FULL: a publish that resolved survives a power cut, like acks=all on Kafka.
      db.exec('PRAGMA synchronous = FULL');
      db.exec(SCHEMA);
      return createBus(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

function createBus(db: DatabaseSync, options: EmbeddedBusOptions): EventBus {
  const sql = {
    topic: db.prepare('SELECT partitions FROM topics WHERE name = ?'),
    addTopic: db.prepare('INSERT INTO topics (name, partitions) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    addPartition: db.prepare(
      'INSERT INTO partitions (topic, partition, next_offset) VALUES (?, ?, 0) ON CONFLICT DO NOTHING',
    ),
    nextOffset: db.prepare(
      'UPDATE partitions SET next_offset = next_offset + 1 WHERE topic = ? AND partition = ? RETURNING next_offset',
    ),
    append: db.prepare(
      `INSERT INTO messages (topic, partition, offset, key, value, headers, appended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    prune: db.prepare('DELETE FROM messages WHERE appended_at < ?'),
    ping: db.prepare('SELECT 1'),
  };
  const listeners = new Set<() => void>();
  const subscriptions = openSubscriptions();
  const onError = options.onError ?? (() => undefined);
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;

  const partitionsOf = (topic: string): number => {
    const row = sql.topic.get(topic);
    if (row === undefined) throw new Error(`Unknown topic ${topic}.`);
    return readNumber(row, 'partitions');
  };
  const prune = () => {
    inWriteTransaction(db, () => sql.prune.run(Date.now() - retentionMs));
  };
  prune();
  const pruner = setInterval(() => {
    void unavailableOnLock(prune).catch(onError);
  }, PRUNE_EVERY_MS).unref();

  const log: EmbeddedLog = {
    db,
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    partitions: (topics) =>
      topics.flatMap((topic) =>
        Array.from({ length: partitionsOf(topic) }, (_, partition) => ({ topic, partition })),
      ),
  };

  return {
    name: 'embedded',

    ensureTopics: (topics) =>
      unavailableOnLock(() => {
        inWriteTransaction(db, () => {
          for (const { name, partitions } of topics) {
            sql.addTopic.run(name, partitions);
            for (let p = 0; p < partitionsOf(name); p++) sql.addPartition.run(name, p);
          }
        });
      }),

    partitionCount: (topic) =>
      unavailableOnLock(() => {
        const row = sql.topic.get(topic);
        return row === undefined ? null : readNumber(row, 'partitions');
      }),

    publish: (messages) =>
      unavailableOnLock(() => {
        if (messages.length === 0) return;
        const now = Date.now();
        inWriteTransaction(db, () => {
          for (const message of messages) append(message, now);
        });
        for (const listener of listeners) listener();
      }),

    async subscribe(subscribeOptions) {
      const subscription = await unavailableOnLock(() =>
        startEmbeddedSubscription(log, subscribeOptions, onError),
      );
      return subscriptions.track(subscription);
    },

    ping: () =>
      unavailableOnLock(() => {
        sql.ping.get();
      }),

    async close() {
      clearInterval(pruner);
      await subscriptions.closeAll();
      if (db.isOpen) db.close();
    },
  };

  function append(message: BusMessage, now: number): void {
    const partition = partitionOf(message.key, partitionsOf(message.topic));
    const row = sql.nextOffset.get(message.topic, partition);
    if (row === undefined) throw new Error(`topic ${message.topic} lacks partition ${partition}`);
    const offset = readInt(row, 'next_offset') - 1n;
    sql.append.run(
      message.topic,
      partition,
      offset,
      message.key,
      message.value,
      JSON.stringify(message.headers ?? {}),
      now,
    );
  }
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** Runs synchronous SQLite work as a promise; a file locked past busy_timeout is unavailable. */
function unavailableOnLock<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  }).catch((error: unknown) => {
    const code = error instanceof Error && 'errcode' in error ? Number(error.errcode) & 0xff : -1;
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED)
      throw new DependencyUnavailableError('event bus', error);
    throw error;
  });
}

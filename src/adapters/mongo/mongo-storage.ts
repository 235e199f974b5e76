import { MongoClient } from 'mongodb';
import type { Collection, Filter } from 'mongodb';
import type { Logger } from 'pino';
import { DuplicateIdError } from '../../transactions/transaction-store.port.ts';
import type { Storage } from '../../storage.port.ts';
import type { TransactionStore } from '../../transactions/transaction-store.port.ts';
import type { TransactionRecord, TransactionWrite } from '../../transactions/transaction.ts';
import { createAlertIndexes, createMongoAlertStore, createMongoCreditScoreStore } from './mongo-alerts.ts';
import { advanceHead } from './mongo-heads.ts';
import { guardWithin, type Guard } from './mongo-guard.ts';
import { createMongoOutbox, flagCommitted } from './mongo-outbox.ts';
import type { OutboxPartitioner } from '../../events/partitioning.ts';
import { createMongoStats, pendingDoc, type PendingDoc } from './mongo-stats.ts';
import { createMongoIdempotencyStore, type IdempotencyDoc } from './mongo-idempotency.ts';
import { MONITOR_STALLED, watchMonitor } from './mongo-monitor-watchdog.ts';
import { createMongoReencryption } from './mongo-reencrypt.ts';
import { createMongoWebhookStore } from './mongo-webhooks.ts';
import { isDuplicateKey, toAuditEntry, toRecord, toVersionDoc, versionId } from './mongo-schema.ts';
import type { HeadDoc, VersionDoc } from './mongo-schema.ts';

/**
 * Storage on MongoDB using only what every MongoDB-protocol server we target does atomically:
 * inserting one document under a unique _id. No multi-document transactions, no TTL indexes, no
 * Decimal128 (amounts are Int64), and no reliance on a conditional update being atomic.
 */
export async function openMongoStorage(options: {
  url: string;
  database: string;
  /** Told when the driver's server monitor stalled and the client was reconnected. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** The deadline of every operation (MONGODB_OPERATION_TIMEOUT_MS); 10 s when not given. */
  operationTimeoutMs?: number;
  /** The partition of transactions.v1 each outbox marker records (docs/ARCHITECTURE.md); none when not given. */
  outboxPartition?: OutboxPartitioner;
}): Promise<Storage> {
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  const client = new MongoClient(options.url, {
    // Fail fast when the server is down, so a request answers 503 instead of hanging.
    serverSelectionTimeoutMS: Math.min(3000, operationTimeoutMs),
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
    // A connection whose server stopped answering is given up after the operation deadline too,
    // so the pool does not keep it.
    socketTimeoutMS: operationTimeoutMs,
    // Amounts are int64 minor units; read them back as bigint, never as a rounded double.
    useBigInt64: true,
    appName: 'fido-transactions',
  });
  const guard = guardWithin(operationTimeoutMs);
  const { logger } = options;
  const watchdog = watchMonitor(client, {
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
    marginMs: 2_000,
    onStall: (stall) => {
      logger?.warn(stall, MONITOR_STALLED);
    },
    onReconnected: () => {
      logger?.info('MongoDB: client reconnected');
    },
    onError: (error) => {
      logger?.warn({ err: error }, 'MongoDB: reconnecting the client failed; retrying');
    },
  });
  const close = async () => {
    await watchdog.stop();
    await client.close();
  };
  try {
    await guard(() => client.connect());
    const db = client.db(options.database);
    const heads = db.collection<HeadDoc>('transactions');
    const versions = db.collection<VersionDoc>('transaction_versions');
    const keys = db.collection<IdempotencyDoc>('idempotency_keys');
    await guard(() =>
      Promise.all([
        // Equality on user and tombstone, then the history order: a page reads `limit` entries.
        heads.createIndex(
          { user_id: 1, deleted_at: 1, transaction_date: -1, _id: -1 },
          { name: 'user_history' },
          undefined,
        ),
        versions.createIndex({ transaction_id: 1, version: 1 }, { name: 'by_transaction' }, undefined),
        // TTL indexes are not available everywhere, so sweepExpired deletes by this range.
        keys.createIndex({ expires_at: 1 }, { name: 'expiry' }, undefined),
        createAlertIndexes(db),
      ]),
    );
    return {
      name: 'mongodb',
      transactions: createTransactionStore(
        heads,
        versions,
        db.collection<PendingDoc>('stats_pending'),
        guard,
        options.outboxPartition ?? (() => null),
      ),
      outbox: createMongoOutbox(heads, versions, db.collection<PendingDoc>('stats_pending'), guard),
      stats: await createMongoStats(db, heads, guard),
      idempotency: createMongoIdempotencyStore(keys, guard),
      reencryption: createMongoReencryption(db, guard),
      webhooks: await createMongoWebhookStore(db, guard),
      alerts: createMongoAlertStore(db, guard),
      scores: createMongoCreditScoreStore(db, guard),
      ping: async () => {
        await guard(() => db.command({ ping: 1 }));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A write commits by ONE insert into `transaction_versions` of an immutable document holding the
 * new record, its audit line and its event (the outbox). Its _id is (transaction id, version), so
 * the unique _id index is the compare-and-set: of two writers of the same next version exactly
 * one insert succeeds. `transactions` holds the newest committed version of each record for reads
 * and history pages; it only moves forward, and a writer that loses a race first brings it up to
 * the newest version, repairing a writer that died between its commit and its head update.
 */
function createTransactionStore(
  heads: Collection<HeadDoc>,
  versions: Collection<VersionDoc>,
  pending: Collection<PendingDoc>,
  guard: Guard,
  partitionOf: OutboxPartitioner,
): TransactionStore {
  const advance = (record: TransactionRecord) => advanceHead(heads, guard, record);

  async function commit(write: TransactionWrite): Promise<boolean> {
    const { record } = write;
    // Before the commit, so a reader can never see the write without knowing it is unprojected.
    const marker: PendingDoc = {
      ...pendingDoc(record.userId, record.id, record.version, record.updatedAt, partitionOf(record.userId)),
      ...(write.traceContext === undefined ? {} : { trace_context: write.traceContext }),
    };
    await guard(() => pending.insertOne(marker)).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error; // a retry of the same version: the marker stands
    });
    try {
      await guard(() => versions.insertOne(toVersionDoc(write)));
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const newest = await guard(() =>
        versions.findOne(
          { transaction_id: write.record.id },
          { sort: { version: -1 }, projection: { audit: 0, event: 0 } },
        ),
      );
      if (newest !== null) await advance(toRecord({ ...newest, _id: newest.transaction_id }));
      return false;
    }
    await advance(write.record);
    await flagCommitted(pending, guard, write, marker._id);
    return true;
  }

  return {
    insert: async (write) => {
      if (write.record.version !== 1) throw new RangeError('a new transaction starts at version 1');
      if (!(await commit(write))) throw new DuplicateIdError(write.record.id);
    },
    get: async (id) => {
      const doc = await guard(() => heads.findOne({ _id: id }));
      return doc === null ? null : toRecord(doc);
    },
    replace: async (expectedVersion, write) => {
      if (write.record.version !== expectedVersion + 1) {
        throw new RangeError('a replacement carries expectedVersion + 1');
      }
      // The expected version must be committed and live; the insert in commit() makes it the newest.
      const previous = await guard(() =>
        versions.findOne(
          { _id: versionId(write.record.id, expectedVersion) },
          { projection: { deleted_at: 1 } },
        ),
      );
      if (previous === null || previous.deleted_at !== null) return false;
      return commit(write);
    },
    listByUser: async ({ userId, from, to, type, after, limit }) => {
      const filter: Filter<HeadDoc> = { user_id: userId, deleted_at: null };
      if (from !== undefined || to !== undefined) {
        filter.transaction_date = { ...(from && { $gte: from }), ...(to && { $lt: to }) };
      }
      if (type !== undefined) filter.type = type;
      if (after !== undefined) {
        filter.$or = [
          { transaction_date: { $lt: after.transactionDate } },
          { transaction_date: after.transactionDate, _id: { $lt: after.id } },
        ];
      }
      const docs = await guard(() =>
        heads.find(filter).sort({ transaction_date: -1, _id: -1 }).limit(limit).toArray(),
      );
      return docs.map(toRecord);
    },
    auditTrail: async (id) => {
      const docs = await guard(() =>
        versions
          .find({ transaction_id: id }, { projection: { audit: 1 } })
          .sort({ version: 1 })
          .toArray(),
      );
      return docs.map((doc) => toAuditEntry(doc.audit));
    },
  };
}

const CONNECT_TIMEOUT_MS = 3_000;
/**
 * As long as the socket timeout the driver had before the deadline existed: a loaded FerretDB
 * answers the slowest legitimate reads (a reconciliation's scan) well within it.
 */
const DEFAULT_OPERATION_TIMEOUT_MS = 10_000;
/** The driver's default, stated: the stall watchdog's bound for an awaited check depends on it. */
const HEARTBEAT_FREQUENCY_MS = 10_000;

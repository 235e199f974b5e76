import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { DuplicateIdError } from '../../transactions/transaction-store.port.ts';
import type { HistoryQuery, TransactionStore } from '../../transactions/transaction-store.port.ts';
import type { Storage } from '../../storage.port.ts';
import type { OutboxPartitioner } from '../../events/partitioning.ts';
import { toWire } from '../../events/transaction-events.ts';
import type { TransactionRecord, TransactionWrite } from '../../transactions/transaction.ts';
import { createEmbeddedAlertStore, createEmbeddedCreditScoreStore } from './embedded-alerts.ts';
import { createEmbeddedIdempotencyStore } from './embedded-idempotency.ts';
import { createEmbeddedReencryption } from './embedded-reencrypt.ts';
import { traceContextToText } from '../../telemetry/stored-trace-context.ts';
import { createEmbeddedOutbox } from './embedded-outbox.ts';
import { createEmbeddedStats } from './embedded-stats.ts';
import { createEmbeddedWebhookStore } from './embedded-webhooks.ts';
import { createGroupCommit } from './embedded-group-commit.ts';
import { openDatabase, settle, toAuditEntry, toRecord } from './embedded-sqlite.ts';

/**
 * Durable local storage in `<dataDir>/fido.sqlite` for runs without servers. Resolves once the
 * file is open and its schema current; async only to match openMongoStorage.
 */
export function openEmbeddedStorage(
  dataDir: string,
  options: {
    /** The partition of transactions.v1 each outbox row records (docs/ARCHITECTURE.md); none when not given. */
    outboxPartition?: OutboxPartitioner;
  } = {},
): Promise<Storage> {
  return settle(() => {
    const db = openDatabase(dataDir);
    const ping = db.prepare('SELECT 1');
    return {
      name: 'embedded',
      transactions: createTransactionStore(db, options.outboxPartition ?? (() => null)),
      idempotency: createEmbeddedIdempotencyStore(db),
      reencryption: createEmbeddedReencryption(db),
      outbox: createEmbeddedOutbox(db),
      stats: createEmbeddedStats(db),
      webhooks: createEmbeddedWebhookStore(db),
      alerts: createEmbeddedAlertStore(db),
      scores: createEmbeddedCreditScoreStore(db),
      ping: () =>
        settle(() => {
          ping.get();
        }),
      close: () =>
        settle(() => {
          if (db.isOpen) db.close();
        }),
    };
  });
}

const RECORD_COLUMNS =
  'id, user_id, full_name, transaction_date, amount_minor, currency, type, version, created_at, updated_at, deleted_at';

function createTransactionStore(db: DatabaseSync, partitionOf: OutboxPartitioner): TransactionStore {
  // the request path's writes: concurrent requests share one commit (one fsync)
  const commit = createGroupCommit(db);
  const insertRecord = db.prepare(
    `INSERT INTO transactions (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  const replaceRecord = db.prepare(
    `UPDATE transactions SET user_id = ?, full_name = ?, transaction_date = ?, amount_minor = ?,
       currency = ?, type = ?, version = ?, created_at = ?, updated_at = ?, deleted_at = ?
     WHERE id = ? AND version = ? AND deleted_at IS NULL`,
  );
  const insertAudit = db.prepare(
    `INSERT INTO audit (transaction_id, version, action, at, actor, full_name,
       transaction_date, amount_minor, currency, type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOutbox = db.prepare(
    'INSERT INTO outbox (event_id, user_id, payload, partition, trace_context) VALUES (?, ?, ?, ?, ?)',
  );
  const insertPending = db.prepare(
    'INSERT OR IGNORE INTO stats_pending (transaction_id, version, user_id, created_at) VALUES (?, ?, ?, ?)',
  );
  const selectRecord = db.prepare(`SELECT ${RECORD_COLUMNS} FROM transactions WHERE id = ?`);
  const selectAudit = db.prepare('SELECT * FROM audit WHERE transaction_id = ? ORDER BY version');
  const historyStatements = new Map<string, StatementSync>();

  function appendAuditAndEvent(write: TransactionWrite): void {
    const { audit, event, record } = write;
    insertAudit.run(
      record.id,
      audit.version,
      audit.action,
      audit.at.getTime(),
      audit.actor,
      audit.fullNameSealed,
      audit.state.transactionDate.getTime(),
      audit.state.amountMinor,
      audit.state.currency,
      audit.state.type,
    );
    insertOutbox.run(
      event.eventId,
      event.userId,
      toWire(event),
      partitionOf(event.userId),
      traceContextToText(write.traceContext),
    );
    insertPending.run(record.id, record.version, record.userId, record.updatedAt.getTime());
  }

  function listByUser(query: HistoryQuery): TransactionRecord[] {
    const conditions = ['user_id = ?', 'deleted_at IS NULL'];
    const params: SQLInputValue[] = [query.userId];
    if (query.from !== undefined) {
      conditions.push('transaction_date >= ?');
      params.push(query.from.getTime());
    }
    if (query.to !== undefined) {
      conditions.push('transaction_date < ?');
      params.push(query.to.getTime());
    }
    if (query.type !== undefined) {
      conditions.push('type = ?');
      params.push(query.type);
    }
    if (query.after !== undefined) {
      // A row value comparison SQLite can seek on with the history index.
      conditions.push('(transaction_date, id) < (?, ?)');
      params.push(query.after.transactionDate.getTime(), query.after.id);
    }
    const sql = `SELECT ${RECORD_COLUMNS} FROM transactions WHERE ${conditions.join(' AND ')}
      ORDER BY transaction_date DESC, id DESC LIMIT ?`;
    let statement = historyStatements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      historyStatements.set(sql, statement);
    }
    return statement.all(...params, query.limit).map(toRecord);
  }

  return {
    insert: async (write) => {
      if (write.record.version !== 1) throw new RangeError('a new transaction starts at version 1');
      await commit(() => {
        if (Number(insertRecord.run(...recordParams(write.record)).changes) === 0) {
          throw new DuplicateIdError(write.record.id);
        }
        appendAuditAndEvent(write);
      });
    },
    get: (id) =>
      settle(() => {
        const row = selectRecord.get(id);
        return row === undefined ? null : toRecord(row);
      }),
    replace: async (expectedVersion, write) => {
      if (write.record.version !== expectedVersion + 1) {
        throw new RangeError('a replacement carries expectedVersion + 1');
      }
      return commit(() => {
        const [id, ...fields] = recordParams(write.record);
        if (Number(replaceRecord.run(...fields, id, expectedVersion).changes) === 0) return false;
        appendAuditAndEvent(write);
        return true;
      });
    },
    listByUser: (query) => settle(() => listByUser(query)),
    auditTrail: (id) => settle(() => selectAudit.all(id).map(toAuditEntry)),
  };
}

/** Parameters in RECORD_COLUMNS order, id first. */
function recordParams(record: TransactionRecord): [string, ...SQLInputValue[]] {
  return [
    record.id,
    record.userId,
    record.fullNameSealed,
    record.transactionDate.getTime(),
    record.amountMinor,
    record.currency,
    record.type,
    record.version,
    record.createdAt.getTime(),
    record.updatedAt.getTime(),
    record.deletedAt?.getTime() ?? null,
  ];
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLOutputValue } from 'node:sqlite';
import type { AuditEntry, TransactionRecord, TransactionType } from '../../transactions/transaction.ts';
import { DependencyUnavailableError } from '../../errors.ts';

/**
 * SQLite plumbing shared by the embedded stores: opening the file durably, the schema and its
 * migrations, write transactions, and typed readers for rows (integers arrive as bigint so
 * amounts stay exact).
 */

export type Row = Record<string, SQLOutputValue>;

/** Each entry moves the schema one version up; append only, never edit a shipped one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE transactions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     full_name TEXT NOT NULL,
     transaction_date INTEGER NOT NULL,
     amount_minor INTEGER NOT NULL,
     currency TEXT NOT NULL,
     type TEXT NOT NULL CHECK (type IN ('credit', 'debit')),
     version INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     deleted_at INTEGER
   ) STRICT;
   CREATE INDEX transactions_history
     ON transactions (user_id, deleted_at, transaction_date DESC, id DESC);
   CREATE TABLE audit (
     transaction_id TEXT NOT NULL REFERENCES transactions (id),
     version INTEGER NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     full_name TEXT NOT NULL,
     transaction_date INTEGER NOT NULL,
     amount_minor INTEGER NOT NULL,
     currency TEXT NOT NULL,
     type TEXT NOT NULL,
     PRIMARY KEY (transaction_id, version)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL UNIQUE,
     user_id TEXT NOT NULL,
     payload TEXT NOT NULL,
     published_at INTEGER
   ) STRICT;
   CREATE TABLE idempotency_keys (
     scope TEXT NOT NULL,
     key TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     transaction_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
     status INTEGER,
     response_sealed TEXT,
     locked_until INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (scope, key)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);`,
  // Statistics per user and UTC day, and the markers of writes not projected into them yet.
  `CREATE TABLE day_totals (
     user_id TEXT NOT NULL,
     day TEXT NOT NULL,
     currency TEXT NOT NULL,
     day_count INTEGER NOT NULL,
     credit_count INTEGER NOT NULL,
     credit_total INTEGER NOT NULL,
     debit_count INTEGER NOT NULL,
     debit_total INTEGER NOT NULL,
     PRIMARY KEY (user_id, day, currency)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE user_stats (user_id TEXT PRIMARY KEY, updated_at INTEGER NOT NULL) STRICT;
   CREATE TABLE stats_pending (
     transaction_id TEXT NOT NULL,
     version INTEGER NOT NULL,
     user_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (transaction_id, version)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX stats_pending_user ON stats_pending (user_id);
   CREATE INDEX stats_pending_age ON stats_pending (created_at);
   CREATE INDEX outbox_unpublished ON outbox (published_at, seq);`,
  // Alerts (details as JSON text), the edge-trigger state of each user's rules, the last credit scores.
  `CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     rule TEXT NOT NULL,
     rule_key TEXT NOT NULL,
     severity TEXT NOT NULL,
     raised_at INTEGER NOT NULL,
     transaction_id TEXT NOT NULL,
     details TEXT NOT NULL,
     rules_version TEXT NOT NULL
   ) STRICT;
   CREATE INDEX alerts_by_user ON alerts (user_id, raised_at DESC, id DESC);
   CREATE TABLE alert_rule_states (
     user_id TEXT NOT NULL,
     rule_key TEXT NOT NULL,
     active INTEGER NOT NULL CHECK (active IN (0, 1)),
     crossings INTEGER NOT NULL,
     since TEXT,
     PRIMARY KEY (user_id, rule_key)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE credit_scores (
     user_id TEXT PRIMARY KEY,
     score INTEGER NOT NULL,
     band TEXT NOT NULL,
     model_version TEXT NOT NULL,
     computed_at INTEGER NOT NULL
   ) STRICT;`,
  // Webhook subscriptions (event types as a JSON array, the secret sealed) and their deliveries.
  `CREATE TABLE webhooks (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     event_types TEXT NOT NULL,
     secret_sealed TEXT NOT NULL,
     owner TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX webhooks_by_owner ON webhooks (owner, created_at, id);
   CREATE TABLE webhook_deliveries (
     id TEXT PRIMARY KEY,
     subscription_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     event_type TEXT NOT NULL,
     payload TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
     attempts INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     last_attempt_at INTEGER,
     last_error TEXT,
     delivered_at INTEGER
   ) STRICT;
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at, id);
   CREATE INDEX webhook_deliveries_by_subscription
     ON webhook_deliveries (subscription_id, created_at DESC, id DESC);`,
  // How far each user's alert rules were evaluated (a topic replay skips what came before).
  `CREATE TABLE alert_positions (
     user_id TEXT PRIMARY KEY,
     topic_partition INTEGER NOT NULL,
     topic_offset INTEGER NOT NULL,
     occurred_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;`,
  // The partition of transactions.v1 each event's key falls in (which relay publishes it; NULL
  // on rows written before, assigned by the relay), and events set aside as unpublishable. The
  // relay's query reads only pending rows of its partitions, through a partial index.
  `ALTER TABLE outbox ADD COLUMN partition INTEGER;
   ALTER TABLE outbox ADD COLUMN quarantined_at INTEGER;
   ALTER TABLE outbox ADD COLUMN quarantine_reason TEXT;
   CREATE INDEX outbox_relay ON outbox (partition, seq)
     WHERE published_at IS NULL AND quarantined_at IS NULL;
   CREATE INDEX outbox_quarantined ON outbox (quarantined_at, seq) WHERE quarantined_at IS NOT NULL;`,
  // The trace context (W3C traceparent/tracestate as JSON) of the write that recorded an event
  // and of the processing that queued a delivery, so the relay's publish and the webhook's send
  // continue that trace (docs/TRACING.md); NULL with tracing off.
  `ALTER TABLE outbox ADD COLUMN trace_context TEXT;
   ALTER TABLE webhook_deliveries ADD COLUMN trace_context TEXT;`,
];

export function openDatabase(dataDir: string): DatabaseSync {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // readBigInts: every INTEGER comes back as bigint, so an amount can never round through a double.
  const db = new DatabaseSync(join(dataDir, 'fido.sqlite'), { timeout: 5000, readBigInts: true });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a write acknowledged to a client survives a power cut, not only a process crash.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: DatabaseSync): void {
  const current = Number(readInt(db.prepare('PRAGMA user_version').get() ?? {}, 'user_version'));
  if (current > MIGRATIONS.length) {
    throw new Error(`${db.location() ?? 'database'} has schema ${current}, newer than this code knows`);
  }
  MIGRATIONS.slice(current).forEach((ddl, index) => {
    inWriteTransaction(db, () => {
      db.exec(ddl);
      db.exec(`PRAGMA user_version = ${current + index + 1}`);
    });
  });
}

/**
 * Runs `work` in BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so two writers
 * (another process on the same file) queue on busy_timeout instead of failing mid-way on upgrade.
 */
export function inWriteTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/**
 * Turns the synchronous work into the promise the ports promise, rejecting instead of throwing.
 * A file still locked by another process after busy_timeout is an unavailable dependency.
 */
export function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  }).catch((error: unknown) => {
    if (isLockTimeout(error)) throw new DependencyUnavailableError('database', error);
    throw error;
  });
}

function isLockTimeout(error: unknown): boolean {
  if (!(error instanceof Error) || !('errcode' in error) || typeof error.errcode !== 'number') return false;
  const primary = error.errcode & 0xff; // extended result codes keep the primary code in the low byte
  return primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
}

export function readText(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column}: expected text`);
  return value;
}

export function readInt(row: Row, column: string): bigint {
  const value = row[column];
  if (typeof value !== 'bigint') throw new TypeError(`column ${column}: expected an integer`);
  return value;
}

/** For versions, statuses and epoch milliseconds: all far inside Number's exact range. */
export function readNumber(row: Row, column: string): number {
  return Number(readInt(row, column));
}

export function readDate(row: Row, column: string): Date {
  return new Date(readNumber(row, column));
}

export function readNullable<T>(row: Row, column: string, read: (row: Row, column: string) => T): T | null {
  return row[column] === null ? null : read(row, column);
}

export function toRecord(row: Row): TransactionRecord {
  return {
    id: readText(row, 'id'),
    userId: readText(row, 'user_id'),
    fullNameSealed: readText(row, 'full_name'),
    transactionDate: readDate(row, 'transaction_date'),
    amountMinor: readInt(row, 'amount_minor'),
    currency: readText(row, 'currency'),
    type: readType(row),
    version: readNumber(row, 'version'),
    createdAt: readDate(row, 'created_at'),
    updatedAt: readDate(row, 'updated_at'),
    deletedAt: readNullable(row, 'deleted_at', readDate),
  };
}

export function toAuditEntry(row: Row): AuditEntry {
  const action = readText(row, 'action');
  if (action !== 'created' && action !== 'updated' && action !== 'deleted') {
    throw new TypeError(`unknown audit action ${action}`);
  }
  return {
    version: readNumber(row, 'version'),
    action,
    at: readDate(row, 'at'),
    actor: readText(row, 'actor'),
    fullNameSealed: readText(row, 'full_name'),
    state: {
      amountMinor: readInt(row, 'amount_minor'),
      currency: readText(row, 'currency'),
      type: readType(row),
      transactionDate: readDate(row, 'transaction_date'),
    },
  };
}

export function readType(row: Row): TransactionType {
  const type = readText(row, 'type');
  if (type !== 'credit' && type !== 'debit') throw new TypeError(`unknown transaction type ${type}`);
  return type;
}

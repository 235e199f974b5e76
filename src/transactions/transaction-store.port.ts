import type { AuditEntry, TransactionRecord, TransactionType, TransactionWrite } from './transaction.ts';

/** Keyset position in a user's history: newest transaction_date first, ties by id descending. */
export interface HistoryPosition {
  readonly transactionDate: Date;
  readonly id: string;
}

export interface HistoryQuery {
  readonly userId: string;
  /** Inclusive lower bound on transaction_date. */
  readonly from?: Date;
  /** Exclusive upper bound on transaction_date. */
  readonly to?: Date;
  readonly type?: TransactionType;
  /** Return only records strictly after this position in the order above. */
  readonly after?: HistoryPosition;
  readonly limit: number;
}

/**
 * Where transactions live. Each write applies the record, appends its audit line and records its
 * event in the outbox as ONE atomic operation (a single document on MongoDB, one SQLite
 * transaction on the embedded store), so no write can exist without its event.
 */
export interface TransactionStore {
  /** Fails with DuplicateIdError when the id exists. */
  insert(write: TransactionWrite): Promise<void>;
  /** The record, tombstones included (deletedAt set); null when the id never existed. */
  get(id: string): Promise<TransactionRecord | null>;
  /**
   * Replaces the record iff its stored version is `expectedVersion` and it is not deleted.
   * Returns false when another write won (or it was deleted) in between.
   */
  replace(expectedVersion: number, write: TransactionWrite): Promise<boolean>;
  /** Live (not deleted) records of a user in history order, at most `limit`. */
  listByUser(query: HistoryQuery): Promise<TransactionRecord[]>;
  /** The audit trail of a transaction, oldest version first; empty when unknown. */
  auditTrail(id: string): Promise<AuditEntry[]>;
}

export class DuplicateIdError extends Error {
  constructor(id: string) {
    super(`a record with id ${id} exists`);
    this.name = 'DuplicateIdError';
  }
}

import type { TraceCarrier } from '../telemetry/tracing.ts';

/** The domain's view of a transaction. Money is integer minor units (bigint), never a float. */
export type TransactionType = 'credit' | 'debit';

/** What a client may set: everything but the id, the version and the timestamps. */
export interface TransactionFields {
  readonly userId: string;
  readonly fullName: string;
  readonly transactionDate: Date;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly type: TransactionType;
}

export interface Transaction extends TransactionFields {
  readonly id: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * A transaction as stored: the name sealed (AES-256-GCM, see crypto/keyring.ts), a tombstone
 * time once deleted. Deleted records stay so the audit trail and the statistics can see them.
 */
export interface TransactionRecord {
  readonly id: string;
  readonly userId: string;
  readonly fullNameSealed: string;
  readonly transactionDate: Date;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly type: TransactionType;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly deletedAt: Date | null;
}

/** The money-relevant part of a version: what events carry (never the name). */
export interface EventState {
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly type: TransactionType;
  readonly transactionDate: Date;
}

export type TransactionEventType = 'transaction.created' | 'transaction.updated' | 'transaction.deleted';

/** Recorded atomically with the write that caused it (the outbox), published later. */
export interface TransactionEvent {
  readonly eventId: string;
  readonly type: TransactionEventType;
  readonly occurredAt: Date;
  readonly userId: string;
  readonly transactionId: string;
  readonly version: number;
  readonly before: EventState | null;
  readonly after: EventState | null;
}

/** One line of the audit trail: every version, who wrote it and when, deletion included. */
export interface AuditEntry {
  readonly version: number;
  readonly action: 'created' | 'updated' | 'deleted';
  readonly at: Date;
  readonly actor: string;
  readonly fullNameSealed: string;
  readonly state: EventState;
}

/** A write as the store must apply it: the new record, its event and its audit line, atomically. */
export interface TransactionWrite {
  readonly record: TransactionRecord;
  readonly event: TransactionEvent;
  readonly audit: AuditEntry;
  /** The request's trace context, stored with the event so its processing joins the trace. */
  readonly traceContext?: TraceCarrier;
}

export function eventStateOf(record: TransactionRecord): EventState {
  return {
    amountMinor: record.amountMinor,
    currency: record.currency,
    type: record.type,
    transactionDate: record.transactionDate,
  };
}

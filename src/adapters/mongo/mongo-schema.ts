import { MongoServerError } from 'mongodb';
import type {
  AuditEntry,
  EventState,
  TransactionEvent,
  TransactionRecord,
  TransactionType,
  TransactionWrite,
} from '../../transactions/transaction.ts';

/**
 * Document shapes of the transaction collections (snake_case, amounts as BSON Int64, dates as BSON
 * Date) and their mapping to the domain.
 */

interface StateDoc {
  amount_minor: bigint;
  currency: string;
  type: TransactionType;
  transaction_date: Date;
}

interface RecordFields {
  user_id: string;
  full_name: string;
  transaction_date: Date;
  amount_minor: bigint;
  currency: string;
  type: TransactionType;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** `transactions`: the newest committed version of a record, what reads and history pages see. */
export interface HeadDoc extends RecordFields {
  _id: string;
}

export interface AuditDoc {
  version: number;
  action: AuditEntry['action'];
  at: Date;
  actor: string;
  full_name: string;
  state: StateDoc;
}

/** `transaction_versions`: one immutable document per write, its audit line and its event. */
export interface VersionDoc extends RecordFields {
  _id: string;
  transaction_id: string;
  audit: AuditDoc;
  event: {
    event_id: string;
    type: TransactionEvent['type'];
    occurred_at: Date;
    user_id: string;
    transaction_id: string;
    version: number;
    before: StateDoc | null;
    after: StateDoc | null;
  };
}

export const isDuplicateKey = (error: unknown): boolean =>
  error instanceof MongoServerError && error.code === 11000;

/** JSON of the pair: unambiguous whatever characters the id holds. */
export const versionId = (transactionId: string, version: number): string =>
  JSON.stringify([transactionId, version]);

export function toHeadDoc(record: TransactionRecord): HeadDoc {
  return {
    _id: record.id,
    user_id: record.userId,
    full_name: record.fullNameSealed,
    transaction_date: record.transactionDate,
    amount_minor: record.amountMinor,
    currency: record.currency,
    type: record.type,
    version: record.version,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    deleted_at: record.deletedAt,
  };
}

export function toVersionDoc({ record, audit, event }: TransactionWrite): VersionDoc {
  return {
    ...toHeadDoc(record),
    _id: versionId(record.id, record.version),
    transaction_id: record.id,
    audit: {
      version: audit.version,
      action: audit.action,
      at: audit.at,
      actor: audit.actor,
      full_name: audit.fullNameSealed,
      state: toStateDoc(audit.state),
    },
    event: toEventDoc(event),
  };
}

/** The event as a version document (and a committed outbox marker) stores it. */
export function toEventDoc(event: TransactionEvent): VersionDoc['event'] {
  return {
    event_id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt,
    user_id: event.userId,
    transaction_id: event.transactionId,
    version: event.version,
    before: event.before && toStateDoc(event.before),
    after: event.after && toStateDoc(event.after),
  };
}

export function toRecord(doc: HeadDoc): TransactionRecord {
  return {
    id: doc._id,
    userId: doc.user_id,
    fullNameSealed: doc.full_name,
    transactionDate: doc.transaction_date,
    amountMinor: exactInt64(doc.amount_minor),
    currency: doc.currency,
    type: doc.type,
    version: doc.version,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
    deletedAt: doc.deleted_at,
  };
}

export function toAuditEntry(doc: AuditDoc): AuditEntry {
  return {
    version: doc.version,
    action: doc.action,
    at: doc.at,
    actor: doc.actor,
    fullNameSealed: doc.full_name,
    state: fromStateDoc(doc.state),
  };
}

/** The event a version document carries, as the outbox hands it to the relay. */
export function toEvent(doc: VersionDoc['event']): TransactionEvent {
  return {
    eventId: doc.event_id,
    type: doc.type,
    occurredAt: doc.occurred_at,
    userId: doc.user_id,
    transactionId: doc.transaction_id,
    version: doc.version,
    before: doc.before && fromStateDoc(doc.before),
    after: doc.after && fromStateDoc(doc.after),
  };
}

function fromStateDoc(doc: StateDoc): EventState {
  return {
    amountMinor: exactInt64(doc.amount_minor),
    currency: doc.currency,
    type: doc.type,
    transactionDate: doc.transaction_date,
  };
}

function toStateDoc(state: EventState): StateDoc {
  return {
    amount_minor: state.amountMinor,
    currency: state.currency,
    type: state.type,
    transaction_date: state.transactionDate,
  };
}

/** A double in a money field would mean data written outside this adapter: refuse it. */
export function exactInt64(value: unknown): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`money stored as ${typeof value}, not Int64`);
  return value;
}

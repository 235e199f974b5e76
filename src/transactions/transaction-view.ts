import type { Keyring } from '../crypto/keyring.ts';
import { formatAmount } from '../money/amount.ts';
import type { TransactionResponse } from './transactions.schemas.ts';
import type { Transaction, TransactionFields, TransactionRecord } from './transaction.ts';

/** Associated data binding a sealed name to its transaction and field. */
export const nameAad = (transactionId: string): string => `transactions/${transactionId}/full_name`;

export function openRecord(record: TransactionRecord, keyring: Keyring): Transaction {
  return withName(record, keyring.open(record.fullNameSealed, nameAad(record.id)));
}

/** The record with its name in clear, given by a caller that already has it (e.g. the creator). */
export function withName(record: TransactionRecord, fullName: string): Transaction {
  return {
    id: record.id,
    userId: record.userId,
    fullName,
    transactionDate: record.transactionDate,
    amountMinor: record.amountMinor,
    currency: record.currency,
    type: record.type,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function sealRecord(
  id: string,
  fields: TransactionFields,
  meta: { version: number; createdAt: Date; updatedAt: Date; deletedAt: Date | null },
  keyring: Keyring,
): TransactionRecord {
  return {
    id,
    userId: fields.userId,
    fullNameSealed: keyring.seal(fields.fullName, nameAad(id)),
    transactionDate: fields.transactionDate,
    amountMinor: fields.amountMinor,
    currency: fields.currency,
    type: fields.type,
    ...meta,
  };
}

export function toResponse(tx: Transaction): TransactionResponse {
  return {
    id: tx.id,
    user_id: tx.userId,
    full_name: tx.fullName,
    transaction_date: tx.transactionDate.toISOString(),
    transaction_amount: formatAmount(tx.amountMinor, tx.currency),
    transaction_type: tx.type,
    transaction_currency: tx.currency,
    version: tx.version,
    created_at: tx.createdAt.toISOString(),
    updated_at: tx.updatedAt.toISOString(),
  };
}

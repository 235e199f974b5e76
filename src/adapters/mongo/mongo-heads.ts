import type { Collection } from 'mongodb';
import type { TransactionRecord } from '../../transactions/transaction.ts';
import { isDuplicateKey, toHeadDoc, type HeadDoc } from './mongo-schema.ts';
import type { Guard } from './mongo-guard.ts';

/**
 * Moves the `transactions` head of a record forward to `record` (never backward). Used by the
 * writer after its commit, by a writer that lost a race, and by the outbox relay for a writer
 * that died between commit and head update. A first version is an insert (a duplicate key means
 * the head is there already): an indexed insert everywhere, where FerretDB 1.24 runs any update
 * as a scan of the collection (~60 ms at 20,000 heads, measured).
 */
export async function advanceHead(
  heads: Collection<HeadDoc>,
  guard: Guard,
  record: TransactionRecord,
): Promise<void> {
  const head = toHeadDoc(record);
  const { _id, ...fields } = head;
  try {
    await guard<unknown>(() =>
      record.version === 1
        ? heads.insertOne(head)
        : heads.updateOne({ _id, version: { $lt: record.version } }, { $set: fields }, { upsert: true }),
    );
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // the head already shows this version or a newer one
  }
}

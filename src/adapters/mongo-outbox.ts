import type { Collection } from 'mongodb';
import type { Outbox } from '../ports.ts';
import type { EventState, TransactionEvent } from '../transactions/transaction.ts';
import { advanceHead } from './mongo-heads.ts';
import { toRecord, type HeadDoc, type VersionDoc } from './mongo-schema.ts';
import type { Guard } from './mongo-storage.ts';

type StateDoc = NonNullable<VersionDoc['event']['before']>;

/**
 * The outbox is the commit log itself: every `transaction_versions` document carries its event,
 * unpublished while `published_at` is null. Before handing events out, heads lagging behind them
 * (a writer that died between commit and head update) are moved forward, so a consumer that reads
 * the current state after an event sees at least that event's write.
 */
export function createMongoOutbox(
  heads: Collection<HeadDoc>,
  versions: Collection<VersionDoc>,
  guard: Guard,
): Outbox {
  return {
    async pending(limit) {
      const docs = await guard(() =>
        versions.find({ published_at: null }).sort({ 'event.occurred_at': 1, _id: 1 }).limit(limit).toArray(),
      );
      if (docs.length === 0) return [];
      const newest = new Map<string, VersionDoc>();
      for (const doc of docs) {
        const seen = newest.get(doc.transaction_id);
        if (seen === undefined || seen.version < doc.version) newest.set(doc.transaction_id, doc);
      }
      const current = await guard(() =>
        heads.find({ _id: { $in: [...newest.keys()] } }, { projection: { version: 1 } }).toArray(),
      );
      const versionOf = new Map(current.map((head) => [head._id, head.version]));
      for (const [id, doc] of newest) {
        if ((versionOf.get(id) ?? 0) < doc.version)
          await advanceHead(heads, guard, toRecord({ ...doc, _id: id }));
      }
      return docs.map((doc) => ({ id: doc._id, event: toEvent(doc.event) }));
    },
    async markPublished(ids, at) {
      if (ids.length === 0) return;
      await guard(() => versions.updateMany({ _id: { $in: [...ids] } }, { $set: { published_at: at } }));
    },
    backlog: () => guard(() => versions.countDocuments({ published_at: null })),
  };
}

function toEvent(doc: VersionDoc['event']): TransactionEvent {
  return {
    eventId: doc.event_id,
    type: doc.type,
    occurredAt: doc.occurred_at,
    userId: doc.user_id,
    transactionId: doc.transaction_id,
    version: doc.version,
    before: toState(doc.before),
    after: toState(doc.after),
  };
}

function toState(doc: StateDoc | null): EventState | null {
  if (doc === null) return null;
  if (typeof doc.amount_minor !== 'bigint') throw new TypeError('amount_minor is not Int64');
  return {
    amountMinor: doc.amount_minor,
    currency: doc.currency,
    type: doc.type,
    transactionDate: doc.transaction_date,
  };
}

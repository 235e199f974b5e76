import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Outbox } from '../ports.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import { advanceHead } from './mongo-heads.ts';
import { toEvent, toRecord, type HeadDoc, type VersionDoc } from './mongo-schema.ts';
import type { PendingDoc } from './mongo-stats.ts';
import type { Guard } from './mongo-storage.ts';

/** A marker whose version never committed after this long is a write that died before its commit. */
const ORPHAN_AFTER_MS = 60_000;
const LOOKUP_CONCURRENCY = 10;

/**
 * The events live in the commit log (`transaction_versions`, each document holds its event); the
 * small `stats_pending` collection indexes the ones not yet published. A marker is inserted before
 * its write commits, flagged published by the relay, and deleted by the projector, so the relay
 * and readers query a collection the size of the backlog, not of the history. Before handing
 * events out, heads lagging behind them (a writer that died between commit and head update) are
 * moved forward, so a consumer reading the current state after an event sees that event's write.
 */
export function createMongoOutbox(
  heads: Collection<HeadDoc>,
  versions: Collection<VersionDoc>,
  markers: Collection<PendingDoc>,
  guard: Guard,
): Outbox {
  return {
    async pending(limit) {
      const waiting = await guard(() =>
        markers.find({ published: false }).sort({ created_at: 1, _id: 1 }).limit(limit).toArray(),
      );
      const orphans: string[] = [];
      // the marker's commit and its head, looked up for several markers at once: one marker at a
      // time made the relay's throughput one round trip pair per event, slower than the writes
      // it relays on a busy server; order is kept (a user's events go out oldest first)
      const lookup = async (marker: PendingDoc) => {
        const doc = await guard(() => versions.findOne({ _id: marker._id }));
        if (doc === null) {
          // not committed yet (the writer is between marker and commit), or never will be
          if (Date.now() - marker.created_at.getTime() > ORPHAN_AFTER_MS) orphans.push(marker._id);
          return null;
        }
        const head = await guard(() =>
          heads.findOne({ _id: doc.transaction_id }, { projection: { version: 1 } }),
        );
        if ((head?.version ?? 0) < doc.version)
          await advanceHead(heads, guard, toRecord({ ...doc, _id: doc.transaction_id }));
        return { id: marker._id, event: toEvent(doc.event) };
      };
      const entries: { id: string; event: TransactionEvent }[] = [];
      for (let i = 0; i < waiting.length; i += LOOKUP_CONCURRENCY) {
        const found = await Promise.all(waiting.slice(i, i + LOOKUP_CONCURRENCY).map(lookup));
        for (const entry of found) if (entry !== null) entries.push(entry);
      }
      if (orphans.length > 0)
        await guard(() => markers.bulkWrite(orphans.map((_id) => ({ deleteOne: { filter: { _id } } }))));
      return entries;
    },
    async markPublished(ids, at) {
      // one update per id (a filter on _id alone is what every MongoDB-protocol server serves
      // fast), in small bulks so no single command holds the server for long
      for (let i = 0; i < ids.length; i += 50) {
        const flag: AnyBulkWriteOperation<PendingDoc>[] = ids.slice(i, i + 50).map((_id) => ({
          updateOne: { filter: { _id }, update: { $set: { published: true, published_at: at } } },
        }));
        await guard(() => markers.bulkWrite(flag, { ordered: false }));
      }
    },
    backlog: () => guard(() => markers.countDocuments({ published: false })),
  };
}

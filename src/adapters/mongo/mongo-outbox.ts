import type { Collection, Filter } from 'mongodb';
import { DependencyUnavailableError } from '../../errors.ts';
import { partitionOf } from '../../events/partitioning.ts';
import { parseWire, toWire } from '../../events/transaction-events.ts';
import type { Outbox, OutboxEntry, RelaySlice } from '../../events/outbox.port.ts';
import type { TransactionWrite } from '../../transactions/transaction.ts';
import { traceContextOf } from '../../telemetry/stored-trace-context.ts';
import { advanceHead } from './mongo-heads.ts';
import { toEvent, toEventDoc, toRecord, type HeadDoc, type VersionDoc } from './mongo-schema.ts';
import type { PendingDoc } from './mongo-stats.ts';
import type { Guard } from './mongo-guard.ts';

/** A marker whose version never committed after this long is a write that died before its commit. */
const ORPHAN_AFTER_MS = 60_000;
/**
 * A marker not flagged committed after this long is checked against the commit log: its writer
 * died (or stalled) between its commit and the flag, or it was written before markers had the flag.
 * Younger ones are writes in flight, left for the next poll.
 */
const CHECK_AFTER_MS = 5_000;
const LOOKUP_CONCURRENCY = 10;

/**
 * The events live in the commit log (`transaction_versions`, each document holds its event); the
 * small `stats_pending` collection indexes the ones not yet published. A marker is inserted before
 * its write commits with the partition of its key; once the version is committed and the head
 * moved to it, the writer flags the marker committed and copies the event into it. So the relay's
 * common path reads only markers: one indexed query for its partitions, one update marking the
 * batch published. A marker left unflagged (a writer that died or stalled after its commit, or a
 * requeued one) is checked against the commit log, and a head lagging behind its event is moved
 * forward first, so a consumer reading the current state after an event sees that event's write.
 * Nothing here relies on a conditional update being atomic: two relays (a rebalance) at worst
 * both publish an event, never lose one.
 */
export function createMongoOutbox(
  heads: Collection<HeadDoc>,
  versions: Collection<VersionDoc>,
  markers: Collection<PendingDoc>,
  guard: Guard,
): Outbox {
  let operations = 0;
  const op = <T>(work: () => Promise<T>): Promise<T> => {
    operations += 1;
    return guard(work);
  };

  /** The commit of an unflagged marker, with its head brought up to it; null while not committed. */
  async function checkCommitted(marker: PendingDoc, orphans: string[]): Promise<OutboxEntry | null> {
    const doc = await op(() => versions.findOne({ _id: marker._id }));
    if (doc === null) {
      if (Date.now() - marker.created_at.getTime() > ORPHAN_AFTER_MS) orphans.push(marker._id);
      return null;
    }
    const head = await op(() => heads.findOne({ _id: doc.transaction_id }, { projection: { version: 1 } }));
    if ((head?.version ?? 0) < doc.version) {
      operations += 1;
      await advanceHead(heads, guard, toRecord({ ...doc, _id: doc.transaction_id }));
    }
    return withStoredContext(readEntry(marker._id, doc.event, marker.user_id), marker);
  }

  return {
    async pending(limit, slice) {
      const filter: Filter<PendingDoc> = { published: false, quarantined_at: null };
      // null also matches markers without the field: written before the count was known
      if (slice !== undefined) filter.partition = { $in: [...slice.partitions, null] };
      const waiting = await op(() =>
        markers.find(filter).sort({ created_at: 1, _id: 1 }).limit(limit).toArray(),
      );
      const mine = await assignPartitions(waiting, slice);
      const orphans: string[] = [];
      const now = Date.now();
      const found: (OutboxEntry | null)[] = [];
      // unflagged markers are rare (a writer that died): their lookups run a few at a time
      for (let i = 0; i < mine.length; i += LOOKUP_CONCURRENCY) {
        const chunk = mine.slice(i, i + LOOKUP_CONCURRENCY).map(async (marker) => {
          if (marker.committed === true && marker.event !== undefined)
            return withStoredContext(readEntry(marker._id, marker.event, marker.user_id), marker);
          if (now - marker.created_at.getTime() < CHECK_AFTER_MS) return null; // in flight
          return checkCommitted(marker, orphans);
        });
        found.push(...(await Promise.all(chunk)));
      }
      if (orphans.length > 0)
        await op(() => markers.bulkWrite(orphans.map((_id) => ({ deleteOne: { filter: { _id } } }))));
      return found.filter((entry) => entry !== null);
    },

    async markPublished(ids, at) {
      if (ids.length === 0) return 0;
      // one command for the batch; those already flagged (another relay during a rebalance, or
      // this one after a failed mark) are not counted as first publications
      const result = await op(() =>
        markers.updateMany(
          { _id: { $in: [...ids] }, published: false },
          { $set: { published: true, published_at: at } },
        ),
      );
      return result.modifiedCount;
    },

    async quarantine(items, at) {
      if (items.length === 0) return;
      await op(() =>
        markers.bulkWrite(
          items.map(({ id, reason }) => ({
            updateOne: {
              filter: { _id: id },
              update: { $set: { quarantined_at: at, quarantine_reason: reason } },
            },
          })),
          { ordered: false },
        ),
      );
    },

    async quarantined(limit) {
      const docs = await guard(() =>
        markers
          .find({ quarantined_at: { $gt: new Date(0) } })
          .sort({ quarantined_at: 1, _id: 1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map((d) => ({
        id: d._id,
        userId: d.user_id,
        reason: d.quarantine_reason ?? '',
        at: d.quarantined_at ?? new Date(0),
      }));
    },

    async requeue(id) {
      // unflagged, so the relay reads the event again from the commit log, where it was fixed
      const result = await guard(() =>
        markers.updateOne(
          { _id: id, quarantined_at: { $gt: new Date(0) } },
          {
            $set: { quarantined_at: null, quarantine_reason: null, committed: false, published: false },
          },
        ),
      );
      return result.matchedCount === 1;
    },

    backlog: (slice) =>
      guard(() =>
        markers.countDocuments({
          published: false,
          quarantined_at: null,
          ...(slice === undefined ? {} : { partition: { $in: [...slice.partitions] } }),
        }),
      ),

    operations: () => operations,
  };

  /**
   * The markers of the slice's partitions. Those without a partition get theirs now (Kafka's
   * partitioner over the slice's count), one update per partition found in the page: every relay
   * computes the same value, so concurrent relays writing it need no atomic update, and the next
   * query finds each at its owner only.
   */
  async function assignPartitions(waiting: PendingDoc[], slice?: RelaySlice): Promise<PendingDoc[]> {
    if (slice === undefined) return waiting;
    const byPartition = new Map<number, string[]>();
    for (const m of waiting) {
      if (m.partition !== null && m.partition !== undefined) continue;
      m.partition = partitionOf(m.user_id, slice.count);
      byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m._id]);
    }
    for (const [partition, ids] of byPartition) {
      await op(() => markers.updateMany({ _id: { $in: ids }, partition: null }, { $set: { partition } }));
    }
    const owned = new Set(slice.partitions);
    return waiting.filter((m) => owned.has(m.partition ?? -1));
  }
}

/**
 * The writer's last step, after its head update: the marker says the version is committed and
 * carries its event, so the relay needs no lookup. Of two writers of one version only the winner
 * gets here, so the copy is the committed event. If this fails the write stands (it is
 * committed); the relay finds the unflagged marker and checks the commit log itself.
 */
export async function flagCommitted(
  markers: Collection<PendingDoc>,
  guard: Guard,
  write: TransactionWrite,
  markerId: string,
): Promise<void> {
  try {
    await guard(() =>
      markers.updateOne({ _id: markerId }, { $set: { committed: true, event: toEventDoc(write.event) } }),
    );
  } catch (error) {
    if (!(error instanceof DependencyUnavailableError)) throw error;
  }
}

/**
 * The stored event as the relay hands it out, checked the way a consumer will check it (the wire
 * schema), so a row no consumer could read is quarantined here instead of halting anyone.
 */
function readEntry(id: string, stored: VersionDoc['event'], userId: string): OutboxEntry {
  const unreadable = (reason: string): OutboxEntry => ({
    id,
    unreadable: { key: userId, stored: storedText(stored), reason },
  });
  try {
    const parsed = parseWire(toWire(toEvent(stored)));
    return parsed.ok ? { id, event: parsed.event } : unreadable(parsed.reason);
  } catch (error) {
    return unreadable(error instanceof Error ? error.message : String(error));
  }
}

/** The write's trace context from its marker, for the relay to hand on (docs/TRACING.md). */
function withStoredContext(entry: OutboxEntry, marker: PendingDoc): OutboxEntry {
  const carrier = traceContextOf(marker.trace_context);
  return 'event' in entry && carrier !== undefined ? { ...entry, traceContext: carrier } : entry;
}

const storedText = (stored: unknown): string =>
  JSON.stringify(stored, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

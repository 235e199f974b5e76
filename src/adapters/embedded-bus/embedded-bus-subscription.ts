import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { ConsumedMessage, SubscribeOptions, Subscription } from '../../events/event-bus.port.ts';
import { inWriteTransaction, readInt, readNumber, readText, type Row } from '../sqlite/embedded-sqlite.ts';

/**
 * A consumer of the embedded log. A group's partitions are not split between members: one
 * member holds the group's lease and owns them all, the others wait and take over when it closes
 * (at once) or dies in another process (when its lease expires). That keeps one key's messages
 * in order without a rebalance protocol; the cost is no parallelism within a group, which a
 * single-machine run does not need. The owner polls from the group's committed offsets, hands
 * batches to `handle`, and commits only after it resolves (fenced by the lease); if it throws,
 * the same messages are read again after a backoff.
 */

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface EmbeddedLog {
  readonly db: DatabaseSync;
  /** The partitions of these topics; throws for a topic never created (as Kafka does). */
  partitions(topics: readonly string[]): PartitionRef[];
  /** Calls `listener` after every publish through this bus; returns the way to stop. */
  onPublish(listener: () => void): () => void;
}

const POLL_MS = 20;
/**
 * After a publish wakes the consumer it waits this long before reading, so the events of
 * concurrent writes are handled as one batch (one commit of statistics, scores and offsets per
 * batch instead of per event: on one disk each commit is an fsync on the event loop). Like a
 * Kafka fetch's max wait, it bounds the added latency.
 */
const BATCH_LINGER_MS = 10;
const LEASE_MS = 10_000;
const MAX_BACKOFF_MS = 5_000;

export function startEmbeddedSubscription(
  log: EmbeddedLog,
  options: SubscribeOptions,
  onError: (error: unknown) => void,
): Subscription {
  const { db } = log;
  const { groupId, maxBatch } = options;
  const owner = randomUUID();
  const partitions = log.partitions(options.topics);
  const sql = {
    lease: db.prepare('SELECT owner, expires_at FROM group_leases WHERE group_id = ?'),
    takeLease: db.prepare(
      `INSERT INTO group_leases (group_id, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE group_leases.owner = excluded.owner OR group_leases.expires_at <= ?`,
    ),
    release: db.prepare('DELETE FROM group_leases WHERE group_id = ? AND owner = ?'),
    read: db.prepare(
      `SELECT topic, partition, offset, key, value, headers FROM messages
       WHERE topic = ? AND partition = ? AND offset >= COALESCE(
         (SELECT committed FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?), 0)
       ORDER BY offset LIMIT ?`,
    ),
    // the log end minus the committed offset, or minus the first message kept when none is
    lag: db.prepare(
      `SELECT p.next_offset - COALESCE(
         (SELECT committed FROM group_offsets g WHERE g.group_id = ? AND g.topic = p.topic AND g.partition = p.partition),
         (SELECT MIN(offset) FROM messages m WHERE m.topic = p.topic AND m.partition = p.partition),
         p.next_offset) AS lag
       FROM partitions p WHERE p.topic = ? AND p.partition = ?`,
    ),
    commit: db.prepare(
      `INSERT INTO group_offsets (group_id, topic, partition, committed) VALUES (?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET committed = excluded.committed`,
    ),
  };
  let leaseUntil = 0;
  let firstPartition = 0;
  const state = { closing: false };
  // A call, so the compiler does not narrow the flag across the awaits that change it.
  const isClosing = () => state.closing;

  /** True while this member owns the group; renews the lease when half of it has passed. */
  function holdLease(): boolean {
    const now = Date.now();
    if (leaseUntil - now > LEASE_MS / 2) return true;
    const row = sql.lease.get(groupId);
    if (row !== undefined && readText(row, 'owner') !== owner && readNumber(row, 'expires_at') > now) {
      leaseUntil = 0;
      return false;
    }
    const taken = inWriteTransaction(db, () => sql.takeLease.run(groupId, owner, now + LEASE_MS, now));
    leaseUntil = taken.changes > 0 ? now + LEASE_MS : 0;
    return leaseUntil > 0;
  }

  /** Up to maxBatch messages after the committed offsets, starting at a rotating partition. */
  function read(): ConsumedMessage[] {
    const batch: ConsumedMessage[] = [];
    for (let i = 0; i < partitions.length && batch.length < maxBatch; i++) {
      const ref = partitions[(firstPartition + i) % partitions.length];
      if (ref === undefined) continue;
      const { topic, partition } = ref;
      const rows = sql.read.all(topic, partition, groupId, topic, partition, maxBatch - batch.length);
      batch.push(...rows.map(toConsumed));
    }
    firstPartition = (firstPartition + 1) % Math.max(partitions.length, 1);
    return batch;
  }

  /** Commits the batch unless another member took the group meanwhile (it delivers it again). */
  function commit(batch: readonly ConsumedMessage[]): void {
    const next = new Map<string, [string, number, bigint]>();
    for (const m of batch)
      next.set(`${m.topic}:${m.partition}`, [m.topic, m.partition, BigInt(m.offset) + 1n]);
    inWriteTransaction(db, () => {
      const row = sql.lease.get(groupId);
      if (row === undefined || readText(row, 'owner') !== owner) {
        leaseUntil = 0;
        return;
      }
      for (const [topic, partition, offset] of next.values())
        sql.commit.run(groupId, topic, partition, offset);
    });
  }

  async function handle(batch: readonly ConsumedMessage[]): Promise<void> {
    // A long batch must not let the lease lapse, or another process would take the group.
    const keepAlive = setInterval(() => {
      try {
        holdLease();
      } catch (error) {
        onError(error);
      }
    }, LEASE_MS / 4);
    try {
      await options.handle(batch);
    } finally {
      clearInterval(keepAlive);
    }
  }

  const wake = createWaker();
  const stopListening = log.onPublish(wake.publish);
  let owned = holdLease();

  const loop = (async () => {
    let backoffMs = 0;
    while (!isClosing()) {
      let more = false;
      try {
        owned = holdLease();
        const batch = owned ? read() : [];
        if (batch.length > 0) {
          await handle(batch);
          commit(batch);
          more = batch.length === maxBatch;
        }
        backoffMs = 0;
      } catch (error) {
        if (!isClosing()) onError(error);
        backoffMs = Math.min(Math.max(backoffMs * 2, 100), MAX_BACKOFF_MS);
        await wake.sleep(backoffMs, false);
        continue;
      }
      if (!more) {
        await wake.sleep(POLL_MS, true);
        if (!isClosing()) await new Promise((resolve) => setTimeout(resolve, BATCH_LINGER_MS));
      }
    }
    stopListening();
    inWriteTransaction(db, () => sql.release.run(groupId, owner));
    owned = false;
  })();

  return {
    assignments: () => (owned ? partitions.map(({ topic, partition }) => ({ topic, partition })) : []),
    lag: () =>
      // in a promise: a busy or closed file rejects rather than throws
      new Promise((resolve) => {
        resolve(
          (owned ? partitions : []).map(({ topic, partition }) => {
            const row = sql.lag.get(groupId, topic, partition);
            return { topic, partition, lag: row === undefined ? 0 : Number(readInt(row, 'lag')) };
          }),
        );
      }),
    async close() {
      state.closing = true;
      wake.close();
      await loop;
    },
  };
}

/** Sleeps that a local publish (when asked) or closing ends early; a publish is never missed. */
function createWaker() {
  let published = false;
  let closed = false;
  let wake: ((byPublish: boolean) => void) | undefined;
  return {
    publish: () => {
      published = true;
      wake?.(true);
    },
    close: () => {
      closed = true;
      wake?.(false);
    },
    sleep: async (ms: number, onPublish: boolean): Promise<void> => {
      if (closed || (onPublish && published)) {
        published = false;
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = (byPublish) => {
          if (byPublish && !onPublish) return;
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      published = false;
    },
  };
}

function toConsumed(row: Row): ConsumedMessage {
  return {
    topic: readText(row, 'topic'),
    partition: readNumber(row, 'partition'),
    offset: readInt(row, 'offset').toString(),
    key: readText(row, 'key'),
    value: readText(row, 'value'),
    headers: JSON.parse(readText(row, 'headers')) as Record<string, string>,
  };
}

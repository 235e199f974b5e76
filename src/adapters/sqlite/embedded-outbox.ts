import type { DatabaseSync } from 'node:sqlite';
import { partitionOf } from '../../events/partitioning.ts';
import { parseWire } from '../../events/transaction-events.ts';
import type { Outbox, OutboxEntry, RelaySlice } from '../../events/outbox.port.ts';
import { traceContextFromText, withTraceContext } from '../../telemetry/stored-trace-context.ts';
import {
  inWriteTransaction,
  readInt,
  readNullable,
  readNumber,
  readText,
  settle,
  type Row,
} from './embedded-sqlite.ts';

/**
 * The `outbox` table, written in the same SQLite transaction as each write, in commit order, with
 * the partition of transactions.v1 its key falls in. Its payload is the event exactly as it goes
 * on the bus (src/events/transaction-events.ts); a payload that no longer parses is handed out as
 * unreadable, for the relay to quarantine, instead of stopping the relay.
 */
export function createEmbeddedOutbox(db: DatabaseSync): Outbox {
  const pendingOf = (where: string) =>
    db.prepare(
      `SELECT seq, user_id, partition, payload, trace_context FROM outbox
       WHERE published_at IS NULL AND quarantined_at IS NULL ${where} ORDER BY seq LIMIT ?`,
    );
  const sql = {
    pending: pendingOf(''),
    // the slice's partitions, and rows written before the partition count was known
    pendingOfSlice: pendingOf('AND (partition IN (SELECT value FROM json_each(?)) OR partition IS NULL)'),
    assign: db.prepare('UPDATE outbox SET partition = ? WHERE seq = ? AND partition IS NULL'),
    mark: db.prepare(
      `UPDATE outbox SET published_at = ?
       WHERE seq IN (SELECT value FROM json_each(?)) AND published_at IS NULL`,
    ),
    quarantine: db.prepare('UPDATE outbox SET quarantined_at = ?, quarantine_reason = ? WHERE seq = ?'),
    quarantined: db.prepare(
      `SELECT seq, user_id, quarantine_reason, quarantined_at FROM outbox
       WHERE quarantined_at IS NOT NULL ORDER BY quarantined_at, seq LIMIT ?`,
    ),
    requeue: db.prepare(
      `UPDATE outbox SET quarantined_at = NULL, quarantine_reason = NULL
       WHERE seq = ? AND quarantined_at IS NOT NULL`,
    ),
    backlog: db.prepare(
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND quarantined_at IS NULL',
    ),
    sliceBacklog: db.prepare(
      `SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND quarantined_at IS NULL
       AND partition IN (SELECT value FROM json_each(?))`,
    ),
  };
  let operations = 0;
  const statement = <T>(work: () => T): T => {
    operations += 1;
    return work();
  };

  function pending(limit: number, slice?: RelaySlice): OutboxEntry[] {
    const rows =
      slice === undefined
        ? statement(() => sql.pending.all(limit))
        : statement(() => sql.pendingOfSlice.all(JSON.stringify(slice.partitions), limit));
    if (slice === undefined) return rows.map(toEntry);
    // rows written before the count was known get their partition, the same in every relay
    const unassigned = rows.filter((row) => row.partition === null);
    if (unassigned.length > 0) {
      operations += unassigned.length - 1; // one UPDATE per row, in one transaction
      statement(() => {
        inWriteTransaction(db, () => {
          for (const row of unassigned)
            sql.assign.run(partitionOf(readText(row, 'user_id'), slice.count), readInt(row, 'seq'));
        });
      });
    }
    const owned = new Set(slice.partitions);
    return rows
      .filter((row) =>
        owned.has(
          readNullable(row, 'partition', readNumber) ?? partitionOf(readText(row, 'user_id'), slice.count),
        ),
      )
      .map(toEntry);
  }

  return {
    pending: (limit, slice) => settle(() => pending(limit, slice)),
    markPublished: (ids, at) =>
      settle(() => {
        if (ids.length === 0) return 0;
        // one statement for the batch; rows another relay marked meanwhile are not first publications
        const run = statement(() => sql.mark.run(at.getTime(), JSON.stringify(ids.map(Number))));
        return Number(run.changes);
      }),
    quarantine: (items, at) =>
      settle(() => {
        if (items.length === 0) return;
        operations += items.length - 1; // one UPDATE per row, in one transaction
        statement(() => {
          inWriteTransaction(db, () => {
            for (const { id, reason } of items) sql.quarantine.run(at.getTime(), reason, BigInt(id));
          });
        });
      }),
    quarantined: (limit) =>
      settle(() =>
        sql.quarantined.all(limit).map((row) => ({
          id: String(readInt(row, 'seq')),
          userId: readText(row, 'user_id'),
          reason: readText(row, 'quarantine_reason'),
          at: new Date(readNumber(row, 'quarantined_at')),
        })),
      ),
    requeue: (id) =>
      settle(() => {
        if (!/^\d{1,18}$/.test(id)) return false;
        return Number(sql.requeue.run(BigInt(id)).changes) === 1;
      }),
    backlog: (slice) =>
      settle(() => {
        const row =
          slice === undefined ? sql.backlog.get() : sql.sliceBacklog.get(JSON.stringify(slice.partitions));
        return Number(readInt(row ?? {}, 'n'));
      }),
    operations: () => operations,
  };
}

function toEntry(row: Row): OutboxEntry {
  const id = String(readInt(row, 'seq'));
  const payload = readText(row, 'payload');
  const parsed = parseWire(payload);
  if (parsed.ok)
    return { id, event: parsed.event, ...withTraceContext(traceContextFromText(row.trace_context)) };
  return { id, unreadable: { key: readText(row, 'user_id'), stored: payload, reason: parsed.reason } };
}

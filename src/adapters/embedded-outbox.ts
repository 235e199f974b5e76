import type { DatabaseSync } from 'node:sqlite';
import { parseWire } from '../events/transaction-events.ts';
import type { Outbox } from '../ports.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import { inWriteTransaction, readInt, readText, settle } from './embedded-sqlite.ts';

/**
 * The `outbox` table, written in the same SQLite transaction as each write, in commit order. Its
 * payload is the event exactly as it goes on the bus (src/events/transaction-events.ts).
 */
export function createEmbeddedOutbox(db: DatabaseSync): Outbox {
  const pending = db.prepare(
    'SELECT seq, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?',
  );
  const mark = db.prepare('UPDATE outbox SET published_at = ? WHERE seq = ?');
  const backlog = db.prepare('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
  return {
    pending: (limit) =>
      settle(() =>
        pending.all(limit).map((row) => ({
          id: String(readInt(row, 'seq')),
          event: toEvent(readText(row, 'payload')),
        })),
      ),
    markPublished: (ids, at) =>
      settle(() => {
        inWriteTransaction(db, () => {
          for (const id of ids) mark.run(at.getTime(), BigInt(id));
        });
      }),
    backlog: () => settle(() => Number(readInt(backlog.get() ?? {}, 'n'))),
  };
}

function toEvent(payload: string): TransactionEvent {
  const parsed = parseWire(payload);
  // written by this adapter from a valid event: a row that does not parse is corruption
  if (!parsed.ok) throw new Error(`outbox row does not hold a valid event: ${parsed.reason}`);
  return parsed.event;
}

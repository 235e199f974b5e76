import type { DatabaseSync } from 'node:sqlite';
import type { Outbox } from '../ports.ts';
import type { EventState, TransactionEvent } from '../transactions/transaction.ts';
import { inWriteTransaction, readInt, readText, settle } from './embedded-sqlite.ts';

interface StatePayload {
  amount_minor: string;
  currency: string;
  type: 'credit' | 'debit';
  transaction_date: string;
}
interface EventPayload {
  event_id: string;
  type: TransactionEvent['type'];
  occurred_at: string;
  user_id: string;
  transaction_id: string;
  version: number;
  before: StatePayload | null;
  after: StatePayload | null;
}

/** The `outbox` table, written in the same SQLite transaction as each write, in commit order. */
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
          event: toEvent(JSON.parse(readText(row, 'payload')) as EventPayload),
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

function toEvent(p: EventPayload): TransactionEvent {
  const state = (s: StatePayload | null): EventState | null =>
    s === null
      ? null
      : {
          amountMinor: BigInt(s.amount_minor),
          currency: s.currency,
          type: s.type,
          transactionDate: new Date(s.transaction_date),
        };
  return {
    eventId: p.event_id,
    type: p.type,
    occurredAt: new Date(p.occurred_at),
    userId: p.user_id,
    transactionId: p.transaction_id,
    version: p.version,
    before: state(p.before),
    after: state(p.after),
  };
}

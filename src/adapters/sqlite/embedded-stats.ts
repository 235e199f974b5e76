import type { DatabaseSync } from 'node:sqlite';
import type { AmountRow, CurrencyTotals, DayTotals } from '../../analytics/day-totals.ts';
import type { StatsStore } from '../../analytics/stats-store.port.ts';
import {
  inWriteTransaction,
  readDate,
  readInt,
  readNumber,
  readText,
  readType,
  settle,
  type Row,
} from './embedded-sqlite.ts';

/**
 * Statistics in SQLite: `day_totals` holds one row per user, day and currency (day_count repeats
 * the day's total count on each of its rows); `stats_pending` the writes not projected yet, which
 * the write transaction itself inserts (see embedded-storage.ts).
 */
export function createEmbeddedStats(db: DatabaseSync): StatsStore {
  const live = db.prepare(
    `SELECT amount_minor, currency, type, transaction_date FROM transactions
     WHERE user_id = ? AND deleted_at IS NULL AND transaction_date >= ? AND transaction_date < ?`,
  );
  const everHad = db.prepare('SELECT 1 AS one FROM transactions WHERE user_id = ? LIMIT 1');
  const known = db.prepare('SELECT updated_at FROM user_stats WHERE user_id = ?');
  const days = db.prepare('SELECT * FROM day_totals WHERE user_id = ?');
  const deleteDay = db.prepare('DELETE FROM day_totals WHERE user_id = ? AND day = ?');
  const insertDay = db.prepare(
    `INSERT INTO day_totals (user_id, day, currency, day_count, credit_count, credit_total, debit_count, debit_total)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const touch = db.prepare(
    'INSERT INTO user_stats (user_id, updated_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at',
  );
  const anyPending = db.prepare('SELECT 1 AS one FROM stats_pending WHERE user_id = ? LIMIT 1');
  const clear = db.prepare('DELETE FROM stats_pending WHERE transaction_id = ? AND version = ?');
  const stale = db.prepare('SELECT * FROM stats_pending WHERE created_at < ? ORDER BY created_at LIMIT ?');
  const users = db.prepare('SELECT user_id FROM user_stats WHERE user_id > ? ORDER BY user_id LIMIT ?');

  function writeDays(userId: string, changes: ReadonlyMap<string, DayTotals | null>, at: Date): void {
    for (const [day, totals] of changes) {
      deleteDay.run(userId, day);
      for (const [currency, t] of Object.entries(totals?.currencies ?? {})) {
        insertDay.run(
          userId,
          day,
          currency,
          totals?.count ?? 0,
          t.creditCount,
          t.creditTotal,
          t.debitCount,
          t.debitTotal,
        );
      }
    }
    touch.run(userId, at.getTime());
  }

  const toRow = (row: Row): AmountRow => ({
    amountMinor: readInt(row, 'amount_minor'),
    currency: readText(row, 'currency'),
    type: readType(row),
    transactionDate: readDate(row, 'transaction_date'),
  });

  return {
    liveInRange: (userId, from, to) =>
      settle(() => live.all(userId, from.getTime(), to.getTime()).map(toRow)),
    liveOfUser: (userId) =>
      settle(() => ({
        rows: live.all(userId, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).map(toRow),
        everHad: everHad.get(userId) !== undefined,
      })),
    read: (userId) =>
      settle(() => {
        const row = known.get(userId);
        if (row === undefined) return null;
        const byDay = new Map<string, { count: number; currencies: Record<string, CurrencyTotals> }>();
        for (const r of days.all(userId)) {
          const day = byDay.get(readText(r, 'day')) ?? { count: readNumber(r, 'day_count'), currencies: {} };
          day.currencies[readText(r, 'currency')] = {
            creditCount: readNumber(r, 'credit_count'),
            creditTotal: readInt(r, 'credit_total'),
            debitCount: readNumber(r, 'debit_count'),
            debitTotal: readInt(r, 'debit_total'),
          };
          byDay.set(readText(r, 'day'), day);
        }
        return { days: byDay, updatedAt: readDate(row, 'updated_at') };
      }),
    saveDays: (userId, changes, at) =>
      settle(() => {
        inWriteTransaction(db, () => {
          writeDays(userId, changes, at);
        });
      }),
    saveProjection: (daysByUser, projected, at) =>
      settle(() => {
        // one commit (one fsync) for the whole batch instead of two per user
        inWriteTransaction(db, () => {
          for (const [userId, changes] of daysByUser) writeDays(userId, changes, at);
          for (const item of projected) clear.run(item.transactionId, item.version);
        });
      }),
    hasPending: (userId) => settle(() => anyPending.get(userId) !== undefined),
    clearPending: (items) =>
      settle(() => {
        inWriteTransaction(db, () => {
          for (const item of items) clear.run(item.transactionId, item.version);
        });
      }),
    stalePending: (before, limit) =>
      settle(() =>
        stale.all(before.getTime(), limit).map((r) => ({
          userId: readText(r, 'user_id'),
          transactionId: readText(r, 'transaction_id'),
          version: readNumber(r, 'version'),
        })),
      ),
    userIds: (after, limit) => settle(() => users.all(after ?? '', limit).map((r) => readText(r, 'user_id'))),
  };
}

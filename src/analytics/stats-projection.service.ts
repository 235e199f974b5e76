import {
  dayOf,
  dayStart,
  nextDay,
  sameDay,
  totalsByDay,
  type AmountRow,
  type DayTotals,
} from './day-totals.ts';
import type { StatsStore } from './stats-store.port.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import { eventsByUser, mapBounded } from '../events/per-user.ts';

/**
 * Keeps per-user statistics exact by RECOMPUTING each day an event touches (its before and after
 * dates) from the current state of the user's transactions, instead of adding deltas. A
 * recomputation is idempotent and order-independent: a duplicate, a redelivery after a crash or
 * a replay of the whole topic recomputes the same days from the same state and changes nothing.
 * Only after the days are saved are the events' pending markers cleared (read-your-writes).
 */
export function createStatsProjector(
  stats: StatsStore,
  clock: () => Date,
  /**
   * Drops the user's cached reads once their events are projected. The API already did so when it
   * acknowledged each write; this is the durable backstop for a write whose instance could not
   * reach the cache and then died before its retry (the event survives in the log; memory does not).
   */
  invalidate: (userId: string) => Promise<void>,
  /**
   * Also read this much before the first touched day, and hand the rows back: the alert rules'
   * velocity window then needs no read of its own (one scan of the user's transactions per batch).
   */
  lookbackMs = 0,
) {
  /** The user's touched days recomputed, and the rows read (from lookback before the first day). */
  async function recomputeUser(
    userId: string,
    events: readonly TransactionEvent[],
  ): Promise<{ changes: Map<string, DayTotals | null>; rows: AmountRow[] }> {
    const days = new Set<string>();
    for (const event of events) {
      for (const state of [event.before, event.after]) if (state) days.add(dayOf(state.transactionDate));
    }
    // one read for the span of touched days rather than one per day: fewer round trips, and a
    // server without range pushdown scans the user's transactions once per batch, not per day
    const sorted = [...days].sort();
    const first = sorted[0];
    const last = sorted.at(-1);
    if (first === undefined || last === undefined) return { changes: new Map(), rows: [] };
    const start = dayStart(first);
    const rows = await stats.liveInRange(userId, new Date(start.getTime() - lookbackMs), nextDay(last));
    const totals = totalsByDay(rows.filter((row) => row.transactionDate >= start));
    return { changes: new Map(sorted.map((day) => [day, totals.get(day) ?? null])), rows };
  }

  /**
   * Projects the events: every user's days recomputed, then saved with the events' markers
   * cleared in ONE store call for the batch (one commit on SQLite, two bulk writes on MongoDB,
   * instead of two per user). Answers the rows read per user (live, dated from lookback before
   * its first touched day).
   */
  return async function project(events: readonly TransactionEvent[]): Promise<Map<string, AmountRow[]>> {
    const users = [...eventsByUser(events)];
    const recomputed = await mapBounded(users, ([userId, list]) => recomputeUser(userId, list));
    const rowsByUser = new Map<string, AmountRow[]>();
    const daysByUser = new Map<string, Map<string, DayTotals | null>>();
    users.forEach(([userId], i) => {
      const { changes, rows } = recomputed[i] ?? { changes: new Map(), rows: [] };
      rowsByUser.set(userId, rows);
      if (changes.size > 0) daysByUser.set(userId, changes);
    });
    const projected = events.map((e) => ({
      userId: e.userId,
      transactionId: e.transactionId,
      version: e.version,
    }));
    await stats.saveProjection(daysByUser, projected, clock());
    await mapBounded(users, ([userId]) => invalidate(userId));
    return rowsByUser;
  };
}

/** Recomputes every day of a user from scratch; returns how many days differed. */
export async function reconcileUser(stats: StatsStore, userId: string, at: Date): Promise<number> {
  const [{ rows, everHad }, stored] = await Promise.all([stats.liveOfUser(userId), stats.read(userId)]);
  // a user who never had a transaction stays unknown (analytics answers 404), not an empty record
  if (!everHad && stored === null) return 0;
  const expected = totalsByDay(rows);
  const changes = new Map<string, DayTotals | null>();
  for (const [day, totals] of expected) {
    if (!sameDay(stored?.days.get(day), totals)) changes.set(day, totals);
  }
  for (const day of stored?.days.keys() ?? []) if (!expected.has(day)) changes.set(day, null);
  if (changes.size > 0 || stored === null) await stats.saveDays(userId, changes, at);
  return changes.size;
}

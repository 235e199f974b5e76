import { dayOf, dayStart, nextDay, sameDay, totalsByDay, type DayTotals } from '../analytics/day-totals.ts';
import type { StatsStore } from '../ports.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';

const USER_CONCURRENCY = 8;

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
) {
  async function projectUser(userId: string, events: readonly TransactionEvent[]): Promise<void> {
    const days = new Set<string>();
    for (const event of events) {
      for (const state of [event.before, event.after]) if (state) days.add(dayOf(state.transactionDate));
    }
    // one read for the span of touched days rather than one per day: fewer round trips, and a
    // server without range pushdown scans the user's transactions once per batch, not per day
    const sorted = [...days].sort();
    const first = sorted[0];
    const last = sorted.at(-1);
    if (first === undefined || last === undefined) return;
    const totals = totalsByDay(await stats.liveInRange(userId, dayStart(first), nextDay(last)));
    const changes = new Map<string, DayTotals | null>(sorted.map((day) => [day, totals.get(day) ?? null]));
    await stats.saveDays(userId, changes, clock());
    await stats.clearPending(
      events.map((e) => ({ userId, transactionId: e.transactionId, version: e.version })),
    );
    await invalidate(userId);
  }

  return async function project(events: readonly TransactionEvent[]): Promise<void> {
    const byUser = new Map<string, TransactionEvent[]>();
    for (const event of events) byUser.set(event.userId, [...(byUser.get(event.userId) ?? []), event]);
    const users = [...byUser];
    for (let i = 0; i < users.length; i += USER_CONCURRENCY) {
      await Promise.all(
        users.slice(i, i + USER_CONCURRENCY).map(([userId, list]) => projectUser(userId, list)),
      );
    }
  };
}

/** Recomputes every day of a user from scratch; returns how many days differed. */
export async function reconcileUser(stats: StatsStore, userId: string, at: Date): Promise<number> {
  const [{ rows }, stored] = await Promise.all([stats.liveOfUser(userId), stats.read(userId)]);
  const expected = totalsByDay(rows);
  const changes = new Map<string, DayTotals | null>();
  for (const [day, totals] of expected) {
    if (!sameDay(stored?.days.get(day), totals)) changes.set(day, totals);
  }
  for (const day of stored?.days.keys() ?? []) if (!expected.has(day)) changes.set(day, null);
  if (changes.size > 0 || stored === null) await stats.saveDays(userId, changes, at);
  return changes.size;
}

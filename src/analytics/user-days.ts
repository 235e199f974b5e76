import { notFound } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { StatsStore } from './stats-store.port.ts';
import { totalsByDay, type DayTotals } from './day-totals.ts';

const POLL_MS = 10;

export type UserDays = (userId: string) => Promise<ReadonlyMap<string, DayTotals>>;

/**
 * A user's per-day totals including every acknowledged write (read-your-writes): the worker's
 * statistics once it has projected the user's pending writes (waiting up to `waitMs` for it),
 * otherwise computed exactly from the transactions themselves; never statistics that miss an
 * acknowledged write. 404 for a user who never had a transaction.
 */
export function createUserDays(deps: { stats: StatsStore; metrics: Metrics; waitMs: number }): UserDays {
  const { stats } = deps;

  async function caughtUp(userId: string): Promise<boolean> {
    const deadline = Date.now() + deps.waitMs;
    while (await stats.hasPending(userId)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return true;
  }

  return async (userId) => {
    if (await caughtUp(userId)) {
      const stored = await stats.read(userId);
      if (stored !== null) return stored.days;
    }
    // lagging worker, or a user the worker has not seen yet: the exact answer from the source
    deps.metrics.inc('analytics_fallback_total');
    const { rows, everHad } = await stats.liveOfUser(userId);
    if (!everHad) throw notFound(`user ${userId} has no transactions`);
    return totalsByDay(rows);
  };
}

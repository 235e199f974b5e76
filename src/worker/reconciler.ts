import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { StatsStore } from '../analytics/stats-store.port.ts';
import { every } from './periodic.ts';
import { reconcileUser } from '../analytics/stats-projection.service.ts';

const PAGE = 200;
/** A marker older than this belongs to a write that died before committing, or to a stuck worker. */
const STALE_MARKER_MS = 60_000;

/**
 * Periodically recomputes every user's statistics from their transactions and repairs drift
 * (counted in a metric and logged). It also settles pending markers left by writes that died
 * before committing, which would otherwise make that user's reads fall back forever.
 */
export function startReconciler(deps: {
  stats: StatsStore;
  logger: Logger;
  metrics: Metrics;
  clock: () => Date;
  intervalMs: number;
  /** Drops the cached reads of a user whose statistics were repaired (they were computed from drift). */
  invalidate: (userId: string) => Promise<void>;
}): { runOnce(): Promise<number>; stop(): void } {
  const { stats, logger, metrics, clock } = deps;

  async function repair(userId: string): Promise<number> {
    const changed = await reconcileUser(stats, userId, clock());
    if (changed > 0) await deps.invalidate(userId);
    return changed;
  }

  async function runOnce(): Promise<number> {
    let repaired = 0;
    const stale = await stats.stalePending(new Date(clock().getTime() - STALE_MARKER_MS), 1000);
    for (const userId of new Set(stale.map((m) => m.userId))) repaired += await repair(userId);
    await stats.clearPending(stale);
    for (let after: string | null = null; ;) {
      const users = await stats.userIds(after, PAGE);
      for (const userId of users) repaired += await repair(userId);
      if (users.length < PAGE) break;
      after = users.at(-1) ?? null;
    }
    if (repaired > 0) {
      metrics.inc('reconciliation_repairs_total', repaired);
      logger.warn({ repairedDays: repaired }, 'reconciliation repaired statistics drift');
    }
    return repaired;
  }

  return { runOnce, stop: every(deps.intervalMs, runOnce, logger, 'reconciliation run') };
}

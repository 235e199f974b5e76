import { actsFor, type Principal } from '../auth/principal.ts';
import { invalidField, notFound } from '../errors.ts';
import type { ReadCache } from '../cache/read-cache.ts';
import type { Metrics } from '../metrics.ts';
import type { StatsStore } from '../ports.ts';
import { buildAnalytics } from './analytics.compute.ts';
import type { AnalyticsQuery, AnalyticsResponse } from './analytics.schemas.ts';
import { totalsByDay } from './day-totals.ts';

export interface AnalyticsServiceDeps {
  readonly stats: StatsStore;
  readonly cache: ReadCache;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly defaultCurrency: string;
  /** How long a read waits for the worker before computing exactly from the transactions. */
  readonly waitMs: number;
}

const POLL_MS = 10;

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;

/**
 * Analytics from the worker's per-day statistics. Read-your-writes: when a write of this user is
 * not projected yet, wait briefly for the worker, then compute exactly from the transactions
 * themselves; never answer from statistics that miss an acknowledged write.
 */
export function createAnalyticsService(deps: AnalyticsServiceDeps) {
  const { stats, clock } = deps;

  async function caughtUp(userId: string): Promise<boolean> {
    const deadline = Date.now() + deps.waitMs;
    while (await stats.hasPending(userId)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return true;
  }

  return {
    /** The analytics JSON text, cached per (user, range) and sent as is. */
    async analytics(userId: string, query: AnalyticsQuery, principal: Principal): Promise<string> {
      if (!actsFor(principal, userId)) throw notFound(`no user ${userId}`);
      if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
        throw invalidField('/to', 'must not be before from');
      }
      const key = `analytics:${query.from ?? ''}:${query.to ?? ''}`;
      return deps.cache.get(userId, key, async () => JSON.stringify(await compute(userId, query)));
    },
  };

  async function compute(userId: string, query: AnalyticsQuery): Promise<AnalyticsResponse> {
    const range = {
      userId,
      from: query.from ?? null,
      to: query.to ?? null,
      defaultCurrency: deps.defaultCurrency,
    };
    const startedAt = clock();
    if (await caughtUp(userId)) {
      const stored = await stats.read(userId);
      if (stored !== null) return buildAnalytics({ ...range, days: stored.days, asOf: startedAt });
    }
    // lagging worker, or a user the worker has not seen yet: the exact answer from the source
    deps.metrics.inc('analytics_fallback_total');
    const { rows, everHad } = await stats.liveOfUser(userId);
    if (!everHad) throw notFound(`user ${userId} has no transactions`);
    return buildAnalytics({ ...range, days: totalsByDay(rows), asOf: startedAt });
  }
}

import { actsFor, type Principal } from '../auth/principal.ts';
import type { CachedAnswer, ReadCache, ReadRequest } from '../cache/read-cache.ts';
import { invalidField, notFound } from '../errors.ts';
import { buildAnalytics } from './analytics.compute.ts';
import type { AnalyticsQuery } from './analytics.schemas.ts';
import type { UserDays } from './user-days.ts';

export interface AnalyticsServiceDeps {
  readonly userDays: UserDays;
  readonly cache: ReadCache;
  readonly clock: () => Date;
  readonly defaultCurrency: string;
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;

/** Analytics from the per-day statistics (read-your-writes: see user-days.ts), cached per range. */
export function createAnalyticsService(deps: AnalyticsServiceDeps) {
  return {
    /** The analytics JSON text and its tag, cached per (user, range) and sent as is. */
    async analytics(
      userId: string,
      query: AnalyticsQuery,
      principal: Principal,
      request?: ReadRequest,
    ): Promise<CachedAnswer> {
      if (!actsFor(principal, userId)) throw notFound(`no user ${userId}`);
      if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
        throw invalidField('/to', 'must not be before from');
      }
      const key = `analytics:${query.from ?? ''}:${query.to ?? ''}`;
      const compute = async () => {
        const asOf = deps.clock();
        const days = await deps.userDays(userId);
        return JSON.stringify(
          buildAnalytics({
            userId,
            from: query.from ?? null,
            to: query.to ?? null,
            defaultCurrency: deps.defaultCurrency,
            days,
            asOf,
          }),
        );
      };
      return deps.cache.get(userId, key, compute, undefined, request);
    },
  };
}

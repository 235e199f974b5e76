import { actsFor, type Principal } from '../auth/principal.ts';
import type { DayTotals } from '../analytics/day-totals.ts';
import type { UserDays } from '../analytics/user-days.ts';
import type { CachedAnswer, ReadCache, ReadRequest } from '../cache/read-cache.ts';
import { notFound } from '../errors.ts';
import type { AlertStore } from '../alerts/alert-store.port.ts';
import { computeFactors } from './credit-score.factors.ts';
import { CREDIT_SCORE_MODEL_VERSION, scoreOf } from './credit-score.model.ts';
import type { CreditScoreResponse } from './credit-score.schemas.ts';

/** Alerts of this many past days lower the score (docs/CREDIT-SCORE.md, factor recent_alerts). */
export const RECENT_ALERTS_DAYS = 30;

/**
 * A user's credit score now, from their per-day statistics and recent alerts: the one definition
 * shared by the API (answers) and the worker (which publishes `credit_score.changed`).
 */
export async function creditScoreOf(
  userId: string,
  days: ReadonlyMap<string, DayTotals>,
  alerts: AlertStore,
  now: Date,
): Promise<CreditScoreResponse> {
  const recentAlerts = await alerts.countSince(
    userId,
    new Date(now.getTime() - RECENT_ALERTS_DAYS * 86_400_000),
  );
  const { score, band, factors } = scoreOf(computeFactors({ days, recentAlerts, now }));
  return {
    user_id: userId,
    score,
    band,
    factors: factors.map((f) => ({ name: f.name, value: f.value, contribution: f.contribution })),
    model_version: CREDIT_SCORE_MODEL_VERSION,
    computed_at: now.toISOString(),
  };
}

export type CreditScoreService = ReturnType<typeof createCreditScoreService>;

/**
 * Scores computed on read from statistics that include every acknowledged write (user-days.ts),
 * so the score is read-your-writes like analytics; cached per user (a write, or an alert the
 * worker raises, drops the entry).
 */
export function createCreditScoreService(deps: {
  userDays: UserDays;
  alerts: AlertStore;
  cache: ReadCache;
  clock: () => Date;
}) {
  return {
    async creditScore(userId: string, principal: Principal, request?: ReadRequest): Promise<CachedAnswer> {
      if (!actsFor(principal, userId)) throw notFound(`no user ${userId}`);
      const compute = async () => {
        const now = deps.clock();
        return JSON.stringify(await creditScoreOf(userId, await deps.userDays(userId), deps.alerts, now));
      };
      return deps.cache.get(userId, 'credit-score', compute, undefined, request);
    },
  };
}

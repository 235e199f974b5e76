import { actsFor, type Principal } from '../auth/principal.ts';
import type { CachedAnswer, ReadCache, ReadRequest } from '../cache/read-cache.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { notFound } from '../errors.ts';
import type { AlertStore } from './alert-store.port.ts';
import { digest } from '../transactions/history.service.ts';
import { decodeCursor, encodeCursor } from '../transactions/history-cursor.ts';
import type { Alert } from './alert-evaluation.ts';
import type { AlertsQuery, AlertView } from './alerts.schemas.ts';

const DEFAULT_LIMIT = 50;

export type AlertsService = ReturnType<typeof createAlertsService>;

/**
 * A user's alerts newest first, in keyset pages like the history (signed cursors bound to the
 * query), as JSON text cached per (user, page): the worker bumps the user's generation after it
 * raises an alert, which is what changes the page's tag.
 */
export function createAlertsService(deps: { alerts: AlertStore; keyring: Keyring; cache: ReadCache }) {
  return {
    async list(
      userId: string,
      query: AlertsQuery,
      principal: Principal,
      request?: ReadRequest,
    ): Promise<CachedAnswer> {
      if (!actsFor(principal, userId)) throw notFound(`no user ${userId}`);
      const scope = JSON.stringify(['alerts', userId]);
      // the history cursor's (instant, id) position: here the instant is raised_at
      const position =
        query.cursor === undefined ? undefined : decodeCursor(deps.keyring, scope, query.cursor);
      const after = position && { raisedAt: position.transactionDate, id: position.id };
      const limit = query.limit ?? DEFAULT_LIMIT;
      const compute = async () => {
        const found = await deps.alerts.listByUser(userId, after, limit + 1);
        const page = found.slice(0, limit);
        const last = page.at(-1);
        const next =
          found.length > limit && last
            ? encodeCursor(deps.keyring, scope, { transactionDate: last.raisedAt, id: last.id })
            : null;
        return JSON.stringify({ data: page.map(toView), next_cursor: next });
      };
      const key = `alerts:${digest([query.cursor ?? null, limit])}`;
      return deps.cache.get(userId, key, compute, undefined, request);
    },
  };
}

function toView(alert: Alert): AlertView {
  return {
    id: alert.id,
    user_id: alert.userId,
    rule: alert.rule,
    rule_key: alert.ruleKey,
    severity: alert.severity,
    raised_at: alert.raisedAt.toISOString(),
    transaction_id: alert.transactionId,
    details: alert.details,
    rules_version: alert.rulesVersion,
  };
}

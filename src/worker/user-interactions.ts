import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  evaluateAlerts,
  outflowFromDays,
  alertAnchor,
  type Alert,
  type RuleState,
} from '../alerts/alert-evaluation.ts';
import { outflowDays, velocityWindow, type AlertRules } from '../alerts/alert-rules.ts';
import { alertToWire } from '../events/alert-events.ts';
import type { Metrics } from '../metrics.ts';
import type { AmountRow } from '../analytics/day-totals.ts';
import type { BusMessage, EventBus, Storage, StoredCreditScore, StoredStats } from '../ports.ts';
import { creditScoreOf } from '../scores/credit-score.service.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';

/** What other systems are told, for webhooks: one JSON body per event, with its id and type. */
export interface OutgoingEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly payload: string;
}

export interface UserInteractionsDeps {
  readonly storage: Storage;
  readonly rules: AlertRules;
  readonly bus: EventBus;
  readonly topics: { readonly alerts: string; readonly creditScores: string };
  /** Hands events to webhook subscribers (deliveries are enqueued, sent later). */
  readonly notify: (events: readonly OutgoingEvent[]) => Promise<void>;
  /** Drops a user's cached reads (an alert changes the credit score without any write). */
  readonly invalidate: (userId: string) => Promise<void>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: () => Date;
}

const USER_CONCURRENCY = 8;

/**
 * The worker's reactions to transaction events, after the statistics are projected: alert rules
 * evaluated per event in order (edge-triggered over the stored rule states), then the credit
 * score recomputed once per user per batch (coalesced) and announced when it moved. Everything
 * here is safe to run again for the same events (a redelivered batch): alert ids and outgoing
 * event ids are deterministic, alerts are stored insert-if-absent before the states that suppress
 * them, and a score already stored is not announced again.
 */
export function createUserInteractions(deps: UserInteractionsDeps) {
  const { storage, rules } = deps;

  /** The user's live rows covering every velocity window of `events`: the projector's, or read here. */
  async function velocityRows(
    userId: string,
    events: readonly TransactionEvent[],
    projected: readonly AmountRow[] | undefined,
  ): Promise<readonly AmountRow[]> {
    if (projected !== undefined) return projected;
    const times = events.map(alertAnchor).flatMap((a) => (a === null ? [] : [a.getTime()]));
    if (times.length === 0) return [];
    const earliest = velocityWindow(rules, new Date(Math.min(...times))).after;
    return storage.stats.liveInRange(userId, earliest, new Date(Math.max(...times) + 1));
  }

  async function alertsFor(
    userId: string,
    events: readonly TransactionEvent[],
    context: {
      stats: StoredStats | null;
      previous: ReadonlyMap<string, RuleState>;
      rows: readonly AmountRow[];
    },
  ): Promise<Alert[]> {
    const { stats, previous, rows } = context;
    const states = new Map<string, RuleState>(previous);
    const changed = new Map<string, RuleState>();
    const raised: Alert[] = [];
    for (const event of events) {
      const anchor = alertAnchor(event);
      if (anchor === null) continue;
      const { from, to } = outflowDays(rules, anchor);
      const days = [...(stats?.days ?? [])].filter(([day]) => day >= from && day <= to).map(([, d]) => d);
      const result = evaluateAlerts(
        rules,
        event,
        { velocityRows: rows, outflow: outflowFromDays(days) },
        states,
      );
      for (const [key, state] of result.states) {
        states.set(key, state);
        changed.set(key, state);
      }
      raised.push(...result.alerts);
    }
    if (raised.length > 0) {
      await storage.alerts.insert(raised);
      const wire = raised.map(alertToWire);
      await deps.bus.publish(
        wire.map((w): BusMessage => ({ topic: deps.topics.alerts, key: userId, value: JSON.stringify(w) })),
      );
      await deps.notify(
        wire.map((w) => ({ eventId: w.event_id, eventType: w.type, payload: JSON.stringify(w) })),
      );
      deps.metrics.inc('alerts_raised_total', raised.length);
    }
    if (changed.size > 0) await storage.alerts.saveRuleStates(userId, changed);
    return raised;
  }

  async function rescore(
    userId: string,
    lastEventId: string,
    stats: StoredStats | null,
    stored: StoredCreditScore | null,
  ): Promise<void> {
    if (stats === null) return;
    const now = deps.clock();
    const current = await creditScoreOf(userId, stats.days, storage.alerts, now);
    if (
      stored?.score === current.score &&
      stored.band === current.band &&
      stored.modelVersion === current.model_version
    ) {
      return;
    }
    const change = {
      event_id: outgoingId(userId, lastEventId, current.score, current.band),
      type: 'credit_score.changed',
      occurred_at: now.toISOString(),
      user_id: userId,
      score: current.score,
      band: current.band,
      previous_score: stored?.score ?? null,
      previous_band: stored?.band ?? null,
      model_version: current.model_version,
    };
    const payload = JSON.stringify(change);
    // announced before it is stored: a crash in between announces it again (same event id)
    await deps.bus.publish([{ topic: deps.topics.creditScores, key: userId, value: payload }]);
    await deps.notify([{ eventId: change.event_id, eventType: change.type, payload }]);
    await storage.scores.put(userId, {
      score: current.score,
      band: current.band,
      modelVersion: current.model_version,
      computedAt: now,
    });
  }

  async function reactTo(
    userId: string,
    events: readonly TransactionEvent[],
    projected: readonly AmountRow[] | undefined,
  ): Promise<void> {
    // every read up front, at once: the statistics as this batch's projection left them (both
    // reactions measure the same state), the rule states and the last announced score
    const [stats, previous, stored, rows] = await Promise.all([
      storage.stats.read(userId),
      storage.alerts.ruleStates(userId),
      storage.scores.get(userId),
      velocityRows(userId, events, projected),
    ]);
    const raised = await alertsFor(userId, events, { stats, previous, rows });
    if (raised.length > 0) await deps.invalidate(userId);
    const last = events.at(-1);
    if (last) await rescore(userId, last.eventId, stats, stored);
  }

  /** `rowsByUser`: what the projector read for each user (it covers the velocity windows). */
  return async function react(
    events: readonly TransactionEvent[],
    rowsByUser?: ReadonlyMap<string, readonly AmountRow[]>,
  ): Promise<void> {
    const byUser = new Map<string, TransactionEvent[]>();
    for (const event of events) byUser.set(event.userId, [...(byUser.get(event.userId) ?? []), event]);
    const users = [...byUser];
    for (let i = 0; i < users.length; i += USER_CONCURRENCY) {
      await Promise.all(
        users
          .slice(i, i + USER_CONCURRENCY)
          .map(([userId, list]) => reactTo(userId, list, rowsByUser?.get(userId))),
      );
    }
  };
}

/** Deterministic across a redelivered batch: same user, last event and outcome give the same id. */
function outgoingId(userId: string, eventId: string, score: number, band: string): string {
  return createHash('sha256')
    .update(JSON.stringify([userId, eventId, score, band]))
    .digest('base64url')
    .slice(0, 22);
}

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
import { alertToWire } from '../alerts/alert-wire.ts';
import type { Metrics } from '../metrics.ts';
import type { AmountRow } from '../analytics/day-totals.ts';
import { evaluatedBefore } from '../alerts/evaluated-through.ts';
import type { BusMessage, EventBus } from '../events/event-bus.port.ts';
import type { EventPosition, UserRuleStates } from '../alerts/alert-store.port.ts';
import type { Storage } from '../storage.port.ts';
import type { StoredCreditScore } from '../scores/credit-score-store.port.ts';
import type { StoredStats } from '../analytics/stats-store.port.ts';
import { creditScoreOf } from '../scores/credit-score.service.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import { eventsByUser, mapBounded } from './per-user.ts';

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

/** What one user's reactions start from, all read at once before anything is decided. */
interface UserContext {
  readonly userId: string;
  readonly events: readonly TransactionEvent[];
  /** The statistics as this batch's projection left them (both reactions measure this state). */
  readonly stats: StoredStats | null;
  readonly previous: UserRuleStates;
  /** Where each event sat on the topic, when the consumer said so. */
  readonly positions: ReadonlyMap<TransactionEvent, EventPosition> | undefined;
  /** The last announced score. */
  readonly stored: StoredCreditScore | null;
  readonly rows: readonly AmountRow[];
}

/**
 * The worker's reactions to transaction events, after the statistics are projected: alert rules
 * evaluated per event in order (edge-triggered over the stored rule states), then the credit
 * score recomputed once per user per batch (coalesced) and announced when it moved. Everything
 * here is safe to run again for the same events (a redelivered batch): alert ids and outgoing
 * event ids are deterministic, alerts are stored insert-if-absent before the states that suppress
 * them, and a score already stored is not announced again. Each step is taken for the whole batch
 * at once (one insert, one publish, one store call), not per user.
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

  async function contextOf(
    userId: string,
    events: readonly TransactionEvent[],
    projected: readonly AmountRow[] | undefined,
    positions: ReadonlyMap<TransactionEvent, EventPosition> | undefined,
  ): Promise<UserContext> {
    const [stats, previous, stored, rows] = await Promise.all([
      storage.stats.read(userId),
      storage.alerts.ruleStates(userId),
      storage.scores.get(userId),
      velocityRows(userId, events, projected),
    ]);
    return { userId, events, stats, previous, positions, stored, rows };
  }

  /**
   * The user's events evaluated in order, but for those evaluated before (evaluated-through.ts):
   * the alerts raised, the rule states that changed and the position evaluated through now.
   */
  function evaluate(context: UserContext): { raised: Alert[]; saved: UserRuleStates | null } {
    const { stats, rows, previous } = context;
    const states = new Map<string, RuleState>(previous.states);
    const changed = new Map<string, RuleState>();
    const raised: Alert[] = [];
    let through: EventPosition | null = null;
    for (const event of context.events) {
      const position = context.positions?.get(event);
      if (evaluatedBefore(position, previous.evaluatedThrough)) continue;
      through = position ?? through;
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
    const saved =
      changed.size > 0 || through !== null ? { states: changed, evaluatedThrough: through } : null;
    return { raised, saved };
  }

  /** Alerts stored, announced and notified, then the rule states that suppress them saved. */
  async function raiseAlerts(contexts: readonly UserContext[]): Promise<void> {
    const outcomes = contexts.map((c) => ({ userId: c.userId, ...evaluate(c) }));
    const raised = outcomes.flatMap((o) => o.raised);
    if (raised.length > 0) {
      await storage.alerts.insert(raised);
      const wire = raised.map(alertToWire);
      await deps.bus.publish(
        wire.map((w): BusMessage => ({
          topic: deps.topics.alerts,
          key: w.user_id,
          value: JSON.stringify(w),
        })),
      );
      await deps.notify(
        wire.map((w) => ({ eventId: w.event_id, eventType: w.type, payload: JSON.stringify(w) })),
      );
      deps.metrics.inc('alerts_raised_total', raised.length);
    }
    const saved = outcomes.flatMap((o) => (o.saved === null ? [] : [[o.userId, o.saved] as const]));
    if (saved.length > 0) await storage.alerts.saveRuleStates(new Map(saved));
    // an alert changes the credit score without any write
    await mapBounded(
      outcomes.filter((o) => o.raised.length > 0),
      (o) => deps.invalidate(o.userId),
    );
  }

  /** The user's score now, as a `credit_score.changed` event, or null when it did not move. */
  async function scoreChange(context: UserContext, now: Date) {
    const { userId, stats, stored } = context;
    const last = context.events.at(-1);
    if (stats === null || last === undefined) return null;
    const current = await creditScoreOf(userId, stats.days, storage.alerts, now);
    if (
      stored?.score === current.score &&
      stored.band === current.band &&
      stored.modelVersion === current.model_version
    ) {
      return null;
    }
    return {
      event_id: outgoingId(userId, last.eventId, current.score, current.band),
      type: 'credit_score.changed',
      occurred_at: now.toISOString(),
      user_id: userId,
      score: current.score,
      band: current.band,
      previous_score: stored?.score ?? null,
      previous_band: stored?.band ?? null,
      model_version: current.model_version,
    };
  }

  async function rescore(contexts: readonly UserContext[]): Promise<void> {
    const now = deps.clock();
    const changes = (await mapBounded(contexts, (c) => scoreChange(c, now))).filter((c) => c !== null);
    if (changes.length === 0) return;
    const payloads = changes.map((change) => JSON.stringify(change));
    // announced before they are stored: a crash in between announces them again (same event ids)
    await deps.bus.publish(
      changes.map((c, i) => ({ topic: deps.topics.creditScores, key: c.user_id, value: payloads[i] ?? '' })),
    );
    await deps.notify(
      changes.map((c, i) => ({ eventId: c.event_id, eventType: c.type, payload: payloads[i] ?? '' })),
    );
    await storage.scores.put(
      new Map(
        changes.map((c) => [
          c.user_id,
          { score: c.score, band: c.band, modelVersion: c.model_version, computedAt: now },
        ]),
      ),
    );
  }

  /**
   * `rowsByUser`: what the projector read for each user (it covers the velocity windows);
   * `positions`: where each event sat on the topic (without them nothing is skipped as replayed).
   */
  return async function react(
    events: readonly TransactionEvent[],
    rowsByUser?: ReadonlyMap<string, readonly AmountRow[]>,
    positions?: ReadonlyMap<TransactionEvent, EventPosition>,
  ): Promise<void> {
    const contexts = await mapBounded([...eventsByUser(events)], ([userId, list]) =>
      contextOf(userId, list, rowsByUser?.get(userId), positions),
    );
    await raiseAlerts(contexts);
    await rescore(contexts);
  };
}

/** Deterministic across a redelivered batch: same user, last event and outcome give the same id. */
function outgoingId(userId: string, eventId: string, score: number, band: string): string {
  return createHash('sha256')
    .update(JSON.stringify([userId, eventId, score, band]))
    .digest('base64url')
    .slice(0, 22);
}

import {
  evaluateAlerts,
  outflowFromDays,
  alertAnchor,
  type Alert,
  type RuleState,
} from './alert-evaluation.ts';
import { outflowDays, type AlertRules } from './alert-rules.ts';
import { alertToWire } from './alert-wire.ts';
import type { AlertStore, EventPosition, UserRuleStates } from './alert-store.port.ts';
import { evaluatedBefore } from './evaluated-through.ts';
import type { AmountRow } from '../analytics/day-totals.ts';
import type { StoredStats } from '../analytics/stats-store.port.ts';
import type { EventBus } from '../events/event-bus.port.ts';
import { mapBounded } from '../events/per-user.ts';
import type { Metrics } from '../metrics.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import type { WebhookEvent } from '../webhooks/webhook-fanout.ts';

/** What the alert rules of one user's events are evaluated against, read before anything is decided. */
export interface AlertContext {
  readonly userId: string;
  readonly events: readonly TransactionEvent[];
  /** The statistics as this batch's projection left them. */
  readonly stats: StoredStats | null;
  readonly previous: UserRuleStates;
  /** Where each event sat on the topic, when the consumer said so. */
  readonly positions: ReadonlyMap<TransactionEvent, EventPosition> | undefined;
  /** The user's live rows covering every velocity window of `events`. */
  readonly rows: readonly AmountRow[];
}

export interface AlertReactions {
  /** Alerts stored, announced and notified, then the rule states that suppress them saved. */
  raise(contexts: readonly AlertContext[]): Promise<void>;
}

/**
 * The alert rules evaluated per event in order, edge-triggered over the stored rule states. Safe
 * to run again for the same events (a redelivered batch): alert ids are deterministic and alerts
 * are stored insert-if-absent before the states that suppress them. One insert, one publish and
 * one store call for the whole batch, not per user.
 */
export function createAlertReactions(deps: {
  readonly alerts: AlertStore;
  readonly rules: AlertRules;
  readonly bus: EventBus;
  readonly topic: string;
  /** Hands events to webhook subscribers (deliveries are enqueued, sent later). */
  readonly notify: (events: readonly WebhookEvent[]) => Promise<void>;
  /** Drops a user's cached reads (an alert changes the credit score without any write). */
  readonly invalidate: (userId: string) => Promise<void>;
  readonly metrics: Metrics;
}): AlertReactions {
  const { rules } = deps;

  /**
   * The user's events evaluated in order, but for those evaluated before (evaluated-through.ts):
   * the alerts raised, the rule states that changed and the position evaluated through now.
   */
  function evaluate(context: AlertContext): { raised: Alert[]; saved: UserRuleStates | null } {
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

  return {
    async raise(contexts) {
      const outcomes = contexts.map((c) => ({ userId: c.userId, ...evaluate(c) }));
      const raised = outcomes.flatMap((o) => o.raised);
      if (raised.length > 0) {
        await deps.alerts.insert(raised);
        const wire = raised.map(alertToWire);
        await deps.bus.publish(
          wire.map((w) => ({ topic: deps.topic, key: w.user_id, value: JSON.stringify(w) })),
        );
        await deps.notify(
          wire.map((w) => ({ eventId: w.event_id, eventType: w.type, payload: JSON.stringify(w) })),
        );
        deps.metrics.inc('alerts_raised_total', raised.length);
      }
      const saved = outcomes.flatMap((o) => (o.saved === null ? [] : [[o.userId, o.saved] as const]));
      if (saved.length > 0) await deps.alerts.saveRuleStates(new Map(saved));
      // an alert changes the credit score without any write
      await mapBounded(
        outcomes.filter((o) => o.raised.length > 0),
        (o) => deps.invalidate(o.userId),
      );
    },
  };
}

import { createAlertReactions, type AlertContext } from '../alerts/alert-reactions.service.ts';
import type { AlertRules } from '../alerts/alert-rules.ts';
import type { EventPosition } from '../alerts/alert-store.port.ts';
import type { AmountRow } from '../analytics/day-totals.ts';
import { createStatsProjector } from '../analytics/stats-projection.service.ts';
import type { EventBus } from '../events/event-bus.port.ts';
import { eventsByUser, mapBounded } from '../events/per-user.ts';
import { toWire } from '../events/transaction-events.ts';
import type { Metrics } from '../metrics.ts';
import { createScoreReactions, type ScoreContext } from '../scores/score-reactions.service.ts';
import type { Storage } from '../storage.port.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import type { WebhookFanOut } from '../webhooks/webhook-fanout.ts';

export interface TransactionReactions {
  /**
   * Everything a batch of transaction events causes, in order: the statistics projected (exact,
   * read-your-writes), then, independently of each other, webhook deliveries queued and the
   * alert and credit-score reactions. Safe to run again for the same events (a redelivery).
   * `positions`: where each event sat on the topic (without them nothing is skipped as replayed).
   */
  handle(
    events: readonly TransactionEvent[],
    positions?: ReadonlyMap<TransactionEvent, EventPosition>,
  ): Promise<void>;
}

/**
 * What follows a transaction event, built once by the composition root and driven by the worker.
 * Each user's reactions start from one read of everything they need (statistics, rule states,
 * last score) taken at once per user, and the rows the projector read: it reads the velocity
 * window's lead-in too, so the alert rules need no read of their own.
 */
export function createTransactionReactions(deps: {
  readonly storage: Storage;
  readonly rules: AlertRules;
  readonly bus: EventBus;
  readonly topics: { readonly alerts: string; readonly creditScores: string };
  readonly fanOut: WebhookFanOut;
  /** Drops a user's cached reads. */
  readonly invalidate: (userId: string) => Promise<void>;
  readonly metrics: Metrics;
  readonly clock: () => Date;
}): TransactionReactions {
  const { storage, rules, fanOut } = deps;
  const notify = (events: Parameters<WebhookFanOut['enqueue']>[0]) => fanOut.enqueue(events);
  const project = createStatsProjector(
    storage.stats,
    deps.clock,
    deps.invalidate,
    rules.velocity.windowMinutes * 60_000,
  );
  const alerts = createAlertReactions({
    alerts: storage.alerts,
    rules,
    bus: deps.bus,
    topic: deps.topics.alerts,
    notify,
    invalidate: deps.invalidate,
    metrics: deps.metrics,
  });
  const scores = createScoreReactions({
    alerts: storage.alerts,
    scores: storage.scores,
    bus: deps.bus,
    topic: deps.topics.creditScores,
    notify,
    clock: deps.clock,
  });

  async function contextOf(
    userId: string,
    events: readonly TransactionEvent[],
    rows: readonly AmountRow[],
    positions: ReadonlyMap<TransactionEvent, EventPosition> | undefined,
  ): Promise<AlertContext & ScoreContext> {
    const [stats, previous, stored] = await Promise.all([
      storage.stats.read(userId),
      storage.alerts.ruleStates(userId),
      storage.scores.get(userId),
    ]);
    return { userId, events, stats, previous, positions, stored, rows };
  }

  return {
    async handle(events, positions) {
      const rowsByUser = await project(events);
      await Promise.all([
        fanOut.enqueue(events.map((e) => ({ eventId: e.eventId, eventType: e.type, payload: toWire(e) }))),
        (async () => {
          const contexts = await mapBounded([...eventsByUser(events)], ([userId, list]) =>
            contextOf(userId, list, rowsByUser.get(userId) ?? [], positions),
          );
          await alerts.raise(contexts);
          await scores.rescore(contexts);
        })(),
      ]);
    },
  };
}

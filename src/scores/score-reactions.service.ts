import { createHash } from 'node:crypto';
import type { AlertStore } from '../alerts/alert-store.port.ts';
import type { StoredStats } from '../analytics/stats-store.port.ts';
import type { EventBus } from '../events/event-bus.port.ts';
import { mapBounded } from '../events/per-user.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';
import type { WebhookEvent } from '../webhooks/webhook-fanout.ts';
import type { CreditScoreStore, StoredCreditScore } from './credit-score-store.port.ts';
import { creditScoreOf } from './credit-score.service.ts';

/** What one user's score is recomputed from, read before anything is decided. */
export interface ScoreContext {
  readonly userId: string;
  readonly events: readonly TransactionEvent[];
  /** The statistics as this batch's projection (and its alerts) left them. */
  readonly stats: StoredStats | null;
  /** The last announced score. */
  readonly stored: StoredCreditScore | null;
}

export interface ScoreReactions {
  /** Each user's score recomputed once for the batch (coalesced), announced when it moved. */
  rescore(contexts: readonly ScoreContext[]): Promise<void>;
}

/**
 * Credit scores recomputed after a batch of transaction events. Safe to run again for the same
 * events: the outgoing event id is deterministic and a score already stored is not announced
 * again. One publish and one store call for the whole batch.
 */
export function createScoreReactions(deps: {
  readonly alerts: AlertStore;
  readonly scores: CreditScoreStore;
  readonly bus: EventBus;
  readonly topic: string;
  /** Hands events to webhook subscribers (deliveries are enqueued, sent later). */
  readonly notify: (events: readonly WebhookEvent[]) => Promise<void>;
  readonly clock: () => Date;
}): ScoreReactions {
  /** The user's score now, as a `credit_score.changed` event, or null when it did not move. */
  async function scoreChange(context: ScoreContext, now: Date) {
    const { userId, stats, stored } = context;
    const last = context.events.at(-1);
    if (stats === null || last === undefined) return null;
    const current = await creditScoreOf(userId, stats.days, deps.alerts, now);
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

  return {
    async rescore(contexts) {
      const now = deps.clock();
      const changes = (await mapBounded(contexts, (c) => scoreChange(c, now))).filter((c) => c !== null);
      if (changes.length === 0) return;
      const payloads = changes.map((change) => JSON.stringify(change));
      // announced before they are stored: a crash in between announces them again (same event ids)
      await deps.bus.publish(
        changes.map((c, i) => ({ topic: deps.topic, key: c.user_id, value: payloads[i] ?? '' })),
      );
      await deps.notify(
        changes.map((c, i) => ({ eventId: c.event_id, eventType: c.type, payload: payloads[i] ?? '' })),
      );
      await deps.scores.put(
        new Map(
          changes.map((c) => [
            c.user_id,
            { score: c.score, band: c.band, modelVersion: c.model_version, computedAt: now },
          ]),
        ),
      );
    },
  };
}

/** Deterministic across a redelivered batch: same user, last event and outcome give the same id. */
function outgoingId(userId: string, eventId: string, score: number, band: string): string {
  return createHash('sha256')
    .update(JSON.stringify([userId, eventId, score, band]))
    .digest('base64url')
    .slice(0, 22);
}

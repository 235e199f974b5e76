import { createHash } from 'node:crypto';
import type { WebhookDelivery, WebhookStore, WebhookSubscription } from './webhook-store.port.ts';
import { withTraceContext } from '../telemetry/stored-trace-context.ts';
import { traceContextOfEvent } from '../telemetry/consumed-event-contexts.ts';

/** An event as webhooks carry it: its id, type and the exact JSON body receivers get. */
export interface WebhookEvent {
  readonly eventId: string;
  readonly eventType: string;
  /** The event's wire JSON; it must hold no customer name. */
  readonly payload: string;
}

export interface WebhookFanOut {
  /**
   * Queues one delivery per (matching subscription, event). Idempotent: a redelivered event
   * maps to the same delivery ids, which the store keeps once, so it is never sent twice as new.
   */
  enqueue(events: readonly WebhookEvent[]): Promise<void>;
}

/**
 * The Webhook-Id of an event to a subscription: a hash of the pair, so every worker computes the
 * same id for the same event whichever of them consumes it, and receivers can dedup on it.
 */
export function deliveryId(subscriptionId: string, eventId: string): string {
  const digest = createHash('sha256').update(`${subscriptionId}\n${eventId}`).digest('base64url');
  return `whd_${digest.slice(0, 26)}`;
}

/** `onEnqueued` wakes this process's dispatcher, so a fresh delivery does not wait for its poll. */
export function createWebhookFanOut(
  store: WebhookStore,
  clock: () => Date,
  onEnqueued: () => void = () => undefined,
): WebhookFanOut {
  return {
    async enqueue(events) {
      if (events.length === 0) return;
      const now = clock();
      // one lookup per event type in the batch, not per event
      const types = [...new Set(events.map((e) => e.eventType))];
      const found = await Promise.all(types.map((type) => store.matching(type)));
      const byType = new Map<string, WebhookSubscription[]>(types.map((type, i) => [type, found[i] ?? []]));
      const deliveries: WebhookDelivery[] = [];
      for (const event of events) {
        for (const subscription of byType.get(event.eventType) ?? []) {
          deliveries.push({
            id: deliveryId(subscription.id, event.eventId),
            subscriptionId: subscription.id,
            eventId: event.eventId,
            eventType: event.eventType,
            payload: event.payload,
            state: 'pending',
            attempts: 0,
            createdAt: now,
            nextAttemptAt: now,
            lastAttemptAt: null,
            lastError: null,
            deliveredAt: null,
            // so the send, later and maybe elsewhere, continues the write's trace
            ...withTraceContext(traceContextOfEvent(event.eventId)),
          });
        }
      }
      if (deliveries.length === 0) return;
      await store.enqueue(deliveries);
      onEnqueued();
    },
  };
}

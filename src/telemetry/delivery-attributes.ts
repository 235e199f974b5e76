import type { WebhookDelivery } from '../webhooks/webhook-store.port.ts';
import type { SpanAttributes } from './tracing.ts';

/** Ids and the attempt number: never the payload (it holds an amount) nor the receiver's secret. */
export const deliveryAttributes = (delivery: WebhookDelivery): SpanAttributes => ({
  'fido.event_id': delivery.eventId,
  'fido.webhook.delivery_id': delivery.id,
  'fido.webhook.subscription_id': delivery.subscriptionId,
  'fido.webhook.attempt': delivery.attempts + 1,
});

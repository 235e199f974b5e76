import type { TraceCarrier } from '../telemetry/tracing.ts';

/** A subscription of another system to our events; the secret is sealed (it signs deliveries). */
export interface WebhookSubscription {
  readonly id: string;
  readonly url: string;
  /** Event types, or `transaction.*` for the three transaction events. */
  readonly eventTypes: readonly string[];
  readonly secretSealed: string;
  /** The client (token) that created it; only it (or a service token) sees or deletes it. */
  readonly owner: string;
  readonly createdAt: Date;
}

/** One event to one subscription. `id` is deterministic (subscription, event): the Webhook-Id. */
export interface WebhookDelivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** The JSON body sent, exactly (it is what the signature covers). Holds no customer name. */
  readonly payload: string;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly lastAttemptAt: Date | null;
  readonly lastError: string | null;
  readonly deliveredAt: Date | null;
  /** The trace of the event's processing, so the send continues the write's trace. */
  readonly traceContext?: TraceCarrier;
}

export interface WebhookStore {
  create(subscription: WebhookSubscription): Promise<void>;
  /** Subscriptions of `owner`, or of everyone when null, oldest first. */
  list(owner: string | null): Promise<WebhookSubscription[]>;
  get(id: string): Promise<WebhookSubscription | null>;
  /** Removes the subscription and its pending deliveries; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Subscriptions that want `eventType` (directly or through `transaction.*`). */
  matching(eventType: string): Promise<WebhookSubscription[]>;
  /** Stores deliveries whose id is new; existing ids are left as they are (redelivered events). */
  enqueue(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /**
   * Pending deliveries due at `now`, earliest first, at most `limit`, leaving out those of the
   * `exclude`d subscriptions (ones whose send slots are full, so their backlog cannot crowd
   * other subscriptions out of the page).
   */
  due(now: Date, limit: number, exclude?: readonly string[]): Promise<WebhookDelivery[]>;
  /** Records the outcome of an attempt (state, attempts, times, error). */
  update(delivery: WebhookDelivery): Promise<void>;
  /** A subscription's deliveries, newest first, at most `limit`. */
  deliveries(subscriptionId: string, limit: number): Promise<WebhookDelivery[]>;
  /** Deletes at most `limit` delivered or dead deliveries created before `before`; answers how many. */
  purgeFinished(before: Date, limit: number): Promise<number>;
}

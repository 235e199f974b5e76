import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Keyring } from '../crypto/keyring.ts';
import type { Metrics } from '../metrics.ts';
import type { WebhookDelivery, WebhookStore } from './webhook-store.port.ts';
import { deliveryAttributes } from '../telemetry/delivery-attributes.ts';
import { tracing } from '../telemetry/tracing.ts';
import { afterAttempt, send, type RetryPolicy } from './webhook-attempt.ts';
import { secretAad } from './webhooks.service.ts';

export interface WebhookDispatcher {
  /** Polls now (deliveries were just queued in this process). */
  readonly nudge: () => void;
  /** One poll: starts what is due and free slots allow, resolves when those attempts are done. */
  runOnce(): Promise<number>;
  /** Stops polling and aborts attempts in flight (they stay pending and are sent again later). */
  stop(): Promise<void>;
}

export interface DispatcherOptions extends RetryPolicy {
  readonly store: WebhookStore;
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly pollMs: number;
  /** Attempts in flight at once, all subscriptions together. */
  readonly concurrency: number;
}

/** Per subscription: one slow or dead receiver holds at most this many of the slots. */
const PER_SUBSCRIPTION = 2;
/** A claimed delivery is not due again until its attempt had time to finish, plus this. */
const LEASE_MARGIN_MS = 5_000;
const ERROR_PAUSE_MS = 1_000;

/**
 * Sends due deliveries in the background, apart from event consumption: nothing here is awaited
 * by the consumer, so receivers never slow projections. Each attempt first pushes the delivery's
 * next attempt past its own timeout (a lease), so another worker polling the same store does not
 * send it at the same time, and a worker that dies mid-attempt leaves it to be retried. Delivery
 * is at least once: a receiver may see a Webhook-Id again (after a lost answer or a race), never
 * a different id for the same event.
 */
export function startWebhookDispatcher(options: DispatcherOptions): WebhookDispatcher {
  const { store, keyring, logger, metrics, clock } = options;
  const inFlight = new Map<string, Promise<void>>();
  const perSubscription = new Map<string, number>();
  // attempts that finish while a poll reads: that read may hold their stale pending state
  const finishing = new Set<Set<string>>();
  const stopping = new AbortController();
  let wake: (() => void) | undefined;
  // a nudge that arrives while a poll runs must not wait for the next poll interval
  let nudged = false;
  // an attempt that could not reach the store: pause instead of polling again at once
  const health = { troubled: false };

  const nudge = () => {
    nudged = true;
    wake?.();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (nudged) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = undefined;
      nudged = false;
    });
  // deaf to nudges (each failed attempt nudges): only stop() cuts it short
  const backOff = () => sleep(ERROR_PAUSE_MS, undefined, { signal: stopping.signal }).catch(() => undefined);

  async function attempt(delivery: WebhookDelivery): Promise<void> {
    const subscription = await store.get(delivery.subscriptionId);
    const claimedAt = clock();
    if (subscription === null) {
      // queued while its subscription was being deleted: nobody wants it any more
      await store.update({ ...delivery, state: 'dead', lastError: 'subscription deleted' });
      return;
    }
    const lease = new Date(claimedAt.getTime() + options.timeoutMs + LEASE_MARGIN_MS);
    await store.update({ ...delivery, nextAttemptAt: lease });
    let secret: string;
    try {
      secret = keyring.open(subscription.secretSealed, secretAad(subscription.id));
    } catch (error) {
      // the key it was sealed with is gone: retrying cannot help until an operator restores it
      logger.error({ err: error, subscriptionId: subscription.id }, 'webhook secret cannot be opened');
      await record(
        delivery,
        afterAttempt(delivery, { ok: false, error: 'signing secret unavailable' }, claimedAt, options),
      );
      return;
    }
    const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), stopping.signal]);
    const result = await send(subscription.url, delivery, secret, claimedAt, signal);
    // shutting down: leave it pending under its lease rather than count our abort against it
    if (stopping.signal.aborted) return;
    await record(delivery, afterAttempt(delivery, result, clock(), options));
  }

  /** The attempt in the trace of the processing that queued it (the write's trace). */
  const tracedAttempt = (delivery: WebhookDelivery) =>
    tracing().inSpan(
      'deliver webhook',
      { parent: delivery.traceContext, attributes: deliveryAttributes(delivery) },
      () => attempt(delivery),
    );

  async function record(before: WebhookDelivery, after: WebhookDelivery): Promise<void> {
    await store.update(after);
    if (after.state === 'delivered') {
      metrics.inc('webhook_delivered_total');
      return;
    }
    metrics.inc('webhook_failed_attempts_total');
    if (after.state === 'dead') {
      metrics.inc('webhook_dead_lettered_total');
      logger.warn(
        {
          deliveryId: after.id,
          subscriptionId: after.subscriptionId,
          attempts: after.attempts,
          lastError: after.lastError,
        },
        'webhook delivery dead-lettered',
      );
    } else if (before.attempts === 0) {
      logger.info(
        { deliveryId: after.id, subscriptionId: after.subscriptionId, lastError: after.lastError },
        'webhook delivery failed; retrying',
      );
    }
  }

  /** Starts attempts for due deliveries while slots are free; returns the attempts started. */
  async function fill(): Promise<Promise<void>[]> {
    const free = options.concurrency - inFlight.size;
    if (free <= 0 || stopping.signal.aborted) return [];
    const full = [...perSubscription].filter(([, n]) => n >= PER_SUBSCRIPTION).map(([id]) => id);
    const finished = new Set<string>();
    finishing.add(finished);
    let due: WebhookDelivery[];
    try {
      // deliveries in flight may still look due (before their lease is written): see past them
      due = await store.due(clock(), free + inFlight.size, full);
    } finally {
      finishing.delete(finished);
    }
    const started: Promise<void>[] = [];
    for (const delivery of due) {
      if (inFlight.size >= options.concurrency) break;
      const count = perSubscription.get(delivery.subscriptionId) ?? 0;
      if (inFlight.has(delivery.id) || finished.has(delivery.id) || count >= PER_SUBSCRIPTION) continue;
      perSubscription.set(delivery.subscriptionId, count + 1);
      const running = tracedAttempt(delivery)
        .catch((error: unknown) => {
          // the store is down: the delivery stays pending and is tried again once due
          health.troubled = true;
          logger.warn({ err: error, deliveryId: delivery.id }, 'webhook attempt could not be recorded');
        })
        .finally(() => {
          inFlight.delete(delivery.id);
          for (const set of finishing) set.add(delivery.id);
          const left = (perSubscription.get(delivery.subscriptionId) ?? 1) - 1;
          if (left > 0) perSubscription.set(delivery.subscriptionId, left);
          else perSubscription.delete(delivery.subscriptionId);
          nudge();
        });
      inFlight.set(delivery.id, running);
      started.push(running);
    }
    return started;
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const started = await fill();
        if (health.troubled) {
          health.troubled = false;
          await backOff();
        } else if (started.length === 0 || inFlight.size >= options.concurrency) {
          await pause(options.pollMs);
        }
        // else: started some with slots left, so look again at once (full subscriptions are left out now)
      } catch (error) {
        logger.warn({ err: error }, 'webhook dispatcher: polling failed');
        await backOff();
      }
    }
  })();

  return {
    nudge,
    async runOnce() {
      const started = await fill();
      await Promise.all(started);
      return started.length;
    },
    async stop() {
      stopping.abort();
      nudge();
      await loop;
      await Promise.allSettled(inFlight.values());
    },
  };
}

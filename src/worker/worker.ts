import { topicsFor } from '../events/transaction-events.ts';
import type { Deps } from '../deps.ts';
import type { ConsumedMessage, Subscription } from '../events/event-bus.port.ts';
import type { RelaySlice } from '../events/outbox.port.ts';
import { startOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { logAssignments } from './assignment-log.ts';
import { startHousekeeping } from './housekeeping.ts';
import { startReconciler } from './reconciler.ts';
import { createTransactionEventsHandler } from './transaction-events.handler.ts';
import { startWebhookDispatcher, type WebhookDispatcher } from '../webhooks/webhook-dispatcher.ts';

const HOUSEKEEPING_INTERVAL_MS = 600_000;

export interface Worker {
  readonly relay: OutboxRelay;
  readonly subscription: Subscription;
  /** What the worker does with a batch of transactions.v1 (for replays and redelivery tests). */
  handle(batch: readonly ConsumedMessage[]): Promise<void>;
  reconcile(): Promise<number>;
  /** Deletes expired idempotency keys and old finished webhook deliveries (also every 10 minutes). */
  housekeep(): Promise<{ idempotencyKeys: number; webhookDeliveries: number }>;
  /** Sends queued webhook deliveries in the background. */
  readonly webhooks: WebhookDispatcher;
  /**
   * Publishes the backlog of the partitions this worker relays, stops consuming (the batch in hand
   * is finished and committed), then stops webhook sends (attempts in flight stay pending).
   */
  stop(): Promise<void>;
}

/**
 * The worker role, an entry point like the HTTP routes: the topics, the consumer of
 * transactions.v1 in the worker group (one member per process; partitions are shared across
 * members) handing each batch to the reactions service, the outbox relay of the partitions it
 * consumes, the webhook sender, and the periodic reconciliation and housekeeping.
 */
export async function startWorker(
  deps: Pick<
    Deps,
    | 'config'
    | 'logger'
    | 'metrics'
    | 'storage'
    | 'keyring'
    | 'bus'
    | 'partitionCount'
    | 'reactions'
    | 'invalidate'
    | 'writeListeners'
    | 'deliveryListeners'
    | 'clock'
  >,
): Promise<Worker> {
  const { config, logger, metrics, storage, bus, clock, invalidate } = deps;
  const topics = topicsFor(config.events.topicPrefix);
  // built (alert rules read) now, so a bad rules file stops the worker at start, not at its first batch
  const reactions = deps.reactions;
  await bus.ensureTopics([
    { name: topics.transactions, partitions: config.events.partitions },
    { name: topics.transactionsDlq, partitions: 1 },
    // keyed by user like transactions.v1, so one user's alerts and scores keep their order
    { name: topics.alerts, partitions: config.events.partitions },
    { name: topics.creditScores, partitions: config.events.partitions },
  ]);
  const webhooks = startWebhookDispatcher({
    store: storage.webhooks,
    keyring: deps.keyring,
    logger: logger.child({ component: 'webhooks' }),
    metrics,
    clock,
    pollMs: config.webhooks.pollMs,
    timeoutMs: config.webhooks.timeoutMs,
    concurrency: config.webhooks.concurrency,
    retryForMs: config.webhooks.retryForMs,
    baseBackoffMs: config.webhooks.backoffBaseMs,
    maxBackoffMs: config.webhooks.backoffMaxMs,
  });
  // a delivery queued in this process is sent at once, not at the dispatcher's next poll
  deps.deliveryListeners.add(webhooks.nudge);
  const handle = createTransactionEventsHandler({
    bus,
    dlqTopic: topics.transactionsDlq,
    logger: logger.child({ component: 'stats-projector' }),
    metrics,
    react: (events, positions) => reactions.handle(events, positions),
  });
  const subscription = await bus.subscribe({
    groupId: config.events.groupId,
    topics: [topics.transactions],
    maxBatch: 200,
    handle,
  });
  const stopReadingLag = metrics.readConsumerLag(() => subscription.lag());
  await deps.partitionCount.refresh(); // the topic exists now
  // the relay follows the consumer group: it publishes the events of the partitions this
  // member consumes, so each event has one relay and a dead worker's share moves with its
  // partitions (docs/ARCHITECTURE.md)
  const relaySlice = (): RelaySlice => {
    const count = deps.partitionCount.get();
    const partitions = subscription
      .assignments()
      .filter((a) => a.topic === topics.transactions)
      .map((a) => a.partition);
    return count === null ? { partitions: [], count: 1 } : { partitions, count };
  };
  const relay = startOutboxRelay({
    outbox: storage.outbox,
    bus,
    logger: logger.child({ component: 'outbox-relay' }),
    metrics,
    clock,
    topic: topics.transactions,
    dlqTopic: topics.transactionsDlq,
    batchSize: 100,
    pollMs: config.events.relayPollMs,
    slice: relaySlice,
  });
  // an acknowledged write in this process is relayed at once, not at the relay's next poll
  deps.writeListeners.add(relay.nudge);
  const stopReadingRelayBacklog = metrics.readRelayBacklog(() => {
    const slice = relaySlice();
    return slice.partitions.length === 0 ? Promise.resolve(0) : storage.outbox.backlog(slice);
  });
  const reconciler = startReconciler({
    stats: storage.stats,
    logger: logger.child({ component: 'reconciler' }),
    metrics,
    clock,
    intervalMs: config.events.reconcileIntervalMs,
    invalidate,
  });
  const housekeeping = startHousekeeping({
    storage,
    logger: logger.child({ component: 'housekeeping' }),
    clock,
    intervalMs: HOUSEKEEPING_INTERVAL_MS,
    webhookRetentionMs: config.webhooks.retentionMs,
  });
  const assignmentLog = logAssignments(subscription, logger.child({ component: 'consumer' }));
  logger.info({ group: config.events.groupId, topic: topics.transactions }, 'worker started');
  return {
    relay,
    subscription,
    handle,
    webhooks,
    reconcile: () => reconciler.runOnce(),
    housekeep: () => housekeeping.runOnce(),
    async stop() {
      reconciler.stop();
      housekeeping.stop();
      assignmentLog.stop();
      stopReadingLag();
      stopReadingRelayBacklog();
      deps.writeListeners.delete(relay.nudge);
      deps.deliveryListeners.delete(webhooks.nudge);
      // the final flush runs while this member still owns its partitions: once it leaves, their
      // next owner relays them, and a flush after that would publish the same events twice
      await relay.stop(relaySlice());
      await subscription.close();
      await webhooks.stop();
    },
  };
}

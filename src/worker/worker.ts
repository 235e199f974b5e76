import type { Logger } from 'pino';
import type { ReadCache } from '../cache/read-cache.ts';
import type { Config } from '../config.ts';
import { topicsFor } from '../events/transaction-events.ts';
import type { Metrics } from '../metrics.ts';
import type { EventBus, Storage, Subscription } from '../ports.ts';
import { startOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { startReconciler } from './reconciler.ts';
import { createStatsProjector } from './stats-projector.ts';
import { createTransactionEventsHandler } from './transaction-events.handler.ts';

export interface Worker {
  readonly relay: OutboxRelay;
  readonly subscription: Subscription;
  reconcile(): Promise<number>;
  /** Stops consuming (the batch in hand is finished and committed), then flushes the outbox. */
  stop(): Promise<void>;
}

/**
 * The worker role: the outbox relay, the consumer of transactions.v1 in the worker group (one
 * member per process; partitions are shared across members), and the periodic reconciliation.
 */
export async function startWorker(deps: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  storage: Storage;
  bus: EventBus;
  cache: ReadCache;
  clock: () => Date;
}): Promise<Worker> {
  const { config, logger, metrics, storage, bus, cache, clock } = deps;
  const invalidate = (userId: string) => cache.invalidate(userId);
  const topics = topicsFor(config.events.topicPrefix);
  await bus.ensureTopics([
    { name: topics.transactions, partitions: config.events.partitions },
    { name: topics.transactionsDlq, partitions: 1 },
  ]);
  const relay = startOutboxRelay({
    outbox: storage.outbox,
    bus,
    logger: logger.child({ component: 'outbox-relay' }),
    metrics,
    clock,
    topic: topics.transactions,
    batchSize: 100,
    pollMs: config.events.relayPollMs,
  });
  const handle = createTransactionEventsHandler({
    bus,
    dlqTopic: topics.transactionsDlq,
    logger: logger.child({ component: 'stats-projector' }),
    metrics,
    project: createStatsProjector(storage.stats, clock, invalidate),
  });
  const subscription = await bus.subscribe({
    groupId: config.events.groupId,
    topics: [topics.transactions],
    maxBatch: 200,
    handle,
  });
  const reconciler = startReconciler({
    stats: storage.stats,
    logger: logger.child({ component: 'reconciler' }),
    metrics,
    clock,
    intervalMs: config.events.reconcileIntervalMs,
    invalidate,
  });
  logger.info({ group: config.events.groupId, topic: topics.transactions }, 'worker started');
  return {
    relay,
    subscription,
    reconcile: () => reconciler.runOnce(),
    async stop() {
      reconciler.stop();
      await subscription.close();
      await relay.stop();
    },
  };
}

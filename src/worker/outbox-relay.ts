import type { Logger } from 'pino';
import { toWire } from '../events/transaction-events.ts';
import type { Metrics } from '../metrics.ts';
import type { EventBus, Outbox } from '../ports.ts';

export interface OutboxRelay {
  /** Wakes the relay now (a write just happened in this process). */
  readonly nudge: () => void;
  /** Stops after publishing everything pending now (bounded by the caller's shutdown timeout). */
  stop(): Promise<void>;
}

interface Options {
  readonly outbox: Outbox;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly topic: string;
  readonly batchSize: number;
  readonly pollMs: number;
}

const MAX_BACKOFF_MS = 5_000;
/** A nudge waits this long, so the writes of concurrent requests are relayed as one batch. */
const NUDGE_LINGER_MS = 5;
/** The longest the final flush at stop may take (SHUTDOWN_TIMEOUT_MS bounds the whole stop). */
const FINAL_FLUSH_MS = 3_000;

/**
 * Moves outbox events to `transactions.v1` (options.topic), keyed by user so a user's events share a partition,
 * oldest first. An event is marked published only after the broker acknowledged it; while the
 * broker is away the relay retries with exponential backoff and writes keep succeeding. A crash
 * between publish and mark publishes again on restart: duplicates, never losses.
 */
export function startOutboxRelay(options: Options): OutboxRelay {
  const { outbox, bus, logger, metrics, clock } = options;
  const state = { running: true };
  let wake: (() => void) | undefined;
  let lingering = false;
  let backoffMs = 0;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = undefined));

  async function relayOnce(): Promise<number> {
    const entries = await outbox.pending(options.batchSize);
    if (entries.length === 0) return 0;
    await bus.publish(
      entries.map(({ event }) => ({
        topic: options.topic,
        key: event.userId,
        value: toWire(event),
        headers: { 'event-type': event.type, 'event-id': event.eventId },
      })),
    );
    const publishedAt = clock();
    await outbox.markPublished(
      entries.map((e) => e.id),
      publishedAt,
    );
    metrics.inc('outbox_published_total', entries.length);
    // counted once marked, so a batch published again after a failed mark is observed once
    for (const { event } of entries) {
      metrics.observePublishLag((publishedAt.getTime() - event.occurredAt.getTime()) / 1000);
    }
    return entries.length;
  }

  const loop = (async () => {
    while (state.running) {
      try {
        const count = await relayOnce();
        if (backoffMs > 0) logger.info('outbox relay: publishing again');
        backoffMs = 0;
        if (count < options.batchSize) await pause(options.pollMs);
      } catch (error) {
        metrics.inc('outbox_publish_failures_total');
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, backoffMs * 2));
        logger.warn(
          { err: error, retryInMs: backoffMs },
          'outbox relay: publish failed; events stay in the outbox',
        );
        await pause(backoffMs * (0.5 + Math.random() / 2));
      }
    }
  })();

  return {
    nudge: () => {
      if (wake === undefined || lingering) return;
      lingering = true;
      setTimeout(() => {
        lingering = false;
        wake?.();
      }, NUDGE_LINGER_MS).unref();
    },
    async stop() {
      state.running = false;
      wake?.();
      await loop;
      // drains the backlog, not just one batch: events recorded by the last requests of this
      // instance are published now rather than by whichever worker polls next; bounded, so a
      // large backlog (a broker that was away) cannot hold the stop past its deadline: what is
      // left stays in the outbox for the other relays, or this one's next start
      const deadline = Date.now() + FINAL_FLUSH_MS;
      try {
        let published = options.batchSize;
        while (published === options.batchSize && Date.now() < deadline) published = await relayOnce();
        if (published === options.batchSize) {
          logger.warn({ flushMs: FINAL_FLUSH_MS }, 'outbox relay: backlog left in the outbox at stop');
        }
      } catch (error) {
        logger.warn({ err: error }, 'outbox relay: final flush failed; events stay in the outbox');
      }
    },
  };
}

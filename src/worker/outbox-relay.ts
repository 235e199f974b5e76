import type { Logger } from 'pino';
import { toWire } from '../events/transaction-events.ts';
import type { Metrics } from '../metrics.ts';
import { MessageRefusedError, type BusMessage, type EventBus } from '../events/event-bus.port.ts';
import { type Outbox, type RelaySlice } from '../events/outbox.port.ts';

export interface OutboxRelay {
  /** Wakes the relay now (a write just happened in this process). */
  readonly nudge: () => void;
  /**
   * Stops after publishing what is pending now in `finalSlice` (the partitions this worker owned
   * before it left the group; bounded by the caller's shutdown timeout).
   */
  stop(finalSlice?: RelaySlice | null): Promise<void>;
}

interface Options {
  readonly outbox: Outbox;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly topic: string;
  readonly dlqTopic: string;
  readonly batchSize: number;
  readonly pollMs: number;
  /**
   * The partitions this relay publishes now: those its consumer-group member owns, so each event
   * has one relay (docs/ARCHITECTURE.md). Null: every partition (a relay alone, e.g. in a tool).
   */
  readonly slice: () => RelaySlice | null;
}

const MAX_BACKOFF_MS = 5_000;
/**
 * Idle polls back off, doubling from `pollMs` up to this many times it: a fleet of workers with
 * nothing to relay would otherwise query the store every `pollMs` each (on FerretDB every poll
 * scans the markers). The first poll that finds events, or a nudge, restores the short interval.
 */
const IDLE_BACKOFF_FACTOR = 8;
/** A nudge waits this long, so the writes of concurrent requests are relayed as one batch. */
const NUDGE_LINGER_MS = 5;
/** The longest the final flush at stop may take (SHUTDOWN_TIMEOUT_MS bounds the whole stop). */
const FINAL_FLUSH_MS = 3_000;
/**
 * Larger events are quarantined, not sent: an event is a few hundred bytes, and Kafka's default
 * message limit (1 MB) would refuse the whole batch it rides in.
 */
export const MAX_EVENT_BYTES = 65_536;

interface Ready {
  readonly id: string;
  readonly message: BusMessage;
  readonly occurredAt: Date;
}
interface Refused {
  readonly id: string;
  readonly key: string;
  readonly stored: string;
  readonly reason: string;
}

/**
 * Moves outbox events to `transactions.v1` (options.topic), keyed by user so a user's events share
 * a partition, oldest first, for the partitions this relay owns. An event is marked published only
 * after the broker acknowledged it; while the broker is away the relay retries with exponential
 * backoff and writes keep succeeding. A crash between publish and mark publishes again: duplicates,
 * never losses. A stored event that cannot be parsed or published is quarantined (to
 * `transactions.v1.dlq`, marked in the store, logged once by id) and the rest keep flowing.
 */
export function startOutboxRelay(options: Options): OutboxRelay {
  const { outbox, bus, logger, metrics, clock } = options;
  const state = { running: true };
  let wake: (() => void) | undefined;
  let lingering = false;
  let backoffMs = 0;
  /** How long the next idle poll waits (grows while polls find nothing). */
  let idleMs = options.pollMs / 2;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = undefined));

  /**
   * Publishes in order; messages the bus refuses for what they are are returned. Any other failure
   * (a bus away, a missing topic) throws: the batch waits, nothing is set aside for it.
   */
  async function publish(ready: readonly Ready[]): Promise<Refused[]> {
    if (ready.length === 0) return [];
    try {
      await bus.publish(ready.map((r) => r.message));
      return [];
    } catch (error) {
      if (!(error instanceof MessageRefusedError)) throw error;
    }
    // one at a time, to find which (the others go out, still in order)
    const refused: Refused[] = [];
    for (const r of ready) {
      try {
        await bus.publish([r.message]);
      } catch (error) {
        if (!(error instanceof MessageRefusedError)) throw error;
        const reason = `refused by the bus: ${error.message}`;
        refused.push({ id: r.id, key: r.message.key, stored: r.message.value, reason });
      }
    }
    return refused;
  }

  /** DLQ first, then the mark: a crash in between sends it to the DLQ again, never loses it. */
  async function quarantine(refused: readonly Refused[]): Promise<void> {
    if (refused.length === 0) return;
    await bus.publish(
      refused.map((r) => ({
        topic: options.dlqTopic,
        key: r.key === '' ? r.id : r.key,
        value: r.stored.length > MAX_EVENT_BYTES ? r.stored.slice(0, MAX_EVENT_BYTES) : r.stored,
        headers: {
          'dlq-error': r.reason.slice(0, 500),
          'dlq-source': `outbox/${r.id}`,
          ...(r.stored.length > MAX_EVENT_BYTES ? { 'dlq-truncated': 'true' } : {}),
        },
      })),
    );
    await outbox.quarantine(
      refused.map((r) => ({ id: r.id, reason: r.reason.slice(0, 500) })),
      clock(),
    );
    metrics.inc('outbox_quarantined_total', refused.length);
    for (const r of refused) logger.warn({ outboxId: r.id, reason: r.reason }, 'outbox event quarantined');
  }

  async function relayOnce(slice: RelaySlice | null): Promise<number> {
    if (slice !== null && slice.partitions.length === 0) return 0; // owns nothing: nothing to read
    const operationsBefore = outbox.operations();
    let found = false;
    try {
      const entries = await outbox.pending(options.batchSize, slice ?? undefined);
      if (entries.length === 0) return 0;
      found = true;
      const ready: Ready[] = [];
      const refused: Refused[] = [];
      for (const entry of entries) {
        if ('unreadable' in entry) {
          refused.push({ id: entry.id, ...entry.unreadable });
          continue;
        }
        const { event } = entry;
        const value = toWire(event);
        const bytes = Buffer.byteLength(value);
        if (bytes > MAX_EVENT_BYTES) {
          const reason = `oversized: ${bytes} bytes (limit ${MAX_EVENT_BYTES})`;
          refused.push({ id: entry.id, key: event.userId, stored: value, reason });
          continue;
        }
        // the write's stored trace context rides as W3C `traceparent` (docs/TRACING.md)
        const headers = {
          'event-type': event.type,
          'event-id': event.eventId,
          'transaction-id': event.transactionId,
          ...entry.traceContext,
        };
        const message = { topic: options.topic, key: event.userId, value, headers };
        ready.push({ id: entry.id, message, occurredAt: event.occurredAt });
      }
      refused.push(...(await publish(ready)));
      const isRefused = new Set(refused.map((r) => r.id));
      const published = ready.filter((r) => !isRefused.has(r.id));
      const publishedAt = clock();
      metrics.inc('outbox_published_total', published.length);
      const first = await outbox.markPublished(
        published.map((r) => r.id),
        publishedAt,
      );
      metrics.inc('outbox_first_published_total', first);
      // observed once marked, so a batch published again after a failed mark is observed once
      for (const r of published) {
        metrics.observePublishLag((publishedAt.getTime() - r.occurredAt.getTime()) / 1000);
      }
      await quarantine(refused);
      return entries.length;
    } finally {
      const operations = outbox.operations() - operationsBefore;
      metrics.inc(found ? 'outbox_relay_operations_total' : 'outbox_idle_poll_operations_total', operations);
    }
  }

  const loop = (async () => {
    while (state.running) {
      try {
        const slice = options.slice();
        metrics.setRelayPartitions(slice?.partitions.length ?? 0);
        const count = await relayOnce(slice);
        if (backoffMs > 0) logger.info('outbox relay: publishing again');
        backoffMs = 0;
        idleMs = count > 0 ? options.pollMs / 2 : Math.min(idleMs * 2, options.pollMs * IDLE_BACKOFF_FACTOR);
        if (count < options.batchSize) await pause(count > 0 ? options.pollMs : idleMs);
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
      idleMs = options.pollMs / 2;
      if (wake === undefined || lingering) return;
      lingering = true;
      setTimeout(() => {
        lingering = false;
        wake?.();
      }, NUDGE_LINGER_MS).unref();
    },
    async stop(finalSlice) {
      state.running = false;
      wake?.();
      await loop;
      metrics.setRelayPartitions(0);
      // drains the slice's backlog, not just one batch: events recorded by the last requests of
      // this instance are published now rather than after the group hands the partitions on
      // (a session timeout away when this worker is the last one); bounded, so a large backlog (a
      // broker that was away) cannot hold the stop past its deadline: what is left stays in the
      // outbox for the partitions' next owner
      const slice = finalSlice === undefined ? options.slice() : finalSlice;
      const deadline = Date.now() + FINAL_FLUSH_MS;
      try {
        let relayed = options.batchSize;
        while (relayed === options.batchSize && Date.now() < deadline) relayed = await relayOnce(slice);
        if (relayed === options.batchSize) {
          logger.warn({ flushMs: FINAL_FLUSH_MS }, 'outbox relay: backlog left in the outbox at stop');
        }
      } catch (error) {
        logger.warn({ err: error }, 'outbox relay: final flush failed; events stay in the outbox');
      }
    },
  };
}

import type { Logger } from 'pino';
import { parseWire } from '../events/transaction-events.ts';
import type { Metrics } from '../metrics.ts';
import type { ConsumedMessage, EventBus } from '../events/event-bus.port.ts';
import type { EventPosition } from '../alerts/alert-store.port.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';

/**
 * The worker's entry point for `transactions.v1`: validates each message against the event
 * schema; a message that cannot be processed goes to the DLQ with its error and the rest carry
 * on. Valid events go to the reactions (projection, alerts, scores, webhooks); if they fail (a
 * dependency down) the batch throws and is delivered again, since offsets are committed only
 * after this resolves.
 */
export function createTransactionEventsHandler(deps: {
  bus: EventBus;
  dlqTopic: string;
  logger: Logger;
  metrics: Metrics;
  /** `positions`: where each event sat on the topic (alert rules skip what they evaluated before). */
  react: (
    events: readonly TransactionEvent[],
    positions: ReadonlyMap<TransactionEvent, EventPosition>,
  ) => Promise<unknown>;
}) {
  return async function handle(batch: readonly ConsumedMessage[]): Promise<void> {
    const events: TransactionEvent[] = [];
    const positions = new Map<TransactionEvent, EventPosition>();
    const rejected: { message: ConsumedMessage; reason: string }[] = [];
    for (const message of batch) {
      const parsed = parseWire(message.value);
      if (parsed.ok) {
        events.push(parsed.event);
        positions.set(parsed.event, {
          partition: message.partition,
          offset: BigInt(message.offset),
          occurredAt: parsed.event.occurredAt,
        });
      } else rejected.push({ message, reason: parsed.reason });
    }
    if (rejected.length > 0) {
      await deps.bus.publish(
        rejected.map(({ message, reason }) => ({
          topic: deps.dlqTopic,
          key: message.key,
          value: message.value,
          headers: {
            'dlq-error': reason.slice(0, 500),
            'dlq-source': `${message.topic}/${message.partition}/${message.offset}`,
          },
        })),
      );
      deps.metrics.inc('events_dead_lettered_total', rejected.length);
      for (const { message, reason } of rejected) {
        deps.logger.warn(
          { topic: message.topic, partition: message.partition, offset: message.offset, reason },
          'event dead-lettered',
        );
      }
    }
    if (events.length > 0) {
      await deps.react(events, positions);
      deps.metrics.inc('events_projected_total', events.length);
    }
  };
}

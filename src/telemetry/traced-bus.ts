import type { BusMessage, ConsumedMessage, EventBus, SubscribeOptions } from '../events/event-bus.port.ts';
import { rememberWhileProcessing } from './consumed-event-contexts.ts';
import { tracing, type SpanAttributes, type TraceCarrier } from './tracing.ts';

/**
 * The trace context a relay put on a message (the write's, stored with its outbox event) or a
 * consumer received: W3C Trace Context, as Kafka message headers carry it.
 */
export function carrierOfHeaders(headers: BusMessage['headers']): TraceCarrier | undefined {
  const traceparent = headers?.traceparent;
  if (traceparent === undefined) return undefined;
  const tracestate = headers?.tracestate;
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

/** The headers less any stored context: the producer span's own context goes in its place. */
function withoutTraceHeaders(headers: BusMessage['headers']): Record<string, string> {
  const rest: Record<string, string> = { ...headers };
  delete rest.traceparent;
  delete rest.tracestate;
  return rest;
}

/** Ids only (the relay adds them as headers): never a name, a token or an amount. */
const idsOf = (headers: BusMessage['headers']): SpanAttributes => ({
  ...(headers?.['event-id'] === undefined ? {} : { 'fido.event_id': headers['event-id'] }),
  ...(headers?.['transaction-id'] === undefined ? {} : { 'fido.transaction_id': headers['transaction-id'] }),
});

/**
 * The bus with OpenTelemetry messaging spans, for both buses (an instrumentation of Kafka's send()
 * would parent a relay batch on the relay's context; each message here continues its own write's).
 * Publishing: one PRODUCER span per message, `send <topic>`, child of the
 * context in the message's `traceparent` header (the stored write's, put there by the relay) or
 * of the active one, whose context replaces that header, so the consumer continues from it.
 * Consuming: a CONSUMER span `process <topic>` per message, child of its header's context; a batch
 * of several is also one CONSUMER span linked to every message's context, under which the batch's
 * work (store, alerts, scores) runs. With tracing off it passes everything through untouched.
 */
export function traceBus(bus: EventBus): EventBus {
  if (!tracing().enabled) return bus;
  const system = bus.name;
  const messaging = (topic: string, operation: 'send' | 'process'): SpanAttributes => ({
    'messaging.system': system,
    'messaging.destination.name': topic,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
  });

  async function publish(messages: readonly BusMessage[]): Promise<void> {
    if (!tracing().enabled || messages.length === 0) return bus.publish(messages);
    const spans = messages.map((message) =>
      tracing().startSpan(`send ${message.topic}`, {
        kind: 'producer',
        parent: carrierOfHeaders(message.headers),
        attributes: { ...messaging(message.topic, 'send'), ...idsOf(message.headers) },
      }),
    );
    const traced = messages.map((message, i) => {
      const headers = withoutTraceHeaders(message.headers);
      return { ...message, headers: { ...headers, ...spans[i]?.carrier() } };
    });
    try {
      await bus.publish(traced);
      for (const span of spans) span.end();
    } catch (error) {
      for (const span of spans) span.end(error);
      throw error;
    }
  }

  function traceHandle(options: SubscribeOptions): SubscribeOptions['handle'] {
    const attributes = (m: ConsumedMessage): SpanAttributes => ({
      ...messaging(m.topic, 'process'),
      'messaging.consumer.group.name': options.groupId,
      'messaging.destination.partition.id': String(m.partition),
      'messaging.kafka.offset': Number(m.offset),
      ...idsOf(m.headers),
    });
    return async (batch) => {
      if (!tracing().enabled || batch.length === 0) return options.handle(batch);
      const only = batch.length === 1 ? batch[0] : undefined;
      if (only !== undefined) {
        const name = `process ${only.topic}`;
        const parent = carrierOfHeaders(only.headers);
        return tracing().inSpan(name, { kind: 'consumer', parent, attributes: attributes(only) }, () =>
          handleRemembering(batch, [() => tracing().current()]),
        );
      }
      const topics = [...new Set(batch.map((m) => m.topic))].join(',');
      const links = batch.map((m) => carrierOfHeaders(m.headers));
      const batchAttributes = {
        ...messaging(topics, 'process'),
        'messaging.batch.message_count': batch.length,
      };
      return tracing().inSpan(
        `process ${topics}`,
        { kind: 'consumer', links, attributes: batchAttributes },
        () => {
          const batchContext = [tracing().current()];
          const spans = batch.map((m, i) =>
            tracing().startSpan(`process ${m.topic}`, {
              kind: 'consumer',
              parent: links[i],
              links: batchContext,
              attributes: attributes(m),
            }),
          );
          return handleRemembering(
            batch,
            spans.map((s) => () => s.carrier()),
            (error) => {
              for (const span of spans) span.end(error);
            },
          );
        },
      );
    };

    async function handleRemembering(
      batch: readonly ConsumedMessage[],
      /** Each message's context, asked for only by work queued for its event (a webhook). */
      contexts: readonly (() => TraceCarrier | undefined)[],
      end: (error?: unknown) => void = () => undefined,
    ): Promise<void> {
      const forget: (() => void)[] = [];
      contexts.forEach((context, i) => {
        const eventId = batch[i]?.headers?.['event-id'];
        if (eventId !== undefined) forget.push(rememberWhileProcessing(eventId, context));
      });
      try {
        await options.handle(batch);
        end();
      } catch (error) {
        end(error);
        throw error;
      } finally {
        for (const done of forget) done();
      }
    }
  }

  return {
    name: bus.name,
    ensureTopics: (topics) => bus.ensureTopics(topics),
    partitionCount: (topic) => bus.partitionCount(topic),
    publish,
    subscribe: (options) => bus.subscribe({ ...options, handle: traceHandle(options) }),
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}

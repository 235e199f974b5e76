import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import type { OpenSpan, SpanKindName, SpanOptions, TraceCarrier, Tracing } from './tracing.ts';

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
};

/** The W3C headers of a context (the SDK registers the W3C Trace Context propagator by default). */
function carrierOf(ctx: Context): TraceCarrier | undefined {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  const { traceparent, tracestate } = headers;
  if (traceparent === undefined) return undefined;
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

function contextOf(carrier: TraceCarrier | undefined): Context {
  if (carrier === undefined) return context.active();
  return propagation.extract(context.active(), { ...carrier });
}

function linksOf(carriers: SpanOptions['links']): Link[] {
  const links: Link[] = [];
  for (const carrier of carriers ?? []) {
    if (carrier === undefined) continue;
    const linked = trace.getSpanContext(propagation.extract(context.active(), { ...carrier }));
    if (linked !== undefined) links.push({ context: linked });
  }
  return links;
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
}

/** The facade of tracing.ts over the OpenTelemetry API, once the SDK is registered. */
export function createOtelTracing(shutdown: () => Promise<void>): Tracing {
  const tracer = trace.getTracer('fido-transactions');
  const start = (name: string, options: SpanOptions): { span: Span; ctx: Context } => {
    const parent = contextOf(options.parent);
    const span = tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind ?? 'internal'],
        attributes: options.attributes,
        links: linksOf(options.links),
      },
      parent,
    );
    return { span, ctx: trace.setSpan(parent, span) };
  };
  return {
    enabled: true,
    current: () => carrierOf(context.active()),
    async inSpan(name, options, work) {
      const { span, ctx } = start(name, options);
      try {
        return await context.with(ctx, work);
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    startSpan(name, options): OpenSpan {
      const { span, ctx } = start(name, options);
      return {
        // unsampled too: the flags tell the next hop not to sample either
        carrier: () => carrierOf(ctx),
        end(error) {
          if (error !== undefined) fail(span, error);
          span.end();
        },
      };
    },
    logFields() {
      const spanContext = trace.getSpanContext(context.active());
      if (spanContext === undefined) return undefined;
      return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
    },
    shutdown,
  };
}

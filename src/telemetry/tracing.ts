/**
 * The one door the rest of the code uses to trace: a no-op until `installTracing` is called by
 * src/telemetry/start-tracing.ts (only when OTEL_EXPORTER_OTLP_ENDPOINT is set). This file imports
 * nothing from OpenTelemetry, so the embedded default loads none of it and pays a function call
 * that returns at once.
 */

/** Shares of requests recorded with the service's default sampling, 0-1 (docs/TRACING.md, "Sampling"). */
export interface SampleRatios {
  /** Reads, and other traces no request started (TRACES_READ_SAMPLE_RATIO). */
  readonly reads: number;
  /** POST, PUT, PATCH and DELETE requests (TRACES_WRITE_SAMPLE_RATIO). */
  readonly writes: number;
}

/** A trace context as W3C Trace Context headers carry it: stored with outbox events and deliveries. */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

export type SpanKindName = 'internal' | 'producer' | 'consumer' | 'client' | 'server';
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export interface SpanOptions {
  readonly kind?: SpanKindName;
  /** The parent: a stored or received context; absent, the active context is the parent. */
  readonly parent?: TraceCarrier | undefined;
  /** Other traces this span serves (a batch of events from many writes). */
  readonly links?: readonly (TraceCarrier | undefined)[];
  readonly attributes?: SpanAttributes;
}

/** A span started and ended by hand, for work that is not one call (a message until its batch is acked). */
export interface OpenSpan {
  /** This span's context as headers, to hand on; undefined with tracing off. */
  carrier(): TraceCarrier | undefined;
  end(error?: unknown): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** The active context as headers; undefined with tracing off or outside any span. */
  current(): TraceCarrier | undefined;
  /** Runs `work` in a new span made active, so what it calls (store, HTTP) nests under it. */
  inSpan<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T>;
  startSpan(name: string, options: SpanOptions): OpenSpan;
  /** `trace_id` and `span_id` of the active span, for log lines; undefined outside a span. */
  logFields(): { trace_id: string; span_id: string } | undefined;
  /** Exports what is buffered and stops (the shutdown sequence's last step). */
  shutdown(): Promise<void>;
}

const NO_SPAN: OpenSpan = { carrier: () => undefined, end: () => undefined };

const noTracing: Tracing = {
  enabled: false,
  current: () => undefined,
  inSpan: (_name, _options, work) => work(),
  startSpan: () => NO_SPAN,
  logFields: () => undefined,
  shutdown: () => Promise.resolve(),
};

let active: Tracing = noTracing;

export const tracing = (): Tracing => active;

export function installTracing(implementation: Tracing): void {
  active = implementation;
}

/** Back to no tracing (tests that started the SDK in-process). */
export function uninstallTracing(): void {
  active = noTracing;
}

/** Span attributes naming a transaction's event: ids only, never a name, a token or an amount. */
export const eventAttributes = (ids: {
  readonly eventId?: string | undefined;
  readonly transactionId?: string | undefined;
}): SpanAttributes => ({
  ...(ids.eventId === undefined ? {} : { 'fido.event_id': ids.eventId }),
  ...(ids.transactionId === undefined ? {} : { 'fido.transaction_id': ids.transactionId }),
});

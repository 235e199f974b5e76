import {
  isSpanContextValid,
  SpanKind,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
} from '@opentelemetry/api';
import { tracing as sdkTracing } from '@opentelemetry/sdk-node';
import type { RequestGate } from './request-spans.ts';

const { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler } = sdkTracing;

/** Methods that change data: their requests are the traces support looks up by transaction id. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Which requests are traced, decided before any span exists (src/telemetry/request-spans.ts), so
 * the reads not recorded cost nothing:
 * - every write: a write's trace is what someone opens by its transaction id ("why did this alert
 *   fire late?"), and writes are few next to reads;
 * - a request under a caller's sampled `traceparent`: the caller's trace stays whole;
 * - other reads at `readRatio`: by the caller's trace id under an unsampled `traceparent` (as the
 *   SDK's ratio sampler decides, so every service that samples by ratio agrees), else at random.
 */
export function writesFirstRequestGate(readRatio: number): RequestGate {
  const byTraceId = new TraceIdRatioBasedSampler(readRatio);
  return (method, caller) => {
    if (WRITE_METHODS.has(method)) return true;
    const parent = trace.getSpanContext(caller);
    if (parent === undefined || !isSpanContextValid(parent)) return Math.random() < readRatio;
    if ((parent.traceFlags & TraceFlags.SAMPLED) !== 0) return true;
    const { decision } = byTraceId.shouldSample(caller, parent.traceId);
    return decision === SamplingDecision.RECORD_AND_SAMPLED;
  };
}

/**
 * Decides the traces that start here (a request without a sampled `traceparent`, a message
 * without a stored context):
 * - a server span is recorded: only the requests the gate above admitted have one;
 * - a root linked to a recorded trace is recorded: a batch `process` span serving sampled writes,
 *   under which the batch's shared work runs;
 * - the rest (messages without a context, calls made outside any request) at `readRatio`, by
 *   trace id.
 */
class WritesFirstRootSampler implements sdkTracing.Sampler {
  readonly #readRatio: number;
  readonly #others: sdkTracing.Sampler;

  constructor(readRatio: number) {
    this.#readRatio = readRatio;
    this.#others = new TraceIdRatioBasedSampler(readRatio);
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): sdkTracing.SamplingResult {
    if (spanKind === SpanKind.SERVER) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    if (links.some((link) => (link.context.traceFlags & TraceFlags.SAMPLED) !== 0))
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.#others.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WritesFirstRootSampler{writes=1, reads=${this.#readRatio}}`;
  }
}

/**
 * The service's default sampler when OTEL_TRACES_SAMPLER is unset, with the request gate above: a
 * sampled parent's decision (so a trace is whole across the API, the relay, the worker and the
 * webhook), else the rules above, also under a caller's unsampled `traceparent`: a request the
 * gate admitted (every write) is recorded in the caller's trace. docs/TRACING.md, "Sampling".
 */
export function writesFirstSampler(readRatio: number): sdkTracing.Sampler {
  const rules = new WritesFirstRootSampler(readRatio);
  return new ParentBasedSampler({ root: rules, remoteParentNotSampled: rules });
}

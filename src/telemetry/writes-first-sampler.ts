import { SpanKind, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { tracing as sdkTracing } from '@opentelemetry/sdk-node';

const { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler } = sdkTracing;

/** Methods that change data: their requests are the traces support looks up by transaction id. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Decides the traces that start here (a request without a sampled `traceparent`, a message
 * without a stored context):
 * - every write request is recorded: a write's trace is what someone opens by its transaction id
 *   ("why did this alert fire late?"), and writes are few next to reads;
 * - a root linked to a recorded trace is recorded: a batch `process` span serving sampled writes,
 *   under which the batch's shared work runs;
 * - the rest (reads, probes of other systems, context-less messages) at `readRatio`, by trace id.
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
    const method = attributes['http.request.method'];
    if (spanKind === SpanKind.SERVER && typeof method === 'string' && WRITE_METHODS.has(method))
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    if (links.some((link) => (link.context.traceFlags & TraceFlags.SAMPLED) !== 0))
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.#others.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WritesFirstRootSampler{writes=1, reads=${this.#readRatio}}`;
  }
}

/**
 * The service's default sampler when OTEL_TRACES_SAMPLER is unset: a sampled parent's decision (so
 * a trace is whole across the API, the relay, the worker and the webhook), else the rules above,
 * also under a caller's unsampled `traceparent`: a write is recorded whatever the caller sampled,
 * in the caller's trace. docs/TRACING.md, "Sampling".
 */
export function writesFirstSampler(readRatio: number): sdkTracing.Sampler {
  const rules = new WritesFirstRootSampler(readRatio);
  return new ParentBasedSampler({ root: rules, remoteParentNotSampled: rules });
}

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
import type { SampleRatios } from './tracing.ts';

const { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler } = sdkTracing;

/** Methods that change data: their requests are the traces support looks up by transaction id. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Admits a request at `ratio`, or always under a caller's sampled `traceparent` (the caller's
 * trace stays whole): by the caller's trace id under an unsampled one (as the SDK's ratio sampler
 * decides, so every service that samples by ratio agrees on a trace), else at random.
 */
function admitsAtRatio(ratio: number): (caller: Context) => boolean {
  const byTraceId = new TraceIdRatioBasedSampler(ratio);
  return (caller) => {
    const parent = trace.getSpanContext(caller);
    if (parent === undefined || !isSpanContextValid(parent)) return Math.random() < ratio;
    if ((parent.traceFlags & TraceFlags.SAMPLED) !== 0) return true;
    return byTraceId.shouldSample(caller, parent.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  };
}

/**
 * Which requests are traced, decided before any span exists (src/telemetry/request-spans.ts), so
 * a request not recorded costs nothing: writes at `ratios.writes` (by default every one: a
 * write's trace is what someone opens by its transaction id, "why did this alert fire late?", and
 * writes are few next to reads), reads at `ratios.reads`.
 */
export function writesFirstRequestGate(ratios: SampleRatios): RequestGate {
  const writes = admitsAtRatio(ratios.writes);
  const reads = admitsAtRatio(ratios.reads);
  return (method, caller) => (WRITE_METHODS.has(method) ? writes(caller) : reads(caller));
}

/**
 * Decides the traces that start here without a request's say:
 * - a server span is recorded: only the requests the gate above admitted have one;
 * - a root linked to a recorded trace is recorded: a batch `process` span serving sampled writes,
 *   under which the batch's shared work runs;
 * - the rest (messages without a stored context, from before tracing was on) at `readRatio`, by
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
    return `WritesFirstRootSampler{requests: as admitted, others=${this.#readRatio}}`;
  }
}

/**
 * The service's default sampler when OTEL_TRACES_SAMPLER is unset, with the request gate above: a
 * parent's decision is kept (so a trace is whole, or absent, across the API, the relay, the worker
 * and the webhook), except that a request the gate admitted under a caller's unsampled
 * `traceparent` is recorded, in the caller's trace; roots follow the rules above.
 * docs/TRACING.md, "Sampling".
 */
export function writesFirstSampler(readRatio: number): sdkTracing.Sampler {
  const admittedRequestOnly: sdkTracing.Sampler = {
    shouldSample: (_context, _traceId, _spanName, spanKind) => ({
      decision:
        spanKind === SpanKind.SERVER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
    }),
    toString: () => 'AdmittedRequestOnly',
  };
  return new ParentBasedSampler({
    root: new WritesFirstRootSampler(readRatio),
    remoteParentNotSampled: admittedRequestOnly,
  });
}

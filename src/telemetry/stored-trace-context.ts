import type { TraceCarrier } from './tracing.ts';

/** version-traceid-parentid-flags, as W3C Trace Context writes it. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** tracestate is vendor text of at most 32 list members; longer is not worth storing. */
const MAX_TRACESTATE = 512;

/** A stored context read back: checked, so a damaged row never breaks a relay or a send. */
export function traceContextOf(value: unknown): TraceCarrier | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return undefined;
  return typeof tracestate === 'string' && tracestate !== '' && tracestate.length <= MAX_TRACESTATE
    ? { traceparent, tracestate }
    : { traceparent };
}

/** For a TEXT column (SQLite): JSON, or NULL with no context. */
export const traceContextToText = (carrier: TraceCarrier | undefined): string | null =>
  carrier === undefined ? null : JSON.stringify(traceContextOf(carrier) ?? null);

export function traceContextFromText(text: unknown): TraceCarrier | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return traceContextOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** `{ traceContext }` to spread into a record read back, or `{}` (optional fields stay absent). */
export const withTraceContext = (carrier: TraceCarrier | undefined): { traceContext?: TraceCarrier } =>
  carrier === undefined ? {} : { traceContext: carrier };

import { tracing, type TraceCarrier } from './tracing.ts';

/** `{ traceContext }` of the active span to spread into a stored record; `{}` with tracing off. */
export function traceContextField(): { traceContext?: TraceCarrier } {
  const carrier = tracing().current();
  return carrier === undefined ? {} : { traceContext: carrier };
}

import { tracing } from './tracing.ts';

const NONE = {};

/**
 * A pino mixin: every log line written inside a span carries its `trace_id` and `span_id`, so a
 * line found by grep opens its trace, and a trace's lines are found by its id.
 */
export function traceFieldsForLog(): object {
  return tracing().logFields() ?? NONE;
}

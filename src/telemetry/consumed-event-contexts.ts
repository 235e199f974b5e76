import { tracing, type TraceCarrier } from './tracing.ts';

/**
 * Contexts of the events in the batch being processed, by event id, set by the traced bus while
 * its handler runs. The batch is handled as one, so work queued per event (a webhook delivery)
 * finds its own event's trace here rather than the batch's.
 */
const processing = new Map<string, () => TraceCarrier | undefined>();

/** `context` is asked for only when work is queued for the event (most events queue none). */
export function rememberWhileProcessing(
  eventId: string,
  context: () => TraceCarrier | undefined,
): () => void {
  processing.set(eventId, context);
  return () => processing.delete(eventId);
}

/** The trace of the event's processing; the active context for an event not being consumed. */
export const traceContextOfEvent = (eventId: string): TraceCarrier | undefined =>
  (processing.get(eventId) ?? tracing().current)();

import type { EventPosition } from './alert-store.port.ts';

/**
 * Replay safety of the alert rules. They measure the store as it is when the worker reads it, so
 * an event evaluated again later (a replay of the topic, a new consumer group reading from the
 * start) can meet data written after it and find a crossing at another event: a second alert for
 * one crossing. Each user's rule states therefore remember the last event they were evaluated
 * for, and an event at or before it is skipped (its alerts were stored, published and notified
 * before that position was saved). A position is comparable only on its own partition; both the
 * offset and the occurrence must be at or before the saved ones, so the offsets of a topic that
 * was deleted and created again, starting over at 0, do not hide new events.
 */
export function evaluatedBefore(position: EventPosition | undefined, through: EventPosition | null): boolean {
  return (
    position !== undefined &&
    through !== null &&
    position.partition === through.partition &&
    position.offset <= through.offset &&
    position.occurredAt.getTime() <= through.occurredAt.getTime()
  );
}

import type { TraceCarrier } from '../telemetry/tracing.ts';
import type { TransactionEvent } from '../transactions/transaction.ts';

/**
 * Which pending events a relay asks for: those whose marker names one of `partitions` (of
 * `transactions.v1`, `count` partitions in all; the partitions its consumer-group member owns).
 * Markers written before the partition count was known carry none; the adapter assigns them
 * (Kafka's default partitioner over `count`) and hands out the relay's own.
 */
export interface RelaySlice {
  readonly partitions: readonly number[];
  readonly count: number;
}

/**
 * An event waiting in the outbox; `id` is the store's handle for marking it. `unreadable` when the
 * stored event no longer parses (the relay quarantines it): `stored` is its stored form (never a
 * name: events carry none), `key` its user id when that can be read.
 */
export type OutboxEntry =
  | {
      readonly id: string;
      readonly event: TransactionEvent;
      /** The write's trace context, stored with the event (absent when tracing was off). */
      readonly traceContext?: TraceCarrier;
    }
  | { readonly id: string; readonly unreadable: UnreadableEvent };

export interface UnreadableEvent {
  readonly key: string;
  readonly stored: string;
  readonly reason: string;
}

/** An event set aside by the relay: it could not be parsed or published. */
export interface QuarantinedEvent {
  readonly id: string;
  readonly userId: string | null;
  readonly reason: string;
  readonly at: Date;
}

/**
 * The transactional outbox: events recorded with their writes, handed to the bus by the relay.
 * `pending` guarantees the stored current state of each transaction is at least as new as its
 * events, so a consumer reading the store after an event sees that event's write.
 */
export interface Outbox {
  /** Oldest first (per user in write order), at most `limit`; every partition when `slice` is absent. */
  pending(limit: number, slice?: RelaySlice): Promise<OutboxEntry[]>;
  /** Marks events published; answers how many were not marked yet (first publications). */
  markPublished(ids: readonly string[], at: Date): Promise<number>;
  /** Sets events aside: never handed out by `pending` again until requeued, not in the backlog. */
  quarantine(items: readonly { readonly id: string; readonly reason: string }[], at: Date): Promise<void>;
  /** Quarantined events, oldest first, at most `limit`. */
  quarantined(limit: number): Promise<QuarantinedEvent[]>;
  /** Hands a quarantined event to the relays again (re-read from the store); false for an unknown id. */
  requeue(id: string): Promise<boolean>;
  /** Events not yet published (quarantined ones left out); of the slice's partitions when given. */
  backlog(slice?: RelaySlice): Promise<number>;
  /** Store operations (commands, statements) this outbox issued since it was opened. */
  operations(): number;
}

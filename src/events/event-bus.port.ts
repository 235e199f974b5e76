/**
 * The bus refuses this message for good (too large, an invalid record): sending it again cannot
 * succeed, unlike a bus that is away (DependencyUnavailableError). The relay quarantines it.
 */
export class MessageRefusedError extends Error {
  constructor(reason: string, cause?: unknown) {
    super(reason, { cause });
    this.name = 'MessageRefusedError';
  }
}

/** A message as the bus carries it: JSON text keyed so one key's messages keep their order. */
export interface BusMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ConsumedMessage extends BusMessage {
  readonly partition: number;
  /** Position in the partition, as a decimal string (Kafka offsets are int64). */
  readonly offset: string;
}

export interface SubscribeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Largest batch handed to `handle`. */
  readonly maxBatch: number;
  /**
   * Processes a batch. Offsets are committed only after it resolves; if it throws, the batch is
   * delivered again (at least once). Messages of one partition arrive in order.
   */
  handle(batch: readonly ConsumedMessage[]): Promise<void>;
}

export interface Subscription {
  /** Partitions this member owns now (for metrics and the takeover test). */
  assignments(): readonly { topic: string; partition: number }[];
  /**
   * For each partition this member owns: messages after the group's committed offset (the log
   * end minus the committed position). Empty while it owns none.
   */
  lag(): Promise<readonly { topic: string; partition: number; lag: number }[]>;
  /** Finishes the batch in hand, commits it, leaves the group. */
  close(): Promise<void>;
}

/**
 * The event bus: Kafka in production, a durable embedded log for `npm start`. Same semantics on
 * both: publish resolves once the messages are durable, in order per key; consumers in one group
 * share partitions; delivery is at least once.
 */
export interface EventBus {
  readonly name: string;
  ensureTopics(topics: readonly { name: string; partitions: number }[]): Promise<void>;
  /** The topic's partition count as the bus knows it now; null when the topic does not exist. */
  partitionCount(topic: string): Promise<number | null>;
  publish(messages: readonly BusMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

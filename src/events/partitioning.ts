import { murmur2 } from '@platformatic/kafka';

/**
 * Kafka's default partitioner for a keyed record: Java's toPositive(murmur2(key)) % partitions.
 * The producer, the embedded bus and the outbox markers all use it, so an event's marker names the
 * partition its message lands on, and the relay that owns that partition publishes it.
 */
export const partitionOf = (key: string, partitions: number): number =>
  (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;

/**
 * The partition count of `transactions.v1` as read from the bus (topic metadata), shared by the
 * writers (each outbox marker records its event's partition) and the relay. Null until read: a
 * marker written then carries no partition and the relays assign it (see docs/ARCHITECTURE.md).
 */
export interface PartitionCount {
  get(): number | null;
}

/** What a write records with its event: the partition of its key, or null while the count is unknown. */
export type OutboxPartitioner = (key: string) => number | null;

export const partitionerFor =
  (count: PartitionCount): OutboxPartitioner =>
  (key) => {
    const n = count.get();
    return n === null ? null : partitionOf(key, n);
  };

const RETRY_MS = 2_000;
const REFRESH_MS = 60_000;

export interface WatchedPartitionCount extends PartitionCount {
  /** Settles once the first read did (whatever its outcome). */
  readonly first: Promise<void>;
  /** Reads the count now (a worker after creating the topic); a failure keeps the last count. */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * Reads the topic's partition count from the bus now and again: every 2 s until the topic exists
 * (a worker creates it), then every minute (partitions can be added). Failures keep the last count.
 */
export function watchPartitionCount(
  read: () => Promise<number | null>,
  onError: (error: unknown) => void,
): WatchedPartitionCount {
  let count: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const refresh = async (): Promise<void> => {
    try {
      count = (await read()) ?? count;
    } catch (error) {
      onError(error);
    }
  };
  const tick = async (): Promise<void> => {
    await refresh();
    if (stopped) return;
    timer = setTimeout(() => void tick(), count === null ? RETRY_MS : REFRESH_MS);
    timer.unref();
  };
  const first = tick();
  return {
    first,
    get: () => count,
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

import { randomBytes } from 'node:crypto';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';

/**
 * Events produced to a topic (the sum of its partitions' log end offsets; the run's topics are
 * new, so they start at 0) and consumed by each consumer group (the sum of its committed offsets:
 * what a member processed and committed, which survives the member being killed).
 */
export interface Consumption {
  readonly produced: number;
  readonly consumed: Readonly<Record<string, number>>;
  /** Per partition: log end offset, and each group's committed offset (-1: none). */
  readonly ends: readonly bigint[];
  readonly committed: Readonly<Record<string, readonly bigint[]>>;
}

export async function consumption(
  brokers: string,
  topic: string,
  partitions: number,
  groups: readonly string[],
): Promise<Consumption> {
  const all = Array.from({ length: partitions }, (_, i) => i);
  const consumers = groups.map(
    (groupId) =>
      new Consumer({ clientId: `fido-faults-${groupId}`, bootstrapBrokers: brokers.split(','), groupId }),
  );
  try {
    const first = consumers[0];
    if (first === undefined) throw new Error('no consumer group');
    const ends = (await first.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const committed: Record<string, bigint[]> = {};
    for (const [i, consumer] of consumers.entries()) {
      const offsets = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: all }] });
      committed[groups[i] ?? ''] = all.map((p) => offsets.get(topic)?.[p] ?? -1n);
    }
    const sum = (list: readonly bigint[]) => Number(list.reduce((a, b) => a + (b > 0n ? b : 0n), 0n));
    return {
      produced: sum(ends),
      consumed: Object.fromEntries(Object.entries(committed).map(([group, list]) => [group, sum(list)])),
      ends,
      committed,
    };
  } finally {
    await Promise.all(consumers.map((c) => c.close(true).catch(() => undefined)));
  }
}

/** True when `group` committed at least `target[p]` on every partition. */
export function reached(state: Consumption, group: string, target: readonly bigint[]): boolean {
  const committed = state.committed[group] ?? [];
  // a partition no message ever reached has no committed offset (-1) and nothing to consume
  return target.every((end, p) => end <= 0n || (committed[p] ?? -1n) >= end);
}

/**
 * Distinct events among the messages of `topic` up to `ends` (by their `event-id` header): the
 * outbox relay publishes at least once, so the topic may hold an event more than once.
 */
export async function distinctEvents(
  brokers: string,
  topic: string,
  ends: readonly bigint[],
): Promise<number> {
  if (ends.every((end) => end <= 0n)) return 0;
  const consumer = new Consumer({
    clientId: 'fido-faults-count',
    bootstrapBrokers: brokers.split(','),
    groupId: `${topic}-count-${randomBytes(4).toString('hex')}`,
    deserializers: stringDeserializers,
    autocommit: false,
  });
  const ids = new Set<string>();
  const next = ends.map(() => 0n);
  const deadline = setTimeout(() => void consumer.close(true), COUNT_TIMEOUT_MS);
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    for await (const message of stream) {
      ids.add(message.headers.get('event-id') ?? `${message.partition}:${message.offset}`);
      next[message.partition] = message.offset + 1n;
      if (next.every((n, p) => n >= (ends[p] ?? 0n))) break;
    }
    if (!next.every((n, p) => n >= (ends[p] ?? 0n))) throw new Error(`${topic} not read to its end in time`);
    return ids.size;
  } finally {
    clearTimeout(deadline);
    await consumer.close(true).catch(() => undefined);
  }
}

const COUNT_TIMEOUT_MS = 60_000;

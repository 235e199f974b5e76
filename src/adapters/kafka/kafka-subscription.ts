import {
  Consumer,
  MessagesStreamModes,
  stringDeserializers,
  type BaseOptions,
  type CommitOptionsPartition,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { ConsumedMessage, SubscribeOptions, Subscription } from '../../events/event-bus.port.ts';
import { withDeadline } from '../deadline.ts';
import { partitionLags } from './kafka-lag.ts';

/**
 * One member of a Kafka consumer group behind the Subscription port. Batches are what the stream
 * has buffered (at most maxBatch); offsets are committed only after `handle` resolves. Any
 * failure (handle throws, commit fails, the stream or the group membership dies) throws the
 * member away and joins again after a backoff, so consumption restarts from the committed
 * offsets and the failed batch is delivered again: at least once, in order per partition.
 */

type Text = Message<string, string, string, string>;

interface Member {
  readonly consumer: Consumer<string, string, string, string>;
  readonly stream: MessagesStream<string, string, string, string>;
  /** Messages of a partition below this offset were already handed out by this member. */
  readonly next: Map<string, bigint>;
  /** Fired on data, end, failure and close; the pump re-checks everything when woken. */
  readonly signal: Signal;
  /** Set when the stream or the group membership died: the member must be replaced. */
  readonly health: { failure: Error | undefined };
}

type Signal = ReturnType<typeof createSignal>;

function createSignal() {
  let waiting: (() => void) | undefined;
  return {
    wait: () =>
      new Promise<void>((resolve) => {
        waiting = resolve;
      }),
    fire: () => {
      waiting?.();
      waiting = undefined;
    },
  };
}

export interface KafkaSubscriptionSettings {
  readonly client: BaseOptions;
  readonly subscribe: SubscribeOptions;
  readonly onError: (error: unknown) => void;
}

// A killed member's partitions move after sessionTimeout plus one heartbeat of the survivors.
const GROUP = { sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 15_000 } as const;
const MAX_BACKOFF_MS = 5_000;
const CLOSE_TIMEOUT_MS = 10_000;
const LAG_TIMEOUT_MS = 2_000;

export async function startKafkaSubscription(settings: KafkaSubscriptionSettings): Promise<Subscription> {
  const { subscribe, onError } = settings;
  const state = { closing: false };
  // A call, so the compiler does not narrow the flag across the awaits that change it.
  const isClosing = () => state.closing;
  let backoffMs = 0;
  let wakeBackoff: (() => void) | undefined;
  let current: Member | undefined = await join(settings); // the first join fails loudly

  async function pump(member: Member): Promise<void> {
    for (;;) {
      const batch = await nextBatch(member, subscribe.maxBatch, isClosing);
      if (batch === undefined) return;
      const fresh = batch.filter((m) => m.offset >= (member.next.get(partitionKey(m)) ?? -1n));
      if (fresh.length === 0) continue;
      await subscribe.handle(fresh.map(toConsumed));
      await commit(member, fresh);
      for (const m of fresh) member.next.set(partitionKey(m), m.offset + 1n);
      backoffMs = 0;
    }
  }

  const loop = (async () => {
    while (!isClosing()) {
      try {
        current ??= await join(settings);
        await pump(current);
      } catch (error) {
        if (!isClosing()) onError(error);
        backoffMs = Math.min(Math.max(backoffMs * 2, 100), MAX_BACKOFF_MS);
      }
      if (current !== undefined) await leave(current, onError);
      current = undefined;
      if (!isClosing()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs);
          wakeBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeBackoff = undefined;
      }
    }
  })();

  const owned = (member: Member | undefined) =>
    (member?.consumer.assignments ?? [])
      .filter((a) => subscribe.topics.includes(a.topic))
      .flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));

  return {
    assignments: () => owned(current),
    async lag() {
      const member = current;
      if (member === undefined) return [];
      return withDeadline(partitionLags(member.consumer, owned(member)), LAG_TIMEOUT_MS, 'reading the lag');
    },
    async close() {
      state.closing = true;
      current?.signal.fire();
      wakeBackoff?.();
      await loop;
    },
  };
}

async function join(settings: KafkaSubscriptionSettings): Promise<Member> {
  const consumer = new Consumer<string, string, string, string>({
    ...settings.client,
    groupId: settings.subscribe.groupId,
    deserializers: stringDeserializers,
    autocommit: false,
    // The broker answers a fetch as soon as a message arrives; this bounds an idle fetch, which
    // delays the first fetch of partitions gained in a rebalance.
    maxWaitTime: 500,
    ...GROUP,
  });
  const signal = createSignal();
  const health: Member['health'] = { failure: undefined };
  const fail = (error: Error) => {
    health.failure ??= error;
    signal.fire();
  };
  // The consumer emits 'error' when a rejoin after a failed heartbeat fails: the member is dead.
  consumer.on('error', fail);
  let stream: MessagesStream<string, string, string, string>;
  try {
    stream = await consumer.consume({
      topics: [...settings.subscribe.topics],
      autocommit: false,
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: 'earliest',
    });
  } catch (error) {
    await consumer.close(true).catch(() => undefined);
    throw error;
  }
  stream.on('error', fail);
  stream.on('readable', signal.fire);
  stream.on('end', signal.fire);
  stream.on('close', signal.fire);
  return { consumer, stream, next: new Map(), signal, health };
}

/** What the stream has buffered now, at most `max`; undefined once the subscription closes. */
async function nextBatch(member: Member, max: number, closing: () => boolean): Promise<Text[] | undefined> {
  for (;;) {
    if (closing()) return undefined;
    if (member.health.failure !== undefined) throw member.health.failure;
    const batch: Text[] = [];
    while (batch.length < max) {
      const message = member.stream.read() as Text | null;
      if (message === null) break;
      batch.push(message);
    }
    if (batch.length > 0) return batch;
    if (member.stream.readableEnded || member.stream.destroyed) {
      throw new Error('the Kafka message stream ended unexpectedly');
    }
    await member.signal.wait();
  }
}

/**
 * Commits the next offset of each partition in the batch, skipping partitions this member lost
 * in a rebalance meanwhile: their new owner's commits must not be rewound (the new owner
 * delivers those messages again instead).
 */
async function commit(member: Member, batch: readonly Text[]): Promise<void> {
  const owned = new Set(
    (member.consumer.assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)),
  );
  const next = new Map<string, CommitOptionsPartition>();
  for (const { topic, partition, offset, leaderEpoch } of batch) {
    next.set(partitionKey({ topic, partition }), { topic, partition, offset: offset + 1n, leaderEpoch });
  }
  const offsets = [...next.entries()].filter(([key]) => owned.has(key)).map(([, offset]) => offset);
  if (offsets.length > 0) await member.consumer.commit({ offsets });
}

/** Closes the stream (dropping what it buffered, uncommitted) and leaves the group. */
async function leave(member: Member, onError: (error: unknown) => void): Promise<void> {
  const steps = [
    () => withDeadline(member.stream.close(), CLOSE_TIMEOUT_MS, 'closing the Kafka stream'),
    () => withDeadline(member.consumer.close(true), CLOSE_TIMEOUT_MS, 'leaving the Kafka group'),
  ];
  for (const step of steps) await step().catch(onError);
}

const partitionKey = (m: { topic: string; partition: number }): string => `${m.topic}:${m.partition}`;

// A record's key, value or header may be null on the wire; the port carries strings.
const text = (value: string | undefined): string => value ?? '';

function toConsumed(m: Text): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of m.headerEntries) headers[text(name)] = text(value);
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset.toString(),
    key: text(m.key),
    value: text(m.value),
    headers,
  };
}

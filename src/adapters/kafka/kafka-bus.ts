import {
  Admin,
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  stringSerializers,
  type BaseOptions,
} from '@platformatic/kafka';
import { DependencyUnavailableError } from '../../errors.ts';
import { MessageRefusedError, type BusMessage, type EventBus } from '../../events/event-bus.port.ts';
import { DeadlineExceededError, withDeadline } from '../deadline.ts';
import { startKafkaSubscription } from './kafka-subscription.ts';
import { openSubscriptions } from '../open-subscriptions.ts';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Replicas of each topic ensureTopics creates: 1 on the single-broker test bed, 3 in production. */
  readonly replicationFactor?: number;
  /** Upper bound on one publish, retries included, so its caller can back off and retry. */
  readonly publishTimeoutMs?: number;
  /** Failures a subscription recovers from by itself (it rejoins), for logging. */
  readonly onError?: (error: unknown) => void;
}

const PING_TIMEOUT_MS = 3_000;

/**
 * The event bus on Kafka through @platformatic/kafka. The producer is idempotent with acks=all,
 * so a publish resolves only once every in-sync replica has the messages, and a retried batch is
 * not written twice; publishes run one at a time so one key's messages keep their call order.
 * Keys are partitioned with Java's murmur2 so other clients agree on a user's partition.
 */
export function createKafkaBus(options: KafkaBusOptions): EventBus {
  const client: BaseOptions = {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: 3_000,
    timeout: 5_000,
    // More than 1: the idempotent producer replaces 0 or 1 with retrying forever.
    retries: 3,
    retryDelay: 250,
  };
  const producer = new Producer<string, string, string, string>({
    ...client,
    clientId: `${options.clientId}-producer`,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
  });
  const admin = new Admin({ ...client, clientId: `${options.clientId}-admin` });
  const subscriptions = openSubscriptions();
  const onError = options.onError ?? (() => undefined);
  let sending: Promise<unknown> = Promise.resolve();

  return {
    name: 'kafka',

    async ensureTopics(topics) {
      const existing = new Set(await unavailableOnFailure(admin.listTopics()));
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) return;
      const replicas = options.replicationFactor ?? 1;
      try {
        await admin.createTopics({
          topics: missing.map((t) => ({ topic: t.name, partitions: t.partitions, replicas })),
        });
      } catch (error) {
        // Another process may have created them between the listing and now.
        if (leaves(error).every((e) => apiId(e) === 'TOPIC_ALREADY_EXISTS')) return;
        throw translate(error);
      }
    },

    async partitionCount(topic) {
      const topics = await unavailableOnFailure(
        withDeadline(admin.listTopics(), PING_TIMEOUT_MS, 'list topics'),
      );
      if (!topics.includes(topic)) return null;
      const metadata = await unavailableOnFailure(
        withDeadline(admin.metadata({ topics: [topic], forceUpdate: true }), PING_TIMEOUT_MS, 'metadata'),
      );
      return metadata.topics.get(topic)?.partitionsCount ?? null;
    },

    async publish(messages) {
      if (messages.length === 0) return;
      const send = sending.then(() => producer.send({ messages: messages.map(toRecord) }));
      sending = send.catch(() => undefined);
      await unavailableOnFailure(withDeadline(send, options.publishTimeoutMs ?? 10_000, 'publish'));
    },

    async subscribe(subscribeOptions) {
      const subscription = await unavailableOnFailure(
        startKafkaSubscription({
          client: { ...client, clientId: `${options.clientId}-consumer` },
          subscribe: subscribeOptions,
          onError,
        }),
      );
      return subscriptions.track(subscription);
    },

    async ping() {
      await unavailableOnFailure(
        withDeadline(admin.metadata({ topics: [], forceUpdate: true }), PING_TIMEOUT_MS, 'ping'),
      );
    },

    async close() {
      await subscriptions.closeAll();
      await Promise.allSettled([producer.close(), admin.close()]);
    },
  };
}

function toRecord(message: BusMessage) {
  return {
    topic: message.topic,
    key: message.key,
    value: message.value,
    ...(message.headers === undefined ? {} : { headers: { ...message.headers } }),
  };
}

async function unavailableOnFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw translate(error);
  }
}

/** Broker answers about a message itself: sending it again cannot succeed. */
const REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/**
 * A broker that cannot be reached or answers "not now" is an unavailable dependency (the
 * caller backs off); one that refuses a message for what it is says so (MessageRefusedError);
 * anything else, like an unknown topic, is a mistake and passes through.
 */
function translate(error: unknown): unknown {
  const refusal = leaves(error).find((e) => REFUSALS.has(apiId(e) as string));
  if (refusal !== undefined) return new MessageRefusedError(String(apiId(refusal)), error);
  const unreachable = leaves(error).some(
    (e) =>
      ['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT'].includes(property(e, 'code') as string) ||
      property(e, 'canRetry') === true ||
      e instanceof DeadlineExceededError,
  );
  return unreachable ? new DependencyUnavailableError('event bus', error) : error;
}

/** The client nests causes in AggregateErrors (per retry, per broker); the leaves say what happened. */
function leaves(error: unknown): unknown[] {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return (error.errors as unknown[]).flatMap(leaves);
  }
  return [error];
}

const property = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error
    ? (error as Record<string, unknown>)[name]
    : undefined;

const apiId = (error: unknown): unknown => property(error, 'apiId');

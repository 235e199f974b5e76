import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { openEmbeddedBus } from '../../src/adapters/embedded-bus/embedded-bus.ts';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import { partitionOf } from '../../src/events/partitioning.ts';
import { toWire, topicsFor } from '../../src/events/transaction-events.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import type { ConsumedMessage, EventBus, Subscription } from '../../src/events/event-bus.port.ts';
import type { RelaySlice } from '../../src/events/outbox.port.ts';
import type { Storage } from '../../src/storage.port.ts';
import type { TransactionRecord, TransactionWrite } from '../../src/transactions/transaction.ts';
import { startOutboxRelay, type OutboxRelay } from '../../src/worker/outbox-relay.ts';
import { outboxSubjects } from '../contracts/outbox-subjects.ts';
import { aRecord, change, creation } from '../contracts/storage.contract.ts';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';

/**
 * The relay against real buses and both stores: relays that follow one Kafka consumer group
 * publish each event once and take over a departed member's partitions; a stored event no
 * consumer could read is set aside while the others keep flowing.
 */

const PARTITIONS = 6;
const silent = pino({ level: 'silent' });
const { subjects } = await outboxSubjects();
const subjectNamed = (name: string) => subjects.find((s) => s.name === name) ?? assert.fail(name);

/** Reads a topic from the start in a group of its own: what a new consumer would find there. */
async function readTopic(bus: EventBus, topic: string) {
  const received: ConsumedMessage[] = [];
  const subscription = await bus.subscribe({
    groupId: uniqueId('reader'),
    topics: [topic],
    maxBatch: 500,
    handle: (batch) => {
      received.push(...batch);
      return Promise.resolve();
    },
  });
  return { received, subscription };
}

const eventIdOf = (m: ConsumedMessage) => m.headers?.['event-id'] ?? '';

function relayFor(options: {
  storage: Storage;
  bus: EventBus;
  topics: ReturnType<typeof topicsFor>;
  metrics: Metrics;
  slice: () => RelaySlice | null;
}): OutboxRelay {
  return startOutboxRelay({
    outbox: options.storage.outbox,
    bus: options.bus,
    logger: silent,
    metrics: options.metrics,
    clock: () => new Date(),
    topic: options.topics.transactions,
    dlqTopic: options.topics.transactionsDlq,
    batchSize: 100,
    pollMs: 10,
    slice: options.slice,
  });
}

void describe('outbox relays following a Kafka consumer group (MongoDB store)', () => {
  const brokers = () => requireEnv('KAFKA_BROKERS').split(',');
  const topics = topicsFor(`${uniqueId('relay')}.`);
  after(async () => {
    const admin = new Admin({ clientId: 'relay-test-cleanup', bootstrapBrokers: brokers() });
    try {
      await admin.deleteTopics({ topics: [topics.transactions, topics.transactionsDlq] });
    } finally {
      await admin.close();
    }
  });

  void it(
    'publishes N events as N messages with three relays, and a departed member’s partitions are relayed by the others',
    { timeout: 180_000 },
    async () => {
      const subject = subjectNamed('mongodb');
      const groupId = uniqueId('workers');
      interface Member {
        storage: Storage;
        bus: EventBus;
        subscription: Subscription;
        relay: OutboxRelay;
        metrics: Metrics;
      }
      const members: Member[] = [];
      const reader = createKafkaBus({ brokers: brokers(), clientId: 'relay-test-reader' });
      const subscriptions: Subscription[] = [];
      try {
        await reader.ensureTopics([
          { name: topics.transactions, partitions: PARTITIONS },
          { name: topics.transactionsDlq, partitions: 1 },
        ]);
        for (let i = 0; i < 3; i += 1) {
          const storage = await subject.open(PARTITIONS);
          const bus = createKafkaBus({ brokers: brokers(), clientId: `relay-test-${i}` });
          const subscription = await bus.subscribe({
            groupId,
            topics: [topics.transactions],
            maxBatch: 200,
            handle: () => Promise.resolve(),
          });
          const metrics = createMetrics();
          const slice = () => ({
            partitions: subscription.assignments().map((a) => a.partition),
            count: PARTITIONS,
          });
          const relay = relayFor({ storage, bus, topics, metrics, slice });
          members.push({ storage, bus, subscription, relay, metrics });
        }
        const owned = () => members.flatMap((m) => m.subscription.assignments().map((a) => a.partition));
        // the group settled: each partition has one member, every member has two
        await eventually(
          () =>
            Promise.resolve(
              owned().length === PARTITIONS &&
                new Set(owned()).size === PARTITIONS &&
                members.every((m) => m.subscription.assignments().length === 2)
                ? true
                : undefined,
            ),
          60_000,
          100,
        );

        const [writer] = members;
        assert.ok(writer);
        const writes = await writeEvents(writer.storage, 30); // 30 users: 30 creates, 30 updates
        const topic = await readTopic(reader, topics.transactions);
        subscriptions.push(topic.subscription);
        const drained = async (expected: number) => {
          await eventually(
            async () => {
              if (topic.subscription.assignments().length !== PARTITIONS) return undefined;
              const lag = await topic.subscription.lag();
              const caughtUp = lag.length === PARTITIONS && lag.every((p) => p.lag === 0);
              return caughtUp && new Set(topic.received.map(eventIdOf)).size >= expected ? true : undefined;
            },
            60_000,
            100,
          );
        };
        await drained(writes.length);
        assert.equal(topic.received.length, writes.length, 'one message per event');
        assert.deepEqual(topic.received.map(eventIdOf).sort(), writes.map((w) => w.event.eventId).sort());
        const count = (name: 'outbox_published_total' | 'outbox_first_published_total') =>
          members.reduce((sum, m) => sum + m.metrics.get(name), 0);
        // a relay marks its batch after the broker acknowledged it: readers may see it first
        const marked = (expected: number) =>
          eventually(
            async () =>
              count('outbox_first_published_total') === expected &&
              (await writer.storage.outbox.backlog()) === 0
                ? true
                : undefined,
            30_000,
            100,
          );
        await marked(writes.length);
        assert.equal(count('outbox_published_total'), writes.length, 'no duplicate');
        assert.ok(
          members.every((m) => m.metrics.get('outbox_published_total') > 0),
          'every member relayed its share',
        );

        // the third member stops relaying without a final flush (as if killed), then leaves
        const [remaining, departed] = [members.slice(0, 2), members[2]];
        assert.ok(departed);
        const itsPartitions = departed.subscription.assignments().map((a) => a.partition);
        await departed.relay.stop({ partitions: [], count: PARTITIONS });
        const more = await writeEvents(writer.storage, 30);
        const stranded = more.filter((w) => itsPartitions.includes(partitionOfWrite(w)));
        assert.ok(stranded.length > 0, 'some events fall in the departed member’s partitions');
        await departed.subscription.close();
        await drained(writes.length + more.length);
        const seen = new Set(topic.received.map(eventIdOf));
        for (const w of [...writes, ...more]) assert.ok(seen.has(w.event.eventId), w.event.eventId);
        await eventually(
          async () => ((await writer.storage.outbox.backlog()) === 0 ? true : undefined),
          30_000,
          100,
        );
        const firsts = remaining.reduce((sum, m) => sum + m.metrics.get('outbox_first_published_total'), 0);
        assert.ok(
          firsts > 0 && remaining.every((m) => m.subscription.assignments().length === 3),
          'the two members share the six partitions and relayed the departed one’s events',
        );
      } finally {
        for (const s of subscriptions) await s.close();
        for (const m of members) {
          await m.relay.stop({ partitions: [], count: PARTITIONS });
          await m.subscription.close();
          await m.bus.close();
          await m.storage.close();
        }
        await reader.close();
      }
    },
  );
});

for (const name of ['embedded', 'mongodb']) {
  void describe(`outbox relay with a stored event no consumer can read (${name} store)`, () => {
    void it(
      'sets it aside on the DLQ with its reason, keeps the others flowing in order, and publishes it once requeued after a fix',
      { timeout: 60_000 },
      async () => {
        const subject = subjectNamed(name);
        const dataDir = await mkdtemp(join(tmpdir(), 'fido-relay-bus-'));
        const storage = await subject.open(PARTITIONS);
        const bus = await openEmbeddedBus(dataDir);
        const topics = topicsFor(`${uniqueId('poison')}.`);
        const metrics = createMetrics();
        let relay: OutboxRelay | undefined;
        const subscriptions: Subscription[] = [];
        try {
          await bus.ensureTopics([
            { name: topics.transactions, partitions: PARTITIONS },
            { name: topics.transactionsDlq, partitions: 1 },
          ]);
          const userId = uniqueId('u');
          const [a, b, c] = [0, 1, 2].map((i) =>
            aRecord({ userId, updatedAt: new Date(Date.UTC(2024, 9, 5, 10, 0, i)) }),
          );
          assert.ok(a && b && c);
          const writes = [a, b, c].map((r) => creation({ ...r, createdAt: r.updatedAt }));
          for (const w of writes) await storage.transactions.insert(w);
          const updateOfC = change(c, { amountMinor: 5n });
          await storage.transactions.replace(1, updateOfC);
          await subject.spoil(b);
          // the relay starts only now: the spoiled row sits between good ones of the same user
          relay = relayFor({ storage, bus, topics, metrics, slice: () => null });
          const topic = await readTopic(bus, topics.transactions);
          const dlq = await readTopic(bus, topics.transactionsDlq);
          subscriptions.push(topic.subscription, dlq.subscription);
          const mine = () => topic.received.filter((m) => m.key === userId);
          // the DLQ message goes out before the store marks the row quarantined and it is counted
          const settled = () =>
            mine().length === 3 && dlq.received.length === 1 && metrics.get('outbox_quarantined_total') === 1;
          await eventually(() => Promise.resolve(settled() ? true : undefined), 30_000);
          assert.deepEqual(
            mine().map(eventIdOf),
            [writes[0], writes[2], updateOfC].map((w) => w?.event.eventId),
          );
          const [dead] = dlq.received;
          assert.ok(dead);
          assert.equal(dead.key, userId);
          assert.match(dead.headers?.['dlq-error'] ?? '', /type/);
          assert.match(dead.headers?.['dlq-source'] ?? '', /^outbox\//);
          assert.match(dead.value, /transaction\.archived/);
          assert.equal(metrics.get('outbox_quarantined_total'), 1);
          const [listed] = (await storage.outbox.quarantined(100)).filter((q) => q.userId === userId);
          assert.ok(listed);
          assert.equal(`outbox/${listed.id}`, dead.headers?.['dlq-source']);

          await subject.repair(b);
          assert.equal(await storage.outbox.requeue(listed.id), true);
          await eventually(() => Promise.resolve(mine().length === 4 ? true : undefined), 30_000);
          assert.equal(mine().at(-1)?.headers?.['event-id'], writes[1]?.event.eventId);
          assert.equal(metrics.get('outbox_quarantined_total'), 1, 'quarantined once, logged once');
        } finally {
          for (const s of subscriptions) await s.close();
          await relay?.stop(null);
          await bus.close();
          await storage.close();
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    );
  });
}

/**
 * Creates `users` transactions and updates each once; the writes in order. Written now: a marker
 * whose write is not committed yet looks like a dead writer's when its time is long past.
 */
async function writeEvents(storage: Storage, users: number): Promise<TransactionWrite[]> {
  const now = new Date();
  const records: TransactionRecord[] = Array.from({ length: users }, () =>
    aRecord({ userId: uniqueId('u'), createdAt: now, updatedAt: now }),
  );
  const creates = records.map(creation);
  await Promise.all(creates.map((w) => storage.transactions.insert(w)));
  const updates = records.map((r) => change(r, { amountMinor: r.amountMinor + 1n }));
  await Promise.all(updates.map((w) => storage.transactions.replace(1, w)));
  return [...creates, ...updates];
}

function partitionOfWrite(write: TransactionWrite): number {
  return partitionOf(write.event.userId, PARTITIONS);
}

void describe('outbox relay with an event the broker refuses (embedded store, Kafka)', () => {
  void it(
    'quarantines the refused event and publishes the ones around it, in order',
    { timeout: 60_000 },
    async () => {
      const brokers = requireEnv('KAFKA_BROKERS').split(',');
      const topics = topicsFor(`${uniqueId('refuse')}.`);
      const admin = new Admin({ clientId: 'relay-test-refuse', bootstrapBrokers: brokers });
      const storage = await subjectNamed('embedded').open(1);
      const bus = createKafkaBus({ brokers, clientId: 'relay-test-refuse' });
      const metrics = createMetrics();
      const subscriptions: Subscription[] = [];
      let relay: OutboxRelay | undefined;
      try {
        const now = new Date();
        const userId = uniqueId('u');
        const small = [0, 1].map(() => creation(aRecord({ userId, createdAt: now, updatedAt: now })));
        // the same event with 64-character ids: about 130 bytes more on the wire
        const long = (prefix: string) => `${prefix}${'x'.repeat(64 - prefix.length)}`;
        const bigRecord = aRecord({ id: long('tx-'), userId: long('u-'), createdAt: now, updatedAt: now });
        const bigWrite = creation(bigRecord);
        const big = { ...bigWrite, event: { ...bigWrite.event, eventId: long('e-') } };
        // a topic whose size limit lets a small event's record batch through, not the big one's
        const sizeOf = (w: TransactionWrite) =>
          Buffer.byteLength(toWire(w.event)) + w.event.userId.length + w.event.eventId.length + 29;
        const limit = Math.round((sizeOf(small[0] ?? big) + sizeOf(big)) / 2) + 61 + 12;
        await admin.createTopics({
          topics: [topics.transactions],
          partitions: 1,
          replicas: 1,
          configs: [{ name: 'max.message.bytes', value: String(limit) }],
        });
        await bus.ensureTopics([{ name: topics.transactionsDlq, partitions: 1 }]);
        const [first, second] = small;
        assert.ok(first && second);
        for (const w of [first, big, second]) await storage.transactions.insert(w);
        relay = relayFor({ storage, bus, topics, metrics, slice: () => null });
        const topic = await readTopic(bus, topics.transactions);
        const dlq = await readTopic(bus, topics.transactionsDlq);
        subscriptions.push(topic.subscription, dlq.subscription);
        const settled = () =>
          dlq.received.length === 1 &&
          topic.received.length >= 2 &&
          metrics.get('outbox_quarantined_total') === 1;
        await eventually(() => Promise.resolve(settled() ? true : undefined), 30_000);
        const published = [...new Set(topic.received.map(eventIdOf))];
        assert.deepEqual(published, [first.event.eventId, second.event.eventId]);
        assert.match(dlq.received[0]?.headers?.['dlq-error'] ?? '', /refused by the bus: MESSAGE_TOO_LARGE/);
        assert.equal(metrics.get('outbox_quarantined_total'), 1);
        const quarantined = await storage.outbox.quarantined(100);
        assert.ok(quarantined.some((q) => q.userId === big.event.userId));
      } finally {
        for (const s of subscriptions) await s.close();
        await relay?.stop(null);
        await bus.close();
        await storage.close();
        await admin
          .deleteTopics({ topics: [topics.transactions, topics.transactionsDlq] })
          .catch(() => undefined);
        await admin.close();
      }
    },
  );
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { openEmbeddedBus } from '../../src/adapters/embedded-bus/embedded-bus.ts';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus.ts';
import { DependencyUnavailableError } from '../../src/errors.ts';
import type { ConsumedMessage, EventBus, Subscription } from '../../src/events/event-bus.port.ts';
import { eventually, requireEnv, uniqueId } from '../helpers.ts';
import { eventBusContract, TOPIC_PREFIX } from './event-bus.contract.ts';

/** Runs the EventBus contract against both adapters, then what only one adapter can show. */

const kafkaBrokers = () => requireEnv('KAFKA_BROKERS').split(',');

eventBusContract('kafka', () =>
  Promise.resolve(createKafkaBus({ brokers: kafkaBrokers(), clientId: 'contract' })),
);

void describe('Kafka bus', () => {
  after(async () => {
    // Topics are not behind the port's lifecycle; drop the ones this run created.
    const admin = new Admin({ clientId: 'contract-cleanup', bootstrapBrokers: kafkaBrokers() });
    try {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(TOPIC_PREFIX));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.close();
    }
  });

  void it(
    'answers DependencyUnavailableError within seconds when no broker is reachable',
    { timeout: 30_000 },
    async () => {
      const bus = createKafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'contract-unreachable' });
      try {
        await assert.rejects(
          bus.publish([{ topic: 'anything', key: 'k', value: 'v' }]),
          DependencyUnavailableError,
        );
        await assert.rejects(bus.ping(), DependencyUnavailableError);
        await assert.rejects(
          bus.ensureTopics([{ name: 'anything', partitions: 1 }]),
          DependencyUnavailableError,
        );
        await assert.rejects(
          bus.subscribe({ groupId: 'g', topics: ['anything'], maxBatch: 1, handle: () => Promise.resolve() }),
          DependencyUnavailableError,
        );
      } finally {
        await bus.close();
      }
    },
  );
});

const dataDir = await mkdtemp(join(tmpdir(), 'fido-bus-'));
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

eventBusContract('embedded', () => openEmbeddedBus(dataDir));

void describe('embedded bus on disk', () => {
  const consume = async (bus: EventBus, groupId: string, topic: string) => {
    const received: ConsumedMessage[] = [];
    const subscription = await bus.subscribe({
      groupId,
      topics: [topic],
      maxBatch: 100,
      handle: (batch) => {
        received.push(...batch);
        return Promise.resolve();
      },
    });
    return { received, subscription };
  };
  const until = (condition: () => boolean) =>
    eventually(() => Promise.resolve(condition() ? true : undefined), 10_000, 20);
  const offsetsAndValues = (messages: ConsumedMessage[]) => messages.map((m) => [m.offset, m.value]);

  void it('keeps unconsumed messages, committed offsets and the offset sequence across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fido-bus-reopen-'));
    const subscriptions: Subscription[] = [];
    try {
      const topic = uniqueId('reopen');
      const groupId = uniqueId('group');
      const first = await openEmbeddedBus(dir);
      await first.ensureTopics([{ name: topic, partitions: 1 }]);
      await first.publish(['a', 'b', 'c'].map((value) => ({ topic, key: 'user-1', value })));
      const before = await consume(first, groupId, topic);
      await until(() => before.received.length >= 3);
      await before.subscription.close();
      await first.publish(['d', 'e'].map((value) => ({ topic, key: 'user-1', value })));
      await first.close();

      const second = await openEmbeddedBus(dir);
      try {
        const resumed = await consume(second, groupId, topic);
        const fresh = await consume(second, uniqueId('group'), topic);
        subscriptions.push(resumed.subscription, fresh.subscription);
        await until(() => resumed.received.length >= 2 && fresh.received.length >= 5);
        await second.publish([{ topic, key: 'user-1', value: 'f' }]);
        await until(() => resumed.received.length >= 3);
        assert.deepEqual(offsetsAndValues(resumed.received), [
          ['3', 'd'],
          ['4', 'e'],
          ['5', 'f'],
        ]);
        assert.deepEqual(offsetsAndValues(fresh.received).slice(0, 5), [
          ['0', 'a'],
          ['1', 'b'],
          ['2', 'c'],
          ['3', 'd'],
          ['4', 'e'],
        ]);
      } finally {
        await Promise.all(subscriptions.map((s) => s.close()));
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('lets one process at a time own a group; another on the same file takes over when it closes', async () => {
    const [one, two] = [await openEmbeddedBus(dataDir), await openEmbeddedBus(dataDir)];
    try {
      const topic = uniqueId('shared');
      const groupId = uniqueId('group');
      await one.ensureTopics([{ name: topic, partitions: 2 }]);
      const a = await consume(one, groupId, topic);
      const b = await consume(two, groupId, topic);
      assert.equal(a.subscription.assignments().length, 2);
      assert.deepEqual(b.subscription.assignments(), []);
      await two.publish([{ topic, key: 'user-1', value: 'to-a' }]);
      await until(() => a.received.length === 1);
      await a.subscription.close();
      await until(() => b.subscription.assignments().length === 2);
      await one.publish([{ topic, key: 'user-1', value: 'to-b' }]);
      await until(() => b.received.length === 1);
      assert.deepEqual(
        [...a.received, ...b.received].map((m) => m.value),
        ['to-a', 'to-b'],
      );
      await b.subscription.close();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { DependencyUnavailableError } from '../../src/errors.ts';
import { partitionOf } from '../../src/events/partitioning.ts';
import type { BusMessage, ConsumedMessage, EventBus, Subscription } from '../../src/events/event-bus.port.ts';
import { eventually, uniqueId } from '../helpers.ts';

/** The EventBus port's contract: every adapter runs this same suite, so they cannot drift apart. */

/** Every topic this run creates starts with this, so a Kafka run can delete what it made. */
export const TOPIC_PREFIX = uniqueId('contract');
const TEST_TIMEOUT = { timeout: 60_000 };

type Handle = (batch: readonly ConsumedMessage[]) => Promise<void>;

export function eventBusContract(name: string, open: () => Promise<EventBus>): void {
  void describe(`EventBus contract: ${name}`, () => {
    let opened: Promise<EventBus> | undefined;
    const bus = () => (opened ??= open());
    const subscriptions: Subscription[] = [];
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.close()));
    });
    after(async () => {
      await (await opened)?.close();
    });

    const topic = async (partitions = 3): Promise<string> => {
      const name = uniqueId(TOPIC_PREFIX);
      await (await bus()).ensureTopics([{ name, partitions }]);
      return name;
    };
    /** Subscribes and records what each successful `handle` call saw, in delivery order. */
    const collect = async (groupId: string, topics: string[], maxBatch = 100, handle?: Handle) => {
      const received: ConsumedMessage[] = [];
      const subscription = await (
        await bus()
      ).subscribe({
        groupId,
        topics,
        maxBatch,
        handle: async (batch) => {
          assert.ok(batch.length > 0 && batch.length <= maxBatch, `batch of ${batch.length}`);
          await handle?.(batch);
          received.push(...batch);
        },
      });
      subscriptions.push(subscription);
      return { received, subscription };
    };
    const values = (messages: readonly ConsumedMessage[]) => messages.map((m) => m.value).sort();
    const until = (condition: () => boolean) =>
      eventually(() => Promise.resolve(condition() ? true : undefined), 30_000, 20);
    const messagesFor = (name: string, keys: string[], count: number, tag = 'm'): BusMessage[] =>
      Array.from({ length: count }, (_, i) => ({
        topic: name,
        key: keys[i % keys.length] ?? 'no-key',
        value: `${tag}-${i}`,
      }));

    void it(
      "knows each topic's partition count and puts each key where Kafka's default partitioner does",
      TEST_TIMEOUT,
      async () => {
        assert.equal(await (await bus()).partitionCount(uniqueId(TOPIC_PREFIX)), null);
        const name = await topic(5);
        assert.equal(await (await bus()).partitionCount(name), 5);
        // what outbox markers record (src/events/partitioning.ts) is where the message lands
        const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
        await (await bus()).publish(keys.map((key) => ({ topic: name, key, value: key })));
        const { received } = await collect(uniqueId('group'), [name]);
        await until(() => received.length >= keys.length);
        for (const m of received) assert.equal(m.partition, partitionOf(m.key, 5), m.key);
      },
    );

    void it('delivers every published message with its key, value and headers', TEST_TIMEOUT, async () => {
      const name = await topic();
      const published: BusMessage[] = [
        { topic: name, key: 'user-1', value: '{"n":1}', headers: { 'event-type': 'transaction.created' } },
        { topic: name, key: 'user-2', value: 'Ama Mensah — ₵475.66', headers: { a: '1', b: '' } },
        { topic: name, key: 'user-3', value: '' },
      ];
      await (await bus()).publish(published);
      await (await bus()).publish([]);
      const { received } = await collect(uniqueId('group'), [name]);
      await until(() => received.length >= published.length);
      const seen = received.map(({ topic, key, value, headers }) => ({ topic, key, value, headers }));
      const expected = published.map((m) => ({ ...m, headers: m.headers ?? {} }));
      const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
      assert.deepEqual(seen.sort(byKey), expected.sort(byKey));
      for (const m of received) {
        assert.ok(Number.isInteger(m.partition) && m.partition >= 0 && m.partition < 3, String(m.partition));
        assert.match(m.offset, /^\d+$/);
      }
    });

    void it(
      'keeps the publish order of each key (200 messages, 10 keys, 3 partitions)',
      TEST_TIMEOUT,
      async () => {
        const name = await topic(3);
        const keys = Array.from({ length: 10 }, (_, i) => `user-${i}`);
        const all = messagesFor(name, keys, 200);
        for (let i = 0; i < all.length; i += 50) await (await bus()).publish(all.slice(i, i + 50));
        const { received } = await collect(uniqueId('group'), [name], 17);
        await until(() => received.length >= all.length);
        assert.equal(received.length, all.length);
        for (const key of keys) {
          const mine = received.filter((m) => m.key === key);
          const sent = all.filter((m) => m.key === key).map((m) => m.value);
          assert.deepEqual(
            mine.map((m) => m.value),
            sent,
            `order of ${key}`,
          );
          assert.equal(new Set(mine.map((m) => m.partition)).size, 1, `${key} stays on one partition`);
        }
        assert.equal(
          new Set(received.map((m) => m.partition)).size,
          3,
          'the keys spread over every partition',
        );
      },
    );

    void it(
      'delivers a failed batch again, and a new member does not see what was committed',
      TEST_TIMEOUT,
      async () => {
        const name = await topic();
        const groupId = uniqueId('group');
        // One key: one partition, so anything delivered again would come before what follows it.
        await (await bus()).publish(messagesFor(name, ['user-1'], 3, 'first'));
        const failed: ConsumedMessage[] = [];
        const { received, subscription } = await collect(groupId, [name], 100, (batch) => {
          if (failed.length > 0) return Promise.resolve();
          failed.push(...batch);
          return Promise.reject(new Error('the handler failed'));
        });
        await until(() => received.length >= 3);
        assert.ok(failed.length > 0);
        assert.deepEqual(values(received), ['first-0', 'first-1', 'first-2']);
        await subscription.close();

        await (await bus()).publish(messagesFor(name, ['user-1'], 1, 'second'));
        const next = await collect(groupId, [name]);
        await until(() => next.received.length >= 1);
        assert.deepEqual(values(next.received), ['second-0']);
      },
    );

    void it(
      'resumes from committed offsets after close: a new member gets exactly what came after',
      TEST_TIMEOUT,
      async () => {
        const name = await topic(3);
        const groupId = uniqueId('group');
        const keys = ['user-a', 'user-b', 'user-c', 'user-d', 'user-e', 'user-f'];
        await (await bus()).publish(messagesFor(name, keys, 12, 'old'));
        const first = await collect(groupId, [name], 5);
        await until(() => first.received.length >= 12);
        await first.subscription.close();

        // The same keys again: in each partition an old message delivered again would come first.
        const later = messagesFor(name, keys, 6, 'new');
        await (await bus()).publish(later);
        const second = await collect(groupId, [name]);
        await until(() => second.received.length >= later.length);
        assert.deepEqual(values(second.received), later.map((m) => m.value).sort());
      },
    );

    void it('finishes and commits the batch in hand when closed', TEST_TIMEOUT, async () => {
      const name = await topic(1);
      const groupId = uniqueId('group');
      await (await bus()).publish(messagesFor(name, ['user-1'], 2, 'held'));
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered = false;
      const { received, subscription } = await collect(groupId, [name], 100, async () => {
        entered = true;
        await held;
      });
      await until(() => entered);
      const closing = subscription.close();
      release();
      await closing;
      assert.deepEqual(values(received), ['held-0', 'held-1']);

      await (await bus()).publish(messagesFor(name, ['user-1'], 1, 'after'));
      const next = await collect(groupId, [name]);
      await until(() => next.received.length >= 1);
      assert.deepEqual(values(next.received), ['after-0']);
    });

    void it('gives every group every message', TEST_TIMEOUT, async () => {
      const name = await topic();
      const all = messagesFor(name, ['u1', 'u2', 'u3', 'u4'], 20);
      await (await bus()).publish(all);
      const groups = await Promise.all([collect(uniqueId('a'), [name]), collect(uniqueId('b'), [name])]);
      await until(() => groups.every((g) => g.received.length >= all.length));
      for (const g of groups) assert.deepEqual(values(g.received), all.map((m) => m.value).sort());
    });

    void it('ensureTopics is idempotent and leaves an existing topic as it is', TEST_TIMEOUT, async () => {
      const name = await topic(3);
      const other = uniqueId(TOPIC_PREFIX);
      const b = await bus();
      // Two processes starting at once race to create the same topic: both succeed.
      const twin = await open();
      try {
        await Promise.all([
          twin.ensureTopics([{ name: other, partitions: 2 }]),
          b.ensureTopics([
            { name, partitions: 5 },
            { name: other, partitions: 2 },
          ]),
        ]);
      } finally {
        await twin.close();
      }
      await b.ensureTopics([{ name: other, partitions: 2 }]);
      const { subscription } = await collect(uniqueId('group'), [name, other]);
      await until(() => subscription.assignments().length > 0);
      const owned = subscription.assignments().map((a) => `${a.topic}:${a.partition}`);
      const expected = [`${name}:0`, `${name}:1`, `${name}:2`, `${other}:0`, `${other}:1`];
      assert.deepEqual(owned.sort(), expected.sort());
    });

    void it(
      'reports the partitions each member owns; a closing member hands them over',
      TEST_TIMEOUT,
      async () => {
        const [t3, t2] = [await topic(3), await topic(2)];
        const groupId = uniqueId('group');
        const everything = [0, 1, 2].map((p) => `${t3}:${p}`).concat([0, 1].map((p) => `${t2}:${p}`));
        const owned = (s: Subscription) => s.assignments().map((a) => `${a.topic}:${a.partition}`);
        const first = await collect(groupId, [t3, t2]);
        await until(() => owned(first.subscription).length === 5);
        assert.deepEqual(owned(first.subscription).sort(), everything.sort());

        const second = await collect(groupId, [t3, t2]);
        const union = () => [...owned(first.subscription), ...owned(second.subscription)].sort();
        // Kafka splits the partitions, the embedded bus keeps them with the first member: both cover all once.
        await until(() => JSON.stringify(union()) === JSON.stringify(everything));
        await first.subscription.close();
        await until(() => owned(second.subscription).length === 5);
        assert.deepEqual(owned(second.subscription).sort(), everything);
      },
    );

    void it(
      "reports each owned partition's lag: what is published and not committed yet",
      TEST_TIMEOUT,
      async () => {
        const name = await topic(2);
        const groupId = uniqueId('group');
        // one key: every message on one partition, the other stays empty
        await (await bus()).publish(messagesFor(name, ['user-1'], 5, 'lag'));
        let release: () => void = () => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        const { received, subscription } = await collect(groupId, [name], 100, () => held);
        // held in the first batch: nothing committed, the whole partition is lag
        const busy = await eventually(async () => {
          const now = await subscription.lag();
          return now.some((l) => l.lag === 5) ? now : undefined;
        }, 30_000);
        assert.deepEqual(busy.map((l) => `${l.topic}:${l.partition}`).sort(), [`${name}:0`, `${name}:1`]);
        assert.deepEqual(busy.map((l) => l.lag).sort(), [0, 5]);
        release();
        await until(() => received.length >= 5);
        const caughtUp = await eventually(async () => {
          const now = await subscription.lag();
          return now.length === 2 && now.every((l) => l.lag === 0) ? now : undefined;
        }, 30_000);
        assert.equal(caughtUp.length, 2);
      },
    );

    void it(
      'rejects a publish or a subscription to a topic never created, as a mistake',
      TEST_TIMEOUT,
      async () => {
        const b = await bus();
        const missing = uniqueId(`${TOPIC_PREFIX}-missing`);
        const mistake = (error: unknown) =>
          error instanceof Error && !(error instanceof DependencyUnavailableError);
        await assert.rejects(b.publish([{ topic: missing, key: 'k', value: 'v' }]), mistake);
        await assert.rejects(
          b.subscribe({
            groupId: uniqueId('group'),
            topics: [missing],
            maxBatch: 1,
            handle: () => Promise.resolve(),
          }),
          mistake,
        );
      },
    );

    void it('answers ping', async () => {
      await (await bus()).ping();
    });
  });
}

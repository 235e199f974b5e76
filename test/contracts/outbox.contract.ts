import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionOf } from '../../src/events/partitioning.ts';
import type { OutboxEntry, RelaySlice } from '../../src/events/outbox.port.ts';
import type { Storage } from '../../src/storage.port.ts';
import type { TransactionRecord } from '../../src/transactions/transaction.ts';
import { aRecord, change, creation, useStorage } from './storage.contract.ts';
import type { OutboxSubject } from './outbox-subjects.ts';
import { uniqueId } from '../helpers.ts';

/** The Outbox port's contract: every adapter runs this same suite, so they cannot drift apart. */

const COUNT = 4;
const slice = (...partitions: number[]): RelaySlice => ({ partitions, count: COUNT });
const ALL = slice(0, 1, 2, 3);
const EVERYTHING = 10_000;

/** The entries of these users, in the order handed out. */
const of = (entries: readonly OutboxEntry[], users: readonly TransactionRecord[]) => {
  const ids = new Set(users.map((r) => r.userId));
  return entries.filter((e) => ids.has('event' in e ? e.event.userId : e.unreadable.key));
};
const eventIds = (entries: readonly OutboxEntry[]) =>
  entries.map((e) => ('event' in e ? e.event.eventId : `unreadable:${e.id}`));

export function outboxContract(subject: OutboxSubject): void {
  void describe(`Outbox contract: ${subject.name}`, () => {
    const store = useStorage(() => subject.open(COUNT));
    const outbox = () => store().outbox;
    const write = async (storage: Storage, users: number) => {
      const records = Array.from({ length: users }, () => aRecord({ userId: uniqueId('u') }));
      await Promise.all(records.map((r) => storage.transactions.insert(creation(r))));
      return records;
    };

    void it("hands each event only to the slice of its key's partition, a user's events in write order", async () => {
      const records = await write(store(), 24);
      const [first] = records;
      assert.ok(first);
      const update = change(first, { amountMinor: 1n });
      assert.equal(await store().transactions.replace(1, update), true);
      const low = of(await outbox().pending(EVERYTHING, slice(0, 1)), records);
      const high = of(await outbox().pending(EVERYTHING, slice(2, 3)), records);
      const division: [OutboxEntry[], readonly number[]][] = [
        [low, [0, 1]],
        [high, [2, 3]],
      ];
      for (const [entries, owned] of division) {
        for (const e of entries) {
          assert.ok('event' in e);
          assert.ok(owned.includes(partitionOf(e.event.userId, COUNT)), e.event.userId);
        }
      }
      // each event exactly once over the division, and the same as without a slice
      const all = of(await outbox().pending(EVERYTHING), records);
      assert.equal(all.length, 25);
      assert.deepEqual(eventIds([...low, ...high]).sort(), eventIds(all).sort());
      const firsts = [...low, ...high].filter((e) => 'event' in e && e.event.userId === first.userId);
      assert.deepEqual(
        firsts.map((e) => 'event' in e && e.event.version),
        [1, 2],
      );
      assert.equal(low.length > 0 && high.length > 0, true, 'both slices have events');
    });

    void it('gives events written before the partition count was known to their partition owner only', async () => {
      const unknowing = await subject.open(null);
      try {
        const records = await write(unknowing, 12);
        const owners = (r: TransactionRecord) => partitionOf(r.userId, COUNT);
        for (const p of [0, 1, 2, 3]) {
          const got = of(await outbox().pending(EVERYTHING, slice(p)), records);
          assert.deepEqual(
            got.map((e) => 'event' in e && e.event.userId).sort(),
            records
              .filter((r) => owners(r) === p)
              .map((r) => r.userId)
              .sort(),
          );
        }
        // assigned for good: the slices' backlogs count them now (they read the partition field)
        const before = await outbox().backlog(ALL);
        const published = of(await outbox().pending(EVERYTHING, ALL), records);
        assert.equal(
          await outbox().markPublished(
            published.map((e) => e.id),
            new Date(),
          ),
          12,
        );
        assert.equal(await outbox().backlog(ALL), before - 12);
      } finally {
        await unknowing.close();
      }
    });

    void it("hands out each event with its write's stored trace context, and none for a write without one", async () => {
      const traced = aRecord({ userId: uniqueId('u') });
      const untraced = aRecord({ userId: uniqueId('u') });
      const traceContext = {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=opaque',
      };
      await store().transactions.insert({ ...creation(traced), traceContext });
      await store().transactions.insert(creation(untraced));
      const entries = of(await outbox().pending(EVERYTHING, ALL), [traced, untraced]);
      const contextOf = (record: TransactionRecord) => {
        const entry = entries.find((e) => 'event' in e && e.event.userId === record.userId);
        assert.ok(entry && 'event' in entry, `no event of ${record.userId}`);
        return entry.traceContext;
      };
      assert.deepEqual(contextOf(traced), traceContext);
      assert.equal(contextOf(untraced), undefined);
    });

    void it('marks published once: a second mark counts no first publication and nothing is handed out again', async () => {
      const records = await write(store(), 3);
      const entries = of(await outbox().pending(EVERYTHING, ALL), records);
      const backlog = await outbox().backlog();
      const ids = entries.map((e) => e.id);
      assert.equal(await outbox().markPublished(ids, new Date()), 3);
      assert.equal(await outbox().markPublished(ids, new Date()), 0);
      assert.equal(await outbox().backlog(), backlog - 3);
      assert.deepEqual(of(await outbox().pending(EVERYTHING, ALL), records), []);
      assert.equal(await outbox().markPublished([], new Date()), 0);
    });

    void it('hands out an unreadable event as such between readable ones; quarantined, it is listed, left out, and requeued once fixed', async () => {
      const userId = uniqueId('u');
      const [a, b, c] = [0, 1, 2].map((i) =>
        aRecord({ userId, updatedAt: new Date(Date.UTC(2024, 9, 5, 10, 0, i)) }),
      );
      assert.ok(a && b && c);
      for (const r of [a, b, c])
        await store().transactions.insert(creation({ ...r, createdAt: r.updatedAt }));
      await subject.spoil(b);
      const entries = of(await outbox().pending(EVERYTHING, ALL), [a]);
      assert.deepEqual(
        entries.map((e) => ('event' in e ? e.event.transactionId : 'unreadable')),
        [a.id, 'unreadable', c.id],
      );
      const bad = entries[1];
      assert.ok(bad && 'unreadable' in bad);
      assert.match(bad.unreadable.reason, /type/);
      assert.equal(bad.unreadable.key, userId);
      assert.match(bad.unreadable.stored, /transaction\.archived/);

      const backlog = await outbox().backlog();
      const at = new Date();
      await outbox().quarantine([{ id: bad.id, reason: bad.unreadable.reason }], at);
      assert.equal(await outbox().backlog(), backlog - 1);
      assert.deepEqual(
        of(await outbox().pending(EVERYTHING, ALL), [a]).map((e) => e.id),
        [entries[0]?.id, entries[2]?.id],
      );
      const listed = (await outbox().quarantined(EVERYTHING)).find((q) => q.id === bad.id);
      assert.deepEqual(listed, { id: bad.id, userId, reason: bad.unreadable.reason, at });

      assert.equal(await outbox().requeue(uniqueId('no-such-row')), false);
      assert.equal(await outbox().requeue('12345678901234'), false);
      await subject.repair(b);
      assert.equal(await outbox().requeue(bad.id), true);
      assert.equal(await outbox().requeue(bad.id), false, 'no longer quarantined');
      assert.equal(
        (await outbox().quarantined(EVERYTHING)).find((q) => q.id === bad.id),
        undefined,
      );
      const again = of(await outbox().pending(EVERYTHING, ALL), [a]);
      assert.deepEqual(
        again.map((e) => 'event' in e && e.event.transactionId),
        [a.id, b.id, c.id],
      );
      await outbox().markPublished(
        again.map((e) => e.id),
        new Date(),
      );
    });

    void it('counts its store operations: one read and one mark for a batch of committed events', async () => {
      const records = await write(store(), 20);
      const before = outbox().operations();
      const entries = of(await outbox().pending(EVERYTHING, ALL), records);
      await outbox().markPublished(
        entries.map((e) => e.id),
        new Date(),
      );
      assert.equal(entries.length, 20);
      assert.equal(outbox().operations() - before, 2);
    });
  });
}

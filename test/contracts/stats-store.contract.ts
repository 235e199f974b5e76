import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AmountRow, DayTotals } from '../../src/analytics/day-totals.ts';
import type { PendingProjection } from '../../src/analytics/stats-store.port.ts';
import type { Storage } from '../../src/storage.port.ts';
import type { TransactionRecord } from '../../src/transactions/transaction.ts';
import { aRecord, change, creation, useStorage } from './storage.contract.ts';
import { uniqueId } from '../helpers.ts';

/** The StatsStore contract: every adapter runs this same suite. */

const T0 = new Date('2024-10-05T09:30:15.678Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const MAX_INT64 = 2n ** 63n - 1n;
const ABOVE_DOUBLE = 2n ** 53n + 1n;
/** The largest transaction the service accepts: 10^12 cedis, in pesewas. */
const MAX_AMOUNT = 10n ** 14n;

const rowOf = (r: TransactionRecord): AmountRow => ({
  amountMinor: r.amountMinor,
  currency: r.currency,
  type: r.type,
  transactionDate: r.transactionDate,
});
/** The port leaves row order open: compare by date, then amount. */
const sorted = (rows: readonly AmountRow[]): AmountRow[] =>
  [...rows].sort(
    (a, b) =>
      a.transactionDate.getTime() - b.transactionDate.getTime() ||
      (a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0),
  );
const markerOf = (r: TransactionRecord): PendingProjection => ({
  userId: r.userId,
  transactionId: r.id,
  version: r.version,
});

const aDay = (creditTotal: bigint, debitTotal: bigint): DayTotals => ({
  count: 5,
  currencies: {
    GHS: { creditCount: 2, creditTotal, debitCount: 1, debitTotal },
    KES: { creditCount: 0, creditTotal: 0n, debitCount: 2, debitTotal: 1n },
  },
});

export function statsStoreContract(name: string, open: () => Promise<Storage>): void {
  void describe(`StatsStore contract: ${name}`, () => {
    const store = useStorage(open);
    const stats = () => store().stats;
    const write = async (...records: TransactionRecord[]) => {
      for (const r of records) await store().transactions.insert(creation(r));
    };
    const remove = async (r: TransactionRecord) => {
      assert.ok(await store().transactions.replace(r.version, change(r, { deletedAt: at(3_600_000) })));
    };
    /** What the relay does once the bus has the events: it publishes every pending marker. */
    const publishAll = async () => {
      for (let batch = await store().outbox.pending(500); batch.length > 0;) {
        await store().outbox.markPublished(
          batch.map((e) => e.id),
          new Date(),
        );
        batch = await store().outbox.pending(500);
      }
    };

    void it('gives the live rows dated in [from, to): `from` included, `to` excluded, amounts exact', async () => {
      const userId = uniqueId('u');
      const from = at(0);
      const to = at(86_400_000);
      const inside = [
        aRecord({ userId, transactionDate: from, amountMinor: 1n }),
        aRecord({ userId, transactionDate: at(1), amountMinor: MAX_AMOUNT, type: 'debit' }),
        aRecord({ userId, transactionDate: at(86_399_999), amountMinor: MAX_AMOUNT - 1n, currency: 'KES' }),
      ];
      const outside = [at(-1), to].map((transactionDate) => aRecord({ userId, transactionDate }));
      const deleted = aRecord({ userId, transactionDate: at(5) });
      const theirs = aRecord({ transactionDate: at(5) });
      await write(...inside, ...outside, deleted, theirs);
      await remove(deleted);
      assert.deepEqual(sorted(await stats().liveInRange(userId, from, to)), inside.map(rowOf));
      assert.deepEqual(await stats().liveInRange(userId, at(2), at(3)), []);
      assert.deepEqual(await stats().liveInRange(uniqueId('u'), from, to), []);
    });

    void it('gives every live row of a user, and whether the user ever had a transaction', async () => {
      const userId = uniqueId('u');
      const live = [
        aRecord({ userId, transactionDate: new Date('1999-12-31T23:59:59.999Z'), amountMinor: MAX_AMOUNT }),
        aRecord({ userId, transactionDate: new Date('2031-01-01T00:00:00.000Z'), type: 'debit' }),
      ];
      const deleted = aRecord({ userId });
      await write(...live, deleted, aRecord());
      await remove(deleted);
      assert.deepEqual(
        await stats()
          .liveOfUser(userId)
          .then((r) => ({ ...r, rows: sorted(r.rows) })),
        {
          rows: live.map(rowOf),
          everHad: true,
        },
      );

      const onlyDeleted = aRecord();
      await write(onlyDeleted);
      await remove(onlyDeleted);
      assert.deepEqual(await stats().liveOfUser(onlyDeleted.userId), { rows: [], everHad: true });
      assert.deepEqual(await stats().liveOfUser(uniqueId('u')), { rows: [], everHad: false });
    });

    void it('has no statistics for an unknown user', async () => {
      assert.equal(await stats().read(uniqueId('u')), null);
    });

    void it('gives saved days back exactly, removes a null day, leaves the other days', async () => {
      const userId = uniqueId('u');
      const big = aDay(MAX_INT64, ABOVE_DOUBLE);
      const small = aDay(1n, 0n);
      await stats().saveDays(
        userId,
        new Map([
          ['2024-10-04', small],
          ['2024-10-05', big],
          ['2024-10-06', small],
        ]),
        at(0),
      );
      const replaced = aDay(ABOVE_DOUBLE, MAX_INT64);
      await stats().saveDays(
        userId,
        new Map([
          ['2024-10-04', null],
          ['2024-10-06', replaced],
          ['2024-10-07', null], // never saved: removing it is a no-op
        ]),
        at(1000),
      );
      await stats().saveDays(uniqueId('u'), new Map([['2024-10-05', small]]), at(2000));
      assert.deepEqual(await stats().read(userId), {
        days: new Map([
          ['2024-10-05', big],
          ['2024-10-06', replaced],
        ]),
        updatedAt: at(1000),
      });
    });

    void it('knows a user once saved, even with no days', async () => {
      const userId = uniqueId('u');
      await stats().saveDays(userId, new Map(), at(7));
      assert.deepEqual(await stats().read(userId), { days: new Map(), updatedAt: at(7) });
    });

    void it('records a pending marker with each write, per version, until cleared', async () => {
      const record = aRecord();
      assert.equal(await stats().hasPending(record.userId), false);
      await write(record);
      assert.equal(await stats().hasPending(record.userId), true);
      const updated = change(record, { amountMinor: 2n });
      assert.ok(await store().transactions.replace(1, updated));
      await stats().clearPending([markerOf(record)]);
      assert.equal(await stats().hasPending(record.userId), true, 'version 2 is not projected yet');
      await stats().clearPending([markerOf(updated.record)]);
      assert.equal(await stats().hasPending(record.userId), false);
    });

    void it('saves several users in one projection and clears exactly the markers given', async () => {
      const [a, b, waiting] = [aRecord(), aRecord(), aRecord()];
      await write(a, b, waiting);
      const dayA = aDay(ABOVE_DOUBLE, 3n);
      const dayB = aDay(4n, MAX_INT64);
      await stats().saveProjection(
        new Map([
          [a.userId, new Map([['2024-10-05', dayA]])],
          [b.userId, new Map([['2024-10-06', dayB]])],
        ]),
        [markerOf(a), markerOf(b)],
        at(60_000),
      );
      assert.deepEqual(await stats().read(a.userId), {
        days: new Map([['2024-10-05', dayA]]),
        updatedAt: at(60_000),
      });
      assert.deepEqual(await stats().read(b.userId), {
        days: new Map([['2024-10-06', dayB]]),
        updatedAt: at(60_000),
      });
      assert.equal(await stats().hasPending(a.userId), false);
      assert.equal(await stats().hasPending(b.userId), false);
      assert.equal(await stats().hasPending(waiting.userId), true);
      assert.equal(await stats().read(waiting.userId), null);
    });

    void it('clears the markers of a projection that changed no days', async () => {
      const record = aRecord();
      await write(record);
      await stats().saveProjection(new Map(), [markerOf(record)], at(0));
      assert.equal(await stats().hasPending(record.userId), false);
      assert.equal(await stats().read(record.userId), null);
    });

    void it('ignores clearing a marker that does not exist', async () => {
      const record = aRecord();
      await write(record);
      await stats().clearPending([]);
      await stats().clearPending([{ userId: record.userId, transactionId: record.id, version: 2 }]);
      await stats().clearPending([{ userId: uniqueId('u'), transactionId: uniqueId('tx'), version: 1 }]);
      assert.equal(await stats().hasPending(record.userId), true);
    });

    // Markers are dated by their write's updatedAt; these are dated decades before any other
    // test's, so the store-wide query sees only this test's markers below `before`.
    void it('gives published markers older than `before`, oldest first, at most `limit`', async () => {
      const old = (ms: number) => new Date(Date.UTC(1971, 0, 1) + ms);
      const records = [3000, 0, 2000, 1000, 4000].map((ms) =>
        aRecord({ createdAt: old(ms), updatedAt: old(ms) }),
      );
      await write(...records);
      // Common guarantee only: a published marker is stale on both. An unpublished one is stale
      // on the embedded store (its outbox is a table of its own) but not on MongoDB, where the
      // unpublished markers are the outbox itself and clearing one would lose its event.
      await publishAll();
      const byAge = [...records].sort((x, y) => x.updatedAt.getTime() - y.updatedAt.getTime()).map(markerOf);
      assert.deepEqual(await stats().stalePending(old(3000), 10), byAge.slice(0, 3));
      assert.deepEqual(await stats().stalePending(old(3001), 2), byAge.slice(0, 2));
      assert.deepEqual(await stats().stalePending(old(0), 10), []);
      await stats().clearPending(byAge.slice(0, 1));
      assert.deepEqual(await stats().stalePending(old(5000), 10), byAge.slice(1));
    });

    void it('pages the known users in id order after `after`', async () => {
      const prefix = uniqueId('users');
      const ids = ['c', 'a', 'b'].map((s) => `${prefix}-${s}`);
      for (const id of ids) await stats().saveDays(id, new Map(), at(0));
      const [a, b, c] = ids.toSorted();
      assert.ok(a && b && c);
      assert.deepEqual(await stats().userIds(prefix, 2), [a, b]);
      assert.deepEqual(await stats().userIds(b, 1), [c]);
      assert.ok(!(await stats().userIds(c, 100)).some((id) => id.startsWith(prefix)));
      const all = await stats().userIds(null, 10_000);
      assert.deepEqual(all, all.toSorted());
      assert.deepEqual(
        all.filter((id) => id.startsWith(prefix)),
        [a, b, c],
      );
    });
  });
}

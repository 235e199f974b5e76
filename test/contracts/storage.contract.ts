import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DuplicateIdError } from '../../src/transactions/transaction-store.port.ts';
import type { IdempotencyRecord } from '../../src/transactions/idempotency-store.port.ts';
import type { Storage } from '../../src/storage.port.ts';
import { eventStateOf } from '../../src/transactions/transaction.ts';
import type { TransactionRecord, TransactionWrite } from '../../src/transactions/transaction.ts';
import { uniqueId } from '../helpers.ts';

/** The Storage port's contract: every adapter runs this same suite, so they cannot drift apart. */

const ms = (date: Date, delta: number): Date => new Date(date.getTime() + delta);
const T0 = new Date('2024-10-05T09:30:15.678Z');

export function aRecord(overrides: Partial<TransactionRecord> = {}): TransactionRecord {
  const written = new Date('2024-10-05T10:00:00.123Z');
  return {
    id: uniqueId('tx'),
    userId: uniqueId('u'),
    fullNameSealed: 'v1.k1.iv.ct',
    transactionDate: T0,
    amountMinor: 47566n,
    currency: 'GHS',
    type: 'credit',
    version: 1,
    createdAt: written,
    updatedAt: written,
    deletedAt: null,
    ...overrides,
  };
}

export function creation(record: TransactionRecord): TransactionWrite {
  const state = eventStateOf(record);
  const { id: transactionId, userId, version, createdAt: at } = record;
  return {
    record,
    audit: {
      version,
      action: 'created',
      at,
      actor: 'svc-test',
      fullNameSealed: record.fullNameSealed,
      state,
    },
    event: {
      eventId: randomUUID(),
      type: 'transaction.created',
      occurredAt: at,
      userId,
      transactionId,
      version,
      before: null,
      after: state,
    },
  };
}

/** The next version of `previous`; a deletion when `changes` sets deletedAt. */
export function change(previous: TransactionRecord, changes: Partial<TransactionRecord>): TransactionWrite {
  const at = ms(previous.updatedAt, 1000);
  const record = { ...previous, ...changes, version: previous.version + 1, updatedAt: at };
  const deleted = record.deletedAt !== null;
  const { id: transactionId, userId, version } = record;
  return {
    record,
    audit: {
      version,
      action: deleted ? 'deleted' : 'updated',
      at,
      actor: 'svc-test',
      fullNameSealed: record.fullNameSealed,
      state: eventStateOf(record),
    },
    event: {
      eventId: randomUUID(),
      type: deleted ? 'transaction.deleted' : 'transaction.updated',
      occurredAt: at,
      userId,
      transactionId,
      version,
      before: eventStateOf(previous),
      after: deleted ? null : eventStateOf(record),
    },
  };
}

export function aClaim(now: Date, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    scope: uniqueId('client'),
    key: uniqueId('key'),
    fingerprint: 'sha256:body',
    transactionId: uniqueId('tx'),
    state: 'in_flight',
    status: null,
    responseSealed: null,
    lockedUntil: ms(now, 30_000),
    expiresAt: ms(now, 86_400_000),
    ...overrides,
  };
}

/** History order as the port defines it: newest date first, ties by id descending. */
const historyOrder = (a: TransactionRecord, b: TransactionRecord): number =>
  b.transactionDate.getTime() - a.transactionDate.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Opens storage before the suite's tests and closes it after. A failed open fails every test with
 * its cause (a missing MONGODB_URL, a server down) rather than cancelling them quietly.
 */
export function useStorage(open: () => Promise<Storage>): () => Storage {
  let storage: Storage | undefined;
  let failure: unknown;
  before(async () => {
    try {
      storage = await open();
    } catch (error) {
      failure = error;
    }
  });
  after(async () => {
    await storage?.close();
  });
  return () => {
    if (storage !== undefined) return storage;
    throw failure instanceof Error ? failure : new Error('storage did not open', { cause: failure });
  };
}

export function storageContract(name: string, open: () => Promise<Storage>): void {
  void describe(`Storage contract: ${name}`, () => {
    const store = useStorage(open);
    const keys = () => store().idempotency;
    const insertAll = (records: TransactionRecord[]) =>
      Promise.all(records.map((r) => store().transactions.insert(creation(r))));
    const ids = (records: TransactionRecord[]) => records.map((r) => r.id);

    void describe('transactions', transactionTests);
    void describe('idempotency', idempotencyTests);

    function transactionTests(): void {
      void it('answers ping', async () => {
        await store().ping();
      });

      void it('returns an inserted record exactly: bigint amounts, millisecond dates, every field', async () => {
        const big = aRecord({ amountMinor: 100_000_000_000_000n, type: 'debit', currency: 'UGX' });
        const one = aRecord({ amountMinor: 1n, transactionDate: new Date('1999-12-31T23:59:59.999Z') });
        await insertAll([big, one]);
        assert.deepEqual(await store().transactions.get(big.id), big);
        assert.deepEqual(await store().transactions.get(one.id), one);
        assert.equal(await store().transactions.get(uniqueId('never')), null);
        assert.deepEqual(await store().transactions.auditTrail(big.id), [creation(big).audit]);
      });

      void it('refuses a second insert of one id and keeps the first', async () => {
        const first = aRecord();
        await insertAll([first]);
        await assert.rejects(
          store().transactions.insert(creation({ ...first, amountMinor: 9n })),
          DuplicateIdError,
        );
        assert.deepEqual(await store().transactions.get(first.id), first);
        assert.equal((await store().transactions.auditTrail(first.id)).length, 1);
      });

      void it('replaces only at the expected version and keeps every version in the audit trail', async () => {
        const v1 = aRecord();
        await insertAll([v1]);
        const update = change(v1, { amountMinor: 12_345n, type: 'debit', fullNameSealed: 'v1.k2.iv.ct2' });
        assert.equal(await store().transactions.replace(1, update), true);
        assert.deepEqual(await store().transactions.get(v1.id), update.record);
        assert.equal(await store().transactions.replace(1, change(v1, { amountMinor: 1n })), false);
        assert.deepEqual(await store().transactions.get(v1.id), update.record);
        assert.deepEqual(await store().transactions.auditTrail(v1.id), [creation(v1).audit, update.audit]);
        assert.deepEqual(await store().transactions.auditTrail(uniqueId('never')), []);
      });

      void it('refuses, as a programming error, a write whose version does not follow', async () => {
        const v1 = aRecord();
        await assert.rejects(store().transactions.insert(creation({ ...v1, version: 2 })), RangeError);
        await insertAll([v1]);
        const skipping = change(v1, {});
        await assert.rejects(store().transactions.replace(0, skipping), RangeError);
        assert.deepEqual(await store().transactions.get(v1.id), v1);
      });

      void it('keeps a deleted record as a tombstone that cannot be replaced or listed', async () => {
        const v1 = aRecord();
        await insertAll([v1]);
        const deletion = change(v1, { deletedAt: ms(v1.updatedAt, 1000) });
        assert.equal(await store().transactions.replace(1, deletion), true);
        assert.deepEqual(await store().transactions.get(v1.id), deletion.record);
        assert.equal(
          await store().transactions.replace(2, change(deletion.record, { deletedAt: null })),
          false,
        );
        assert.deepEqual(await store().transactions.listByUser({ userId: v1.userId, limit: 10 }), []);
        const trail = await store().transactions.auditTrail(v1.id);
        assert.deepEqual(
          trail.map((e) => e.action),
          ['created', 'deleted'],
        );
      });

      void it('lets exactly one of ten concurrent replaces of one version win', async () => {
        const v1 = aRecord();
        await insertAll([v1]);
        const writes = Array.from({ length: 10 }, (_, i) => change(v1, { amountMinor: BigInt(i + 1) }));
        const results = await Promise.all(writes.map((w) => store().transactions.replace(1, w)));
        assert.equal(results.filter(Boolean).length, 1);
        const winner = writes[results.indexOf(true)];
        assert.deepEqual(await store().transactions.get(v1.id), winner?.record);
        assert.equal((await store().transactions.auditTrail(v1.id)).length, 2);
      });

      void it('lists a user newest first, ties by id descending, without deleted or other users records', async () => {
        const userId = uniqueId('u');
        const tie = uniqueId('tx');
        const older = aRecord({ userId, transactionDate: ms(T0, -86_400_000) });
        const tieA = aRecord({ userId, id: `${tie}-a` });
        const tieB = aRecord({ userId, id: `${tie}-b` });
        const newest = aRecord({ userId, transactionDate: ms(T0, 1) });
        const gone = aRecord({ userId, transactionDate: ms(T0, 2) });
        const stranger = aRecord({ transactionDate: ms(T0, 3) });
        await insertAll([older, tieA, tieB, newest, gone, stranger]);
        assert.equal(await store().transactions.replace(1, change(gone, { deletedAt: T0 })), true);
        const listed = await store().transactions.listByUser({ userId, limit: 50 });
        assert.deepEqual(ids(listed), ids([newest, tieB, tieA, older]));
        assert.deepEqual(listed[0], newest);
        assert.deepEqual(
          await store().transactions.listByUser({ userId: uniqueId('nobody'), limit: 50 }),
          [],
        );
      });

      void it('filters by date range (from inclusive, to exclusive) and by type', async () => {
        const userId = uniqueId('u');
        const to = ms(T0, 60_000);
        const beforeFrom = aRecord({ userId, transactionDate: ms(T0, -1), type: 'credit' });
        const atFrom = aRecord({ userId, transactionDate: T0, type: 'debit' });
        const inside = aRecord({ userId, transactionDate: ms(to, -1), type: 'credit' });
        const atTo = aRecord({ userId, transactionDate: to, type: 'debit' });
        await insertAll([beforeFrom, atFrom, inside, atTo]);
        const ranged = await store().transactions.listByUser({ userId, from: T0, to, limit: 50 });
        assert.deepEqual(ids(ranged), ids([inside, atFrom]));
        const debits = await store().transactions.listByUser({ userId, type: 'debit', limit: 50 });
        assert.deepEqual(ids(debits), ids([atTo, atFrom]));
        const credits = await store().transactions.listByUser({
          userId,
          from: T0,
          type: 'credit',
          limit: 50,
        });
        assert.deepEqual(ids(credits), ids([inside]));
      });

      void it('pages through seven records three at a time, each exactly once and in order', async () => {
        const userId = uniqueId('u');
        const offsets = [0, 0, 0, 5, -5, -5, -9]; // a tie of three straddles the first page boundary
        const records = offsets.map((o) => aRecord({ userId, transactionDate: ms(T0, o * 1000) }));
        await insertAll(records);
        const seen: string[] = [];
        let afterPosition: { transactionDate: Date; id: string } | undefined;
        for (let pages = 1; ; pages += 1) {
          const page = await store().transactions.listByUser({ userId, limit: 3, after: afterPosition });
          seen.push(...ids(page));
          const last = page.at(-1);
          if (page.length < 3 || last === undefined) break;
          assert.ok(pages < 5, 'pagination does not end');
          afterPosition = { transactionDate: last.transactionDate, id: last.id };
        }
        assert.deepEqual(seen, ids(records.toSorted(historyOrder)));
      });
    }

    function idempotencyTests(): void {
      const now = new Date('2025-03-01T12:00:00.000Z');

      void it('claims a key once and returns the first claim to a second claimant', async () => {
        const first = aClaim(now);
        assert.deepEqual(await keys().claim(first, now), { kind: 'claimed', record: first });
        const again = await keys().claim({ ...first, transactionId: uniqueId('tx') }, now);
        assert.deepEqual(again, { kind: 'existing', record: first });
      });

      void it('lets exactly one of ten concurrent claims of one key win', async () => {
        const base = aClaim(now);
        const candidates = Array.from({ length: 10 }, () => ({ ...base, transactionId: uniqueId('tx') }));
        const results = await Promise.all(candidates.map((c) => keys().claim(c, now)));
        const claimed = results.filter((r) => r.kind === 'claimed');
        assert.equal(claimed.length, 1);
        const winner = claimed[0]?.record.transactionId;
        assert.ok(results.every((r) => r.record.transactionId === winner));
      });

      void it('replays a completed key with its status and sealed response', async () => {
        const first = aClaim(now);
        await keys().claim(first, now);
        await keys().complete(first.scope, first.key, 201, 'v1.k1.iv.response');
        await keys().release(first.scope, first.key); // a completed key is not released
        const later = ms(now, 3_600_000);
        const result = await keys().claim(aClaim(later, { scope: first.scope, key: first.key }), later);
        assert.deepEqual(result, {
          kind: 'existing',
          record: { ...first, state: 'completed', status: 201, responseSealed: 'v1.k1.iv.response' },
        });
      });

      void it('replaces an expired key by a new claim', async () => {
        const first = aClaim(now, { expiresAt: ms(now, 1000) });
        await keys().claim(first, now);
        await keys().complete(first.scope, first.key, 201, 'old');
        const later = ms(now, 1000);
        const fresh = aClaim(later, { scope: first.scope, key: first.key });
        assert.deepEqual(await keys().claim(fresh, later), { kind: 'claimed', record: fresh });
        assert.deepEqual(await keys().claim(aClaim(later, { scope: first.scope, key: first.key }), later), {
          kind: 'existing',
          record: fresh,
        });
      });

      void it('takes over an in-flight key whose lock lapsed, keeping its transaction id', async () => {
        const first = aClaim(now);
        await keys().claim(first, now);
        const lapsed = first.lockedUntil;
        const retry = aClaim(lapsed, { scope: first.scope, key: first.key, fingerprint: 'other' });
        const taken = await keys().claim(retry, lapsed);
        assert.deepEqual(taken, { kind: 'claimed', record: { ...first, lockedUntil: retry.lockedUntil } });
        const third = await keys().claim(
          aClaim(lapsed, { scope: first.scope, key: first.key }),
          ms(lapsed, 1),
        );
        assert.deepEqual(third, { kind: 'existing', record: { ...first, lockedUntil: retry.lockedUntil } });
      });

      void it('forgets a released in-flight key', async () => {
        const first = aClaim(now);
        await keys().claim(first, now);
        await keys().release(first.scope, first.key);
        const second = aClaim(now, { scope: first.scope, key: first.key });
        assert.deepEqual(await keys().claim(second, now), { kind: 'claimed', record: second });
      });

      void it('sweeps exactly the expired keys', async () => {
        // A sweep clock in 2001 lies before every other test's expiries, so the count is exact.
        const sweepAt = new Date('2001-01-01T00:00:00.000Z');
        const dayBefore = ms(sweepAt, -86_400_000);
        const claims = [-1000, 0, 1000].map((d) => aClaim(dayBefore, { expiresAt: ms(sweepAt, d) }));
        for (const c of claims) {
          assert.equal((await keys().claim(c, dayBefore)).kind, 'claimed');
          await keys().complete(c.scope, c.key, 201, 'sealed'); // so no lapsed lock can be taken over
        }
        assert.equal(await keys().sweepExpired(sweepAt), 2);
        // At a time when all three were live, only a swept key can be claimed anew.
        const earlier = ms(sweepAt, -10_000);
        const again = claims.map((c) =>
          keys().claim(aClaim(earlier, { scope: c.scope, key: c.key }), earlier),
        );
        const kinds = (await Promise.all(again)).map((r) => r.kind);
        assert.deepEqual(kinds, ['claimed', 'claimed', 'existing']);
      });
    }
  });
}

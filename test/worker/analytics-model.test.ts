import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, newTransaction, startApp, uniqueId, type StoreKind, type TestApp } from '../helpers.ts';
import { expectedAnalytics, type ModelTx } from './reference.ts';

const SETUPS: readonly { store: StoreKind; bus: 'kafka' | 'embedded' }[] = [
  { store: 'embedded', bus: 'embedded' },
  { store: 'mongodb', bus: 'kafka' },
];
const CURRENCIES = ['GHS', 'GHS', 'GHS', 'USD'];

/** Deterministic pseudo-random numbers, so a failure can be replayed with its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T,
  };
}

for (const { store, bus } of SETUPS) {
  describe(`statistics on the ${store} store with the ${bus} bus`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store, {}, { worker: true, bus });
    });
    after(async () => {
      await t.close();
    });

    const analytics = (user: string, query = '') =>
      t.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics${query}` });
    const settled = (users: readonly string[]) =>
      eventually(async () => {
        for (const user of users) if (await t.deps.storage.stats.hasPending(user)) return undefined;
        return true;
      }, 60_000);

    it('1,000 random creates, updates and deletes over 20 users: analytics equal a brute-force recomputation', async () => {
      const seed = Date.now() % 100_000;
      const rnd = random(seed);
      const users = Array.from({ length: 20 }, () => uniqueId('m'));
      const model = new Map<string, ModelTx>();
      const fields = () => {
        const day = `2024-10-${String(1 + rnd.int(28)).padStart(2, '0')}`;
        const cents = BigInt(1 + rnd.int(10_000_000));
        const currency = rnd.pick(CURRENCIES);
        const type = rnd.pick(['credit', 'debit'] as const);
        const body = {
          transaction_date: `${day}T${String(rnd.int(24)).padStart(2, '0')}:${String(rnd.int(60)).padStart(2, '0')}:00Z`,
          transaction_amount: `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`,
          transaction_currency: currency,
          transaction_type: type,
        };
        return { body, state: { day, cents, currency, type } };
      };
      for (let op = 0; op < 1000; op++) {
        const live = [...model.keys()];
        const kind = live.length < 10 ? 0 : rnd.int(10);
        if (kind < 5) {
          const userId = rnd.pick(users);
          const { body, state } = fields();
          const res = await t.inject({
            method: 'POST',
            url: '/api/v1/transactions',
            payload: newTransaction(userId, body),
          });
          assert.equal(res.statusCode, 201, `seed ${seed} op ${op}: ${res.body}`);
          model.set(res.json().id as string, { userId, ...state });
        } else if (kind < 9) {
          const id = rnd.pick(live);
          const current = model.get(id);
          assert.ok(current);
          const { body, state } = fields();
          const res = await t.inject({
            method: kind < 7 ? 'PATCH' : 'PUT',
            url: `/api/v1/transactions/${id}`,
            payload: kind < 7 ? body : { ...newTransaction(current.userId), ...body },
          });
          assert.equal(res.statusCode, 200, `seed ${seed} op ${op}: ${res.body}`);
          model.set(id, { userId: current.userId, ...state });
        } else {
          const id = rnd.pick(live);
          const res = await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` });
          assert.equal(res.statusCode, 204, `seed ${seed} op ${op}`);
          model.delete(id);
        }
      }
      await settled(users);
      const fallbacksBefore = t.deps.metrics.get('analytics_fallback_total');
      for (const user of users) {
        const periods: [string | null, string | null][] = [[null, null]];
        for (let i = 0; i < 3; i++) {
          const a = 1 + rnd.int(28);
          const b = a + rnd.int(29 - a);
          periods.push([`2024-10-${String(a).padStart(2, '0')}`, `2024-10-${String(b).padStart(2, '0')}`]);
        }
        for (const [from, to] of periods) {
          const query = from === null ? '' : `?from=${from}&to=${to ?? ''}`;
          const res = await analytics(user, query);
          const everHad = [...model.values()].some((m) => m.userId === user);
          if (!everHad && res.statusCode === 404) continue;
          assert.equal(res.statusCode, 200, res.body);
          const { as_of: asOf, currency, ...actual } = res.json();
          assert.ok(!Number.isNaN(Date.parse(asOf as string)));
          const expected = expectedAnalytics(model.values(), user, from, to);
          assert.deepEqual(actual, expected, `seed ${seed} user ${user} ${query}`);
          if (expected.by_currency.length === 1) assert.equal(currency, expected.by_currency[0]?.currency);
          if (expected.by_currency.length > 1) assert.equal(currency, null);
        }
      }
      assert.equal(
        t.deps.metrics.get('analytics_fallback_total'),
        fallbacksBefore,
        'settled reads come from the statistics',
      );
      assert.equal(await t.worker?.reconcile(), 0, 'reconciliation finds no drift');
    });

    it('read-your-writes: a create is reflected by the very next analytics read, every time', async () => {
      const user = uniqueId('ryw');
      for (let i = 1; i <= 30; i++) {
        const created = await t.inject({
          method: 'POST',
          url: '/api/v1/transactions',
          payload: newTransaction(user, { transaction_amount: '1.00' }),
        });
        assert.equal(created.statusCode, 201);
        const res = await analytics(user);
        assert.equal(res.json().transaction_count, i);
        assert.equal(res.json().total_credit, `${i}.00`);
      }
    });

    it('deleting every transaction leaves zero totals, not 404; a user who never transacted is 404', async () => {
      const user = uniqueId('gone');
      const id = (
        await t.inject({ method: 'POST', url: '/api/v1/transactions', payload: newTransaction(user) })
      ).json().id as string;
      assert.equal((await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` })).statusCode, 204);
      const res = await analytics(user);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(
        [
          res.json().transaction_count,
          res.json().total_credit,
          res.json().average_transaction_value,
          res.json().day_with_most_transactions,
        ],
        [0, '0.00', null, null],
      );
      assert.equal((await analytics(uniqueId('never'))).statusCode, 404);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS, newTransaction, startApp, uniqueId, type TestApp } from '../helpers.ts';

for (const store of STORE_KINDS) {
  describe(`Idempotency-Key on the ${store} store`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store);
    });
    after(async () => {
      await t.close();
    });

    const post = (body: object, key: string) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        payload: body,
        headers: { 'idempotency-key': key },
      });
    const count = async (user: string) =>
      (await t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions` })).json<{
        data: unknown[];
      }>().data.length;

    it('replays the stored status and body for a retry with the same key and body', async () => {
      const user = uniqueId('u');
      const key = uniqueId('key');
      const first = await post(newTransaction(user), key);
      assert.equal(first.statusCode, 201);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      // the same body with its fields in another order is the same request
      const { user_id, ...rest } = newTransaction(user);
      const retry = await post({ ...rest, user_id }, key);
      assert.equal(retry.statusCode, 201);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(retry.json(), first.json());
      assert.equal(await count(user), 1);
    });

    it('the same key with a different body is 422 and creates nothing', async () => {
      const user = uniqueId('u');
      const key = uniqueId('key');
      assert.equal((await post(newTransaction(user), key)).statusCode, 201);
      const other = await post(newTransaction(user, { transaction_amount: '1.00' }), key);
      assert.equal(other.statusCode, 422);
      assert.equal(other.json().code, 'idempotency_key_reused');
      assert.equal(await count(user), 1);
    });

    it('concurrent requests with one key create exactly one transaction', async () => {
      const user = uniqueId('u');
      const key = uniqueId('key');
      const results = await Promise.all(Array.from({ length: 8 }, () => post(newTransaction(user), key)));
      const statuses = results.map((r) => r.statusCode);
      assert.ok(
        statuses.every((s) => s === 201 || s === 409),
        statuses.join(','),
      );
      const created = results.filter(
        (r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined,
      );
      assert.equal(created.length, 1, statuses.join(','));
      const ids = new Set(results.filter((r) => r.statusCode === 201).map((r) => r.json().id as string));
      assert.equal(ids.size, 1);
      assert.equal(await count(user), 1);
      for (const conflict of results.filter((r) => r.statusCode === 409)) {
        assert.equal(conflict.json().code, 'idempotency_in_flight');
      }
    });

    it('an invalid request does not burn its key; keys are checked for length', async () => {
      const user = uniqueId('u');
      const key = uniqueId('key');
      assert.equal((await post(newTransaction(user, { transaction_amount: '-1' }), key)).statusCode, 422);
      assert.equal((await post(newTransaction(user), key)).statusCode, 201);
      assert.equal((await post(newTransaction(user), 'k'.repeat(256))).statusCode, 422);
      assert.equal(await count(user), 1);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS, newTransaction, startApp, uniqueId, type TestApp } from '../helpers.ts';

for (const store of STORE_KINDS) {
  describe(`transactions API on the ${store} store`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store);
    });
    after(async () => {
      await t.close();
    });

    const create = (body: unknown, headers: Record<string, string> = {}) =>
      t.inject({ method: 'POST', url: '/api/v1/transactions', payload: body as object, headers });

    it('creates a transaction: 201, Location, ETag, exact decimal string, UTC date, trimmed name', async () => {
      const user = uniqueId('u');
      const res = await create(
        newTransaction(user, {
          full_name: '  Kofi Boateng ',
          transaction_amount: 0.1,
          transaction_date: '2024-10-05T10:00:00+02:00',
        }),
      );
      assert.equal(res.statusCode, 201);
      const body = res.json();
      assert.equal(res.headers.location, `/api/v1/transactions/${body.id}`);
      assert.equal(res.headers.etag, '"1"');
      assert.match(body.id, /^[A-Za-z0-9_-]+$/);
      assert.deepEqual(
        { ...body, id: undefined, created_at: undefined, updated_at: undefined },
        {
          id: undefined,
          user_id: user,
          full_name: 'Kofi Boateng',
          transaction_date: '2024-10-05T08:00:00.000Z',
          transaction_amount: '0.10',
          transaction_type: 'credit',
          transaction_currency: 'GHS',
          version: 1,
          created_at: undefined,
          updated_at: undefined,
        },
      );
      const read = await t.inject({ method: 'GET', url: `/api/v1/transactions/${body.id}` });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(read.json(), body);
      assert.equal(read.headers.etag, '"1"');
    });

    it('keeps amounts exact: JSON numbers are never binary floats, UGX has no minor unit', async () => {
      const user = uniqueId('u');
      const cases: [unknown, string, string][] = [
        [1000000000000, 'GHS', '1000000000000.00'],
        [999999999999.99, 'GHS', '999999999999.99'],
        ['0.01', 'USD', '0.01'],
        [1.5e2, 'UGX', '150'],
        ['250', 'XOF', '250'],
      ];
      for (const [amount, currency, expected] of cases) {
        const res = await create(
          newTransaction(user, { transaction_amount: amount, transaction_currency: currency }),
        );
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.json().transaction_amount, expected);
      }
    });

    it('rejects bad amounts, currencies and dates, naming every field at once', async () => {
      const future = new Date(Date.now() + 25 * 3_600_000).toISOString();
      const res = await create({
        user_id: uniqueId('u'),
        full_name: '   ',
        transaction_date: future,
        transaction_amount: '12.345',
        transaction_type: 'refund',
        extra: true,
      });
      assert.equal(res.statusCode, 422);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.status, 422);
      assert.deepEqual(problem.errors.map((e: { pointer: string }) => e.pointer).sort(), [
        '/extra',
        '/full_name',
        '/transaction_amount',
        '/transaction_date',
        '/transaction_type',
      ]);
      for (const [amount, currency] of [
        [0, 'GHS'],
        [-5, 'GHS'],
        ['1.5', 'UGX'],
        ['1e13', 'GHS'],
        ['abc', 'GHS'],
        [1, 'ZZZ'],
      ] as const) {
        const bad = await create(
          newTransaction(uniqueId('u'), { transaction_amount: amount, transaction_currency: currency }),
        );
        assert.equal(bad.statusCode, 422, `${String(amount)} ${currency}`);
        assert.ok(bad.json().errors.length >= 1);
      }
      const impossible = await create(
        newTransaction(uniqueId('u'), { transaction_date: '2024-02-30T10:00:00Z' }),
      );
      assert.deepEqual(
        impossible.json().errors.map((e: { pointer: string }) => e.pointer),
        ['/transaction_date'],
      );
      const noOffset = await create(
        newTransaction(uniqueId('u'), { transaction_date: '2024-02-10T10:00:00' }),
      );
      assert.equal(noOffset.statusCode, 422);
    });

    it('rejects operator objects, arrays, empty strings and client-set server fields', async () => {
      const user = uniqueId('u');
      const payloads = [
        newTransaction(user, { full_name: { $gt: '' } }),
        newTransaction(user, { user_id: { $ne: null } }),
        newTransaction(user, { full_name: ['a'] }),
        newTransaction(user, { transaction_type: '' }),
        newTransaction(user, { id: 'chosen' }),
        newTransaction(user, { version: 7 }),
        newTransaction(user, { created_at: '2024-01-01T00:00:00Z' }),
        newTransaction('-starts-with-dash'),
        newTransaction('x'.repeat(65)),
      ];
      for (const payload of payloads) {
        const res = await create(payload);
        assert.equal(res.statusCode, 422, JSON.stringify(payload));
        assert.equal(res.json().errors.length, 1, res.body);
      }
    });

    it('answers 400 malformed JSON, 413 over 16 KiB, 415 wrong content type, 404 route, 405 method', async () => {
      const malformed = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        headers: { 'content-type': 'application/json' },
        payload: '{"user_id": ',
      });
      assert.equal(malformed.statusCode, 400);
      assert.equal(malformed.json().code, 'malformed_json');
      const huge = await create(newTransaction(uniqueId('u'), { full_name: 'x'.repeat(17 * 1024) }));
      assert.equal(huge.statusCode, 413);
      const text = await t.inject({
        method: 'POST',
        url: '/api/v1/transactions',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      assert.equal(text.statusCode, 415);
      const route = await t.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      assert.equal(route.statusCode, 404);
      assert.match(String(route.headers['content-type']), /^application\/problem\+json/);
      const method = await t.inject({ method: 'DELETE', url: '/api/v1/users/u-1/transactions' });
      assert.equal(method.statusCode, 405);
      assert.equal(method.headers.allow, 'GET, HEAD'); // Fastify answers HEAD for every GET route
      for (const res of [malformed, huge, text, method]) {
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }
    });

    it('PUT replaces, PATCH merges, both bump version and honour If-Match', async () => {
      const user = uniqueId('u');
      const id = (await create(newTransaction(user))).json().id as string;
      const put = await t.inject({
        method: 'PUT',
        url: `/api/v1/transactions/${id}`,
        headers: { 'if-match': '"1"' },
        payload: {
          full_name: 'Yaw Asante',
          transaction_date: '2024-10-06T00:00:00Z',
          transaction_amount: '10',
          transaction_type: 'debit',
          transaction_currency: 'USD',
        },
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.headers.etag, '"2"');
      assert.equal(put.json().transaction_amount, '10.00');
      assert.equal(put.json().user_id, user);

      const stale = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        headers: { 'if-match': '"1"' },
        payload: { transaction_type: 'credit' },
      });
      assert.equal(stale.statusCode, 412);

      const patch = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        headers: { 'content-type': 'application/merge-patch+json', 'if-match': 'W/"2"' },
        payload: JSON.stringify({ transaction_amount: 12.5 }),
      });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.deepEqual(
        [
          patch.json().version,
          patch.json().transaction_amount,
          patch.json().full_name,
          patch.json().transaction_type,
        ],
        [3, '12.50', 'Yaw Asante', 'debit'],
      );

      const moveUser = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        payload: { user_id: uniqueId('other') },
      });
      assert.equal(moveUser.statusCode, 422);
      assert.equal(moveUser.json().errors[0].pointer, '/user_id');
      const partialPut = await t.inject({
        method: 'PUT',
        url: `/api/v1/transactions/${id}`,
        payload: { full_name: 'Only name' },
      });
      assert.equal(partialPut.statusCode, 422);
      const toUgx = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        payload: { transaction_currency: 'UGX' },
      });
      assert.equal(toUgx.statusCode, 422, 'a value with cents does not fit UGX');
      const nullField = await t.inject({
        method: 'PATCH',
        url: `/api/v1/transactions/${id}`,
        payload: { full_name: null },
      });
      assert.equal(nullField.statusCode, 422);
    });

    it('two concurrent updates with the same If-Match: exactly one 200 and one 412', async () => {
      const id = (await create(newTransaction(uniqueId('u')))).json().id as string;
      const results = await Promise.all(
        ['1.00', '2.00'].map((amount) =>
          t.inject({
            method: 'PATCH',
            url: `/api/v1/transactions/${id}`,
            headers: { 'if-match': '"1"' },
            payload: { transaction_amount: amount },
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 412]);
    });

    it('DELETE answers 204, then 404 for every later read, update or delete', async () => {
      const id = (await create(newTransaction(uniqueId('u')))).json().id as string;
      const del = await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` });
      assert.equal(del.statusCode, 204);
      assert.equal(del.body, '');
      const later = [
        await t.inject({ method: 'GET', url: `/api/v1/transactions/${id}` }),
        await t.inject({
          method: 'PUT',
          url: `/api/v1/transactions/${id}`,
          payload: newTransaction('u-x'),
        }),
        await t.inject({
          method: 'PATCH',
          url: `/api/v1/transactions/${id}`,
          payload: { transaction_type: 'debit' },
        }),
        await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` }),
        await t.inject({ method: 'GET', url: '/api/v1/transactions/does-not-exist' }),
      ];
      assert.deepEqual(
        later.map((r) => r.statusCode),
        [404, 404, 404, 404, 404],
      );
    });
  });
}

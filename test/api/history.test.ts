import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS, newTransaction, startApp, uniqueId, type TestApp } from '../helpers.ts';

interface Row {
  id: string;
  transaction_date: string;
  transaction_type: string;
}

for (const store of STORE_KINDS) {
  describe(`history on the ${store} store`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store);
    });
    after(async () => {
      await t.close();
    });

    async function seed(user: string, dates: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const [i, date] of dates.entries()) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/transactions',
          payload: newTransaction(user, {
            transaction_date: date,
            transaction_type: i % 2 === 0 ? 'credit' : 'debit',
          }),
        });
        assert.equal(res.statusCode, 201, res.body);
        ids.push(res.json().id as string);
      }
      return ids;
    }

    const page = (user: string, query: string) =>
      t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions?${query}` });

    it('pages newest first, ties by id descending, every record exactly once', async () => {
      const user = uniqueId('u');
      const dates = [
        '2024-10-01T10:00:00Z',
        '2024-10-03T10:00:00Z',
        '2024-10-03T10:00:00Z',
        '2024-10-02T00:00:00Z',
        '2024-10-03T10:00:00Z',
        '2024-09-30T23:59:59Z',
        '2024-10-04T00:00:00Z',
      ];
      await seed(user, dates);
      const seen: Row[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await page(user, `limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<{ data: Row[]; next_cursor: string | null }>();
        assert.ok(body.data.length <= 3);
        seen.push(...body.data);
        cursor = body.next_cursor;
        pages++;
      } while (cursor !== null && pages < 10);
      assert.equal(pages, 3);
      assert.equal(seen.length, 7);
      assert.equal(new Set(seen.map((r) => r.id)).size, 7);
      const sorted = [...seen].sort((a, b) =>
        a.transaction_date === b.transaction_date
          ? a.id < b.id
            ? 1
            : -1
          : a.transaction_date < b.transaction_date
            ? 1
            : -1,
      );
      assert.deepEqual(seen, sorted);
    });

    it('filters by inclusive UTC days and type, excludes deleted and other users', async () => {
      const user = uniqueId('u');
      const ids = await seed(user, [
        '2024-10-01T00:00:00Z',
        '2024-10-01T23:59:59.999Z',
        '2024-10-02T12:00:00Z',
        '2024-10-03T00:00:00Z',
      ]);
      await seed(uniqueId('other'), ['2024-10-01T12:00:00Z']);
      const del = await t.inject({ method: 'DELETE', url: `/api/v1/transactions/${ids[2] ?? ''}` });
      assert.equal(del.statusCode, 204);
      const ranged = (await page(user, 'from=2024-10-01&to=2024-10-02')).json<{ data: Row[] }>();
      assert.deepEqual(
        ranged.data.map((r) => r.id),
        [ids[1], ids[0]],
      );
      const credits = (await page(user, 'type=credit')).json<{ data: Row[] }>();
      assert.deepEqual(
        credits.data.map((r) => r.id),
        [ids[0]],
      );
      const all = (await page(user, '')).json<{ data: Row[]; next_cursor: string | null }>();
      assert.deepEqual(
        all.data.map((r) => r.id),
        [ids[3], ids[1], ids[0]],
      );
      assert.equal(all.next_cursor, null);
    });

    it('a user with no transactions gets data: []', async () => {
      const res = await page(uniqueId('nobody'), '');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { data: [], next_cursor: null });
    });

    it('limit above 200 or below 1 is 422; a bad or transplanted cursor is 400', async () => {
      const user = uniqueId('u');
      await seed(user, ['2024-10-01T00:00:00Z', '2024-10-02T00:00:00Z']);
      for (const query of [
        'limit=201',
        'limit=0',
        'limit=abc',
        'type=refund',
        'from=2024-13-01',
        'from=2024-10-05&to=2024-10-01',
        'bogus=1',
      ]) {
        const res = await page(user, query);
        assert.equal(res.statusCode, 422, query);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }
      const first = (await page(user, 'limit=1')).json<{ next_cursor: string }>();
      assert.equal(
        (await page(user, `limit=1&cursor=${encodeURIComponent(first.next_cursor)}`)).statusCode,
        200,
      );
      const forged = `${Buffer.from(JSON.stringify([0, 'x'])).toString('base64url')}.${first.next_cursor.split('.').slice(1).join('.')}`;
      for (const cursor of ['garbage', forged, `${first.next_cursor}x`]) {
        const res = await page(user, `limit=1&cursor=${encodeURIComponent(cursor)}`);
        assert.equal(res.statusCode, 400, cursor);
        assert.equal(res.json().code, 'invalid_cursor');
      }
      const elsewhere = await page(uniqueId('u'), `limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
      assert.equal(elsewhere.statusCode, 400, 'a cursor only pages the query that issued it');
      const invalidUser = await page('-bad-user', '');
      assert.equal(invalidUser.statusCode, 422);
    });
  });
}

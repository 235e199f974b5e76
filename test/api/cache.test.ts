import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import {
  eventually,
  newTransaction,
  requireEnv,
  startApp,
  twoInstancesSharingRedis,
  uniqueId,
  type StoreKind,
  type TestApp,
} from '../helpers.ts';

const NAME = 'Abena Owusu-Cache';

/** The user's history and analytics, as any client reads them. */
async function readBoth(t: TestApp, userId: string): Promise<{ history: string[]; count: number }> {
  const history = await t.inject({ method: 'GET', url: `/api/v1/users/${userId}/transactions` });
  assert.equal(history.statusCode, 200, history.body);
  const analytics = await t.inject({ method: 'GET', url: `/api/v1/users/${userId}/analytics` });
  assert.equal(analytics.statusCode, 200, analytics.body);
  const page = history.json<{ data: { transaction_amount: string }[] }>();
  return {
    history: page.data.map((row) => row.transaction_amount),
    count: analytics.json<{ transaction_count: number }>().transaction_count,
  };
}

async function create(t: TestApp, userId: string, amount: string): Promise<{ id: string }> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/transactions',
    payload: newTransaction(userId, { transaction_amount: amount, full_name: NAME }),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

const hits = (t: TestApp) => t.deps.metrics.get('cache_hits_total');

for (const [label, store, env] of [
  ['embedded store, in-memory cache', 'embedded', {}],
  ['MongoDB store, Redis cache', 'mongodb', { REDIS_URL: requireEnv('REDIS_URL') }],
] as const satisfies readonly (readonly [string, StoreKind, Record<string, string>])[]) {
  describe(`cache-aside reads (${label})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(store, { ...env, ANALYTICS_WAIT_MS: '0' });
    });
    after(() => t.close());

    it('serves a repeated read from the cache', async () => {
      const user = uniqueId('cached');
      await create(t, user, '10.00');
      const first = await readBoth(t, user);
      const before = hits(t);
      assert.deepEqual(await readBoth(t, user), first);
      assert.equal(hits(t) - before, 2, 'the history page and the analytics were both hits');
    });

    it("every write type makes that user's next history and analytics reflect it, and leaves other users cached", async () => {
      const [user, bystander] = [uniqueId('writer'), uniqueId('bystander')];
      const { id } = await create(t, user, '10.00');
      await create(t, bystander, '99.00');
      await readBoth(t, user);
      const bystanderView = await readBoth(t, bystander);
      const steps: [string, () => Promise<unknown>, { history: string[]; count: number }][] = [
        ['create', () => create(t, user, '20.00'), { history: ['20.00', '10.00'], count: 2 }],
        [
          'put',
          () =>
            t.inject({
              method: 'PUT',
              url: `/api/v1/transactions/${id}`,
              payload: { ...newTransaction(user, { transaction_amount: '11.00' }), user_id: user },
            }),
          { history: ['20.00', '11.00'], count: 2 },
        ],
        [
          'patch',
          () =>
            t.inject({
              method: 'PATCH',
              url: `/api/v1/transactions/${id}`,
              payload: { transaction_amount: '12.00' },
            }),
          { history: ['20.00', '12.00'], count: 2 },
        ],
        [
          'delete',
          () => t.inject({ method: 'DELETE', url: `/api/v1/transactions/${id}` }),
          { history: ['20.00'], count: 1 },
        ],
      ];
      for (const [write, run, expected] of steps) {
        await readBoth(t, user); // the cache holds the view before the write
        const res = (await run()) as { statusCode?: number };
        if (res.statusCode !== undefined) assert.ok(res.statusCode < 300, `${write} succeeded`);
        const view = await readBoth(t, user);
        assert.deepEqual(
          { history: [...view.history].sort().reverse(), count: view.count },
          { history: [...expected.history].sort().reverse(), count: expected.count },
          `after ${write}`,
        );
        const before = hits(t);
        assert.deepEqual(await readBoth(t, bystander), bystanderView, `bystander after ${write}`);
        assert.equal(hits(t) - before, 2, `the bystander's entries survived the ${write}`);
      }
    });

    it('fifty concurrent misses of one page cost one store read', async () => {
      const user = uniqueId('stampede');
      await create(t, user, '5.00');
      const transactions = t.deps.storage.transactions;
      const real = transactions.listByUser.bind(transactions);
      let reads = 0;
      transactions.listByUser = async (query) => {
        if (query.userId === user) reads += 1;
        return real(query);
      };
      try {
        const responses = await Promise.all(
          Array.from({ length: 50 }, () =>
            t.inject({ method: 'GET', url: `/api/v1/users/${user}/transactions?limit=7` }),
          ),
        );
        for (const res of responses) assert.equal(res.statusCode, 200);
        assert.equal(new Set(responses.map((r) => r.body)).size, 1, 'every reader got the same page');
        assert.equal(reads, 1);
      } finally {
        transactions.listByUser = real;
      }
    });

    it('expires entries after CACHE_TTL_MS and refreshes read entries in the background before that', async () => {
      const short = await startApp(store, {
        ...env,
        ANALYTICS_WAIT_MS: '0',
        CACHE_TTL_MS: '1500',
        CACHE_REFRESH_AFTER_MS: '500',
      });
      try {
        const user = uniqueId('ttl');
        await create(short, user, '7.00');
        const asOf = async () => {
          const res = await short.inject({ method: 'GET', url: `/api/v1/users/${user}/analytics` });
          assert.equal(res.statusCode, 200, res.body);
          return res.json<{ as_of: string }>().as_of;
        };
        const first = await asOf();
        assert.equal(await asOf(), first, 'a fresh entry is served as is');
        const refreshesBefore = short.deps.metrics.get('cache_refreshes_total');
        // past the refresh point a read is still answered from the entry, and refreshes it
        const refreshed = await eventually(async () => {
          const seen = await asOf();
          return seen !== first ? seen : undefined;
        }, 10_000);
        assert.ok(short.deps.metrics.get('cache_refreshes_total') > refreshesBefore);
        assert.ok(refreshed > first);
        // left unread past its TTL, the entry is gone: the next read is a miss
        const missesBefore = short.deps.metrics.get('cache_misses_total');
        const readAt = Date.now();
        await eventually(() => Promise.resolve(Date.now() - readAt > 1_600 ? true : undefined), 5_000);
        const afterExpiry = await asOf();
        assert.equal(short.deps.metrics.get('cache_misses_total') - missesBefore, 1);
        assert.ok(afterExpiry > refreshed);
      } finally {
        await short.close();
      }
    });
  });
}

describe('two API instances sharing one Redis', () => {
  const pair = twoInstancesSharingRedis();

  it("see each other's writes at once", async () => {
    const { a, b } = pair;
    const user = uniqueId('shared');
    await create(a, user, '1.00');
    assert.deepEqual(await readBoth(b, user), { history: ['1.00'], count: 1 });
    await readBoth(b, user); // cached in Redis now
    for (let i = 2; i <= 5; i++) {
      await create(a, user, `${i}.00`);
      const view = await readBoth(b, user);
      assert.equal(view.count, i, `instance b sees write ${i} of instance a`);
      assert.equal(view.history[0], `${i}.00`);
    }
  });

  it('recomputes a cached page that cannot be opened (tampered, or sealed under a retired key)', async () => {
    const { a, b } = pair;
    const user = uniqueId('unreadable');
    await create(a, user, '4.00');
    const first = await readBoth(a, user);
    const raw = createClient({ url: requireEnv('REDIS_URL') });
    await raw.connect();
    try {
      const keys = await eventually(async () => {
        const found = await raw.keys(`*{${user}}:e:history*`);
        return found.length > 0 ? found : undefined;
      });
      for (const key of keys) {
        const stored = (await raw.get(key)) ?? '';
        // change one character inside the sealed value's tag; generation and age stay valid
        const at = stored.length - 5;
        const changed = `${stored.slice(0, at)}${stored[at] === 'A' ? 'B' : 'A'}${stored.slice(at + 1)}`;
        await raw.set(key, changed, { expiration: { type: 'PX', value: 60_000 } });
      }
      // b: a still holds the page it computed, and never reads the stored copy back
      const misses = b.deps.metrics.get('cache_misses_total');
      assert.deepEqual(await readBoth(b, user), first);
      assert.equal(b.deps.metrics.get('cache_misses_total') - misses, 1, 'the page was recomputed');
    } finally {
      raw.destroy();
    }
  });

  it('keeps no customer name in clear in Redis', async () => {
    const { a, b } = pair;
    const user = uniqueId('private');
    await create(a, user, '3.00');
    await readBoth(a, user);
    await readBoth(b, user);
    const raw = createClient({ url: requireEnv('REDIS_URL') });
    await raw.connect();
    try {
      const keys = await eventually(async () => {
        const found = await raw.keys(`*${user}*`);
        return found.length >= 3 ? found : undefined;
      });
      for (const key of keys) {
        const value = (await raw.type(key)) === 'string' ? ((await raw.get(key)) ?? '') : '';
        assert.ok(!value.includes(NAME) && !value.includes('Abena'), `${key} holds no name`);
      }
    } finally {
      raw.destroy();
    }
  });
});
